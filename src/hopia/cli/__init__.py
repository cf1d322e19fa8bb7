"""Command-line interface (typer): thin callers of the axes. Messages are in French."""

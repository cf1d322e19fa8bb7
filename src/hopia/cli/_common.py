"""Shared CLI helpers: consoles, progress bars, turning Hopia errors into clean exits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from hopia.platform.exceptions import HopiaError

console = Console()
err_console = Console(stderr=True)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )


@contextmanager
def handle_errors() -> Iterator[None]:
    """A HopiaError is the user's problem to fix: print it plainly, exit 2, no traceback."""
    try:
        yield
    except HopiaError as exc:
        err_console.print(f"[red]Erreur :[/red] {exc}")
        raise typer.Exit(2) from exc

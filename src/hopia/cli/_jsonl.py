"""How the CLI shows a JSONL file run of a service (``pseudo run``, ``nlp extract``): a progress
bar over the input lines, and one warning per skipped line. Reading, validating and writing
the files is the services' job (:mod:`hopia.services._jsonl`)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from rich.markup import escape

from hopia.cli._common import progress_bar


@contextlib.contextmanager
def file_run_display(
    description: str, input_path: Path
) -> Iterator[tuple[Callable[[int, str], None], Callable[[int, int], None]]]:
    """``(on_line_error, on_progress)`` callbacks for a service's file run, drawn on stderr."""
    with progress_bar() as bar:
        task = bar.add_task(description, total=None)

        def on_line_error(lineno: int, reason: str) -> None:
            bar.console.print(
                f"[yellow]Ligne {lineno} ignorée[/yellow] ({escape(input_path.name)}) : "
                f"{escape(reason)}",
                highlight=False,
            )

        def on_progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield on_line_error, on_progress

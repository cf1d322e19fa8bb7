"""How the CLI shows a service's run: progress bars that appear with the first progress report
(an error found before any work — a missing key, a non-empty folder — prints alone), and, for
the JSONL file runs (``pseudo run``, ``nlp extract``), one warning per skipped line. Reading,
validating and writing the files is the services' job (:mod:`hopia.services.texts`)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, TaskID

from hopia.cli._common import progress_bar


class LazyProgress:
    """One bar per task name, drawn on stderr from the first :meth:`update` on."""

    def __init__(self) -> None:
        self._bar: Progress | None = None
        self._tasks: dict[str, TaskID] = {}

    @property
    def console(self) -> Console:
        """The console to print on while the bars are drawn (started if need be)."""
        return self._started().console

    def _started(self) -> Progress:
        if self._bar is None:
            self._bar = progress_bar()
            self._bar.start()
        return self._bar

    def update(self, name: str, done: int, total: int | None) -> None:
        bar = self._started()
        if name not in self._tasks:
            self._tasks[name] = bar.add_task(escape(name), total=total)
        bar.update(self._tasks[name], completed=done, total=total)

    def __enter__(self) -> LazyProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()


@contextlib.contextmanager
def file_run_display(
    description: str, input_path: Path
) -> Iterator[tuple[Callable[[int, str], None], Callable[[int, int], None]]]:
    """``(on_line_error, on_progress)`` callbacks for a service's JSONL file run."""
    with LazyProgress() as bars:

        def on_line_error(lineno: int, reason: str) -> None:
            bars.console.print(
                f"[yellow]Ligne {lineno} ignorée[/yellow] ({escape(input_path.name)}) : "
                f"{escape(reason)}",
                highlight=False,
            )

        def on_progress(done: int, total: int) -> None:
            bars.update(description, done, total)

        yield on_line_error, on_progress

"""Shared CLI helpers: consoles, progress bars, turning Hopia errors into clean exits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy.exc import SQLAlchemyError

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
    """A HopiaError is the user's problem to fix: print it plainly, exit 2, no traceback.

    A database error is shown by its driver message only: the engine hides statement
    parameters (``hide_parameters``), which may hold patient data."""
    try:
        yield
    except HopiaError as exc:
        err_console.print(f"[red]Erreur :[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    except SQLAlchemyError as exc:
        cause = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0]
        err_console.print(f"[red]Erreur de l'entrepôt :[/red] {escape(cause)}")
        raise typer.Exit(2) from exc

"""Shared CLI helpers: consoles, progress bars, the service context, and turning Hopia errors
into clean exits that name the command's own options.

The CLI is a composition root: it reads the settings once (:func:`context`) and hands a
:class:`~hopia.services.context.Context` to the services. Errors come back with the request
fields they concern (``reason``); :func:`handle_errors` phrases them for a terminal user by
naming the matching options (``--reason``), as a web front end would return the fields.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

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
from hopia.platform.extras import missing_extra
from hopia.platform.text import without_quoted
from hopia.services.context import Context

if TYPE_CHECKING:
    from hopia.platform.config import Settings
    from hopia.platform.warehouse import Warehouse

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


class _AnnouncedContext(Context):
    """A context that says, once, on stderr, which warehouse the command works on (so that a
    demo's warehouse and the default one are never confused)."""

    def warehouse(self, *, migrate: bool = True) -> Warehouse:
        first = self._warehouse is None
        wh = super().warehouse(migrate=migrate)
        if first:
            err_console.print(
                f"[dim]Entrepôt : {escape(wh.display_url)}[/dim]", highlight=False, soft_wrap=True
            )
        return wh


def context(actor: str | None = None) -> Context:
    """The local operator's context, from the process settings (read here, once)."""
    return _AnnouncedContext.local(settings(), actor)


def settings() -> Settings:
    """The process settings: the one place front ends read them (``hopia serve`` hands them to
    the web application)."""
    from hopia.platform.config import get_settings

    return get_settings()


def option_names(fields: tuple[str, ...], flags: Mapping[str, str] | None = None) -> list[str]:
    """The command-line options of request fields: ``max_suppression`` -> ``--max-suppression``,
    unless the command maps a field to another flag (``{"note_id": "--note-id"}``)."""
    flags = flags or {}
    return [flags.get(f, "--" + f.split(".")[0].replace("_", "-")) for f in fields]


@contextmanager
def handle_errors(flags: Mapping[str, str] | None = None) -> Iterator[None]:
    """A HopiaError is the user's problem to fix: print it plainly with the options concerned,
    exit 2, no traceback. So are a file the system refuses (exists, permissions, disk full) and
    an input nested too deep to read. Anything else is a bug: one French line, exit 3, the
    traceback only with ``HOPIA_DEBUG=1`` (:func:`internal_error`).

    A database error is shown by its driver message only: the engine hides statement
    parameters (``hide_parameters``), which may hold patient data."""
    try:
        yield
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise  # exits and usage errors: already phrased for the user
    except HopiaError as exc:
        err_console.print(
            f"[red]Erreur :[/red] {escape(render(exc, flags))}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(2) from exc
    except SQLAlchemyError as exc:
        cause = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0]
        # a driver's message may quote a value (a duplicate key: an IPP): never shown
        err_console.print(f"[red]Erreur de l'entrepôt :[/red] {escape(without_quoted(cause))}")
        raise typer.Exit(2) from exc
    except ModuleNotFoundError as exc:
        problem = missing_extra(exc)
        if problem is None:
            internal_error(exc)
        err_console.print(f"[red]Erreur :[/red] {escape(str(problem))}", highlight=False)
        raise typer.Exit(2) from exc
    except OSError as exc:
        err_console.print(f"[red]Erreur :[/red] {escape(os_error(exc))}", highlight=False)
        raise typer.Exit(2) from exc
    except RecursionError as exc:
        err_console.print(
            "[red]Erreur :[/red] entrée imbriquée trop profondément pour être lue (listes ou "
            "objets emboîtés sur des milliers de niveaux) : simplifiez-la.",
            highlight=False,
        )
        raise typer.Exit(2) from exc
    except Exception as exc:  # noqa: BLE001 - a bug: said in French, exit 3
        internal_error(exc)


# errno -> what the system refused, in French (the OS's own strerror is English).
_ERRNO_FR = {
    errno.EEXIST: "existe déjà",
    errno.ENOENT: "introuvable",
    errno.EACCES: "accès refusé (droits du fichier ou du dossier)",
    errno.EPERM: "opération non permise",
    errno.EISDIR: "est un dossier, un fichier est attendu",
    errno.ENOTDIR: "n'est pas un dossier",
    errno.ENOSPC: "plus de place sur le disque",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.ENOTEMPTY: "dossier non vide",
    errno.ENAMETOOLONG: "nom trop long",
    errno.EMFILE: "trop de fichiers ouverts",
}


def os_error(exc: OSError) -> str:
    """An OSError in French, naming the file(s) concerned."""
    what = _ERRNO_FR.get(exc.errno or -1) or f"erreur système {exc.errno or ''}".strip()
    names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
    return f"{' -> '.join(names)} : {what}" if names else f"fichier ou dossier : {what}"


def internal_error(exc: BaseException) -> NoReturn:
    """A bug, not the user's doing: one French line and exit 3; ``HOPIA_DEBUG=1`` re-raises it
    for the traceback."""
    if os.environ.get("HOPIA_DEBUG"):
        raise exc
    err_console.print(
        f"[red]Erreur interne inattendue[/red] ({escape(type(exc).__name__)}) : "
        f"{escape(without_quoted(str(exc), 300))}. Relancez avec HOPIA_DEBUG=1 pour afficher "
        "la trace, et signalez-la à l'équipe Hopia.",
        highlight=False,
    )
    raise typer.Exit(3) from exc


def render(exc: HopiaError, flags: Mapping[str, str] | None = None) -> str:
    """The error's message, followed by the options to change when it names request fields."""
    if not exc.fields:
        return exc.message
    options = ", ".join(dict.fromkeys(option_names(exc.fields, flags)))
    return f"{exc.message} [option(s) : {options}]"

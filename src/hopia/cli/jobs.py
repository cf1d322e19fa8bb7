"""``hopia jobs``: background jobs (list, show, cancel) and the foreground worker.

A thin adapter over :mod:`hopia.services.jobs`: the web platform submits the jobs (an upload's
ingest, a quality run, an export); here an operator follows them, cancels one, or runs a worker
(``hopia jobs worker``: the jobs of the warehouse, or of the Redis queue when
``jobs.broker_url`` is set).
"""

from __future__ import annotations

import json
import signal
from datetime import datetime
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from hopia.cli._common import console, context, err_console, handle_errors

app = typer.Typer(
    help="Tâches de fond : intégrations, contrôles de qualité, exports.", no_args_is_help=True
)

_FLAGS = {"job_id": "ID", "status": "--status", "kind": "--kind"}


def _when(value: datetime | None) -> str:
    """A UTC time in the machine's local time, as people read it."""
    return "" if value is None else f"{value.astimezone():%d/%m/%Y %H:%M:%S}"


def _progress(view: Any) -> str:  # JobView, imported lazily
    p = view.progress
    if p.total:
        text = f"{p.done}/{p.total} ({p.percent:.0f} %)".replace(".", ",")
    elif p.done:
        text = str(p.done)
    else:
        text = ""
    if p.label and not view.finished:
        text = f"{p.label} {text}".strip()
    return text


_STATUS_STYLE = {
    "queued": "yellow",
    "running": "cyan",
    "succeeded": "green",
    "failed": "red",
    "cancelled": "dim",
}


@app.command("list")
def list_jobs(
    status: list[str] | None = typer.Option(
        None,
        "--status",
        help="Seulement ce statut : queued, running, succeeded, failed, cancelled (répétable).",
    ),
    kind: list[str] | None = typer.Option(
        None,
        "--kind",
        help="Seulement ce type : ingest, quality, share_export, collection_add (répétable).",
    ),
    limit: int = typer.Option(50, "--limit", min=1, max=1000, help="Nombre de tâches."),
    mine: bool = typer.Option(False, "--mine", help="Seulement mes tâches."),
) -> None:
    """Les dernières tâches, les plus récentes d'abord."""
    from hopia.services import jobs

    with handle_errors(_FLAGS), context() as ctx:
        request = jobs.ListRequest.of(
            status=tuple(status or ()), kind=tuple(kind or ()), limit=limit, mine=mine
        )
        views = jobs.list_jobs(ctx, request)
    if not views:
        console.print("Aucune tâche.")
        return
    table = Table(title=f"Tâches ({len(views)})")
    for name in ("Identifiant", "Type", "Statut", "Progression", "Créée le", "Par"):
        table.add_column(name, no_wrap=name in ("Identifiant", "Créée le"))
    for v in views:
        style = _STATUS_STYLE.get(v.status, "")
        table.add_row(
            v.id,
            escape(v.kind_label),
            f"[{style}]{escape(v.status_label)}[/{style}]",
            escape(_progress(v)),
            _when(v.created_at),
            escape(v.owner),
        )
    console.print(table)


@app.command("show")
def show(job_id: str = typer.Argument(..., metavar="ID", help="Identifiant de la tâche.")) -> None:
    """Le détail d'une tâche : statut, progression, résultat ou erreur."""
    from hopia.services import jobs

    with handle_errors(_FLAGS), context() as ctx:
        v = jobs.get(ctx, job_id)
    table = Table(title=f"Tâche {v.id}", show_header=False)
    table.add_row("Type", escape(f"{v.kind_label} ({v.kind})"))
    style = _STATUS_STYLE.get(v.status, "")
    status = escape(v.status_label) + (
        " — annulation demandée" if v.cancel_requested and not v.finished else ""
    )
    table.add_row("Statut", f"[{style}]{status}[/{style}]")
    table.add_row("Par", escape(v.owner))
    if _progress(v):
        table.add_row("Progression", escape(_progress(v)))
    table.add_row("Créée le", _when(v.created_at))
    if v.started_at:
        table.add_row("Commencée le", _when(v.started_at))
    if v.finished_at:
        table.add_row("Finie le", _when(v.finished_at))
    elif v.heartbeat_at:
        table.add_row("Dernier signe de vie", _when(v.heartbeat_at))
    if v.worker:
        table.add_row("Exécutée par", escape(v.worker))
    if v.parameters:
        table.add_row("Paramètres", escape(_json(v.parameters)))
    if v.error:
        table.add_row("Erreur", f"[red]{escape(v.error.message)}[/red] ({escape(v.error.code)})")
    if v.result:
        table.add_row("Résultat", escape(_json(v.result)))
    console.print(table)


def _json(value: dict[str, Any]) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=1, default=str)
    return text if len(text) <= 4000 else text[:4000] + " …"


@app.command("cancel")
def cancel(
    job_id: str = typer.Argument(..., metavar="ID", help="Identifiant de la tâche."),
) -> None:
    """Annuler une tâche : tout de suite si elle attend, à sa prochaine étape si elle tourne."""
    from hopia.services import jobs

    with handle_errors(_FLAGS), context() as ctx:
        v = jobs.cancel(ctx, job_id)
    if v.status == "cancelled":
        console.print(f"Tâche {v.id} annulée.")
    else:
        console.print(
            f"Annulation demandée : la tâche {v.id} ({escape(v.status_label)}) s'arrêtera à sa "
            "prochaine étape."
        )


@app.command("worker")
def worker(
    burst: bool = typer.Option(
        False, "--burst", help="S'arrêter quand plus aucune tâche n'attend (scripts, essais)."
    ),
    threads: int | None = typer.Option(
        None,
        "--threads",
        min=1,
        max=16,
        help="Tâches exécutées à la fois, sans Redis (défaut : réglage jobs.threads).",
    ),
) -> None:
    """Exécuter les tâches en attente, au premier plan (Ctrl+C : finir la tâche en cours puis
    s'arrêter)."""
    from hopia.services import jobs

    def ready(description: str) -> None:
        err_console.print(
            f"Exécuteur de tâches prêt : {escape(description)} (Ctrl+C pour arrêter).",
            highlight=False,
        )

    # SIGTERM as Ctrl+C: the jobs at hand finish, then the worker stops (RQ's worker installs
    # its own handlers, to the same effect).
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with handle_errors(_FLAGS), context() as ctx:
            done = jobs.work(ctx, burst=burst, threads=threads, on_start=ready)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if done is not None:
        from hopia.services.jobs import STATUS_FR

        counts = ", ".join(f"{n} {STATUS_FR[s]}" for s, n in sorted(done.items()) if n)
        console.print(
            f"{sum(done.values())} tâche(s) exécutée(s)" + (f" : {counts}." if counts else ".")
        )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt

"""Reading ingest runs (``omop.hopia_run``) as they are: a run whose process died is failed.

A run is ``running`` from its start to its end, when its own process closes it. A process killed
(kill -9, machine lost) leaves it ``running`` for ever. Whoever reads the runs (the runs list, the
warehouse figures, a web jobs page) must not show it running: it is dead when no writing job
holds the warehouse (:func:`hopia.platform.warehouse._locks.job_alive`: DuckDB's file lock, which
this reader's own connection proves free; PostgreSQL's job lock, looked up in ``pg_locks``; the
jobs of this process).

The runs are read first and the lock looked at after: a run started after the read is not in
the list, and a run that ended in between is closed by a conditional update
(``status = 'running'``), so a live run is never marked. A reader that can write marks the dead
runs ``failed`` in the table; one that cannot (a read-only connection, a role without UPDATE)
reports them failed ("interrompue") all the same and leaves the table to the next writer.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import SQLAlchemyError

from hopia.platform.warehouse import Warehouse, schema
from hopia.platform.warehouse._locks import job_alive

DEAD_SUMMARY = "interrompu : le processus s'est arrêté avant la fin (tué ou machine arrêtée)"
# What a person reads for each status; a dead run reads "interrompue".
STATUS_FR = {"running": "en cours", "done": "terminée", "failed": "échouée"}


@dataclass(frozen=True)
class RunInfo:
    """One ingest run as it stands: a dead one has status ``failed`` and ``dead`` true."""

    run_id: int
    command: str
    system: str
    started_at: datetime
    finished_at: datetime | None
    status: str  # running | done | failed
    summary: str | None
    dead: bool = False  # its process died; marked failed now, or already by an earlier reader

    @property
    def state(self) -> str:
        """In French, for the person reading: en cours, terminée, échouée, interrompue."""
        if self.dead or (self.status == "failed" and self.summary == DEAD_SUMMARY):
            return "interrompue"
        return STATUS_FR.get(self.status, self.status)


def list_runs(wh: Warehouse, limit: int | None = None) -> list[RunInfo]:
    """The runs, newest first (``limit`` of them), dead ones failed: marked in the table when
    this reader can write, reported as failed either way."""
    run = schema.run
    query = select(run).order_by(run.c.run_id.desc())
    if limit is not None:
        query = query.limit(limit)
    with wh.engine.connect() as conn:
        rows = [RunInfo(**dict(r)) for r in conn.execute(query).mappings()]
        running = [r.run_id for r in rows if r.status == "running"]
        dead = set(running) if running and not job_alive(conn, wh.url) else set()
    if dead:
        finished = _mark_failed(wh, sorted(dead))
        rows = [
            replace(
                r,
                status="failed",
                summary=DEAD_SUMMARY,
                finished_at=finished or r.finished_at,
                dead=True,
            )
            if r.run_id in dead
            else r
            for r in rows
        ]
    return rows


def run_counts(wh: Warehouse) -> Counter[str]:
    """Runs by French state (``terminée``, ``interrompue``…), dead runs counted as such."""
    return Counter(r.state for r in list_runs(wh))


def _mark_failed(wh: Warehouse, run_ids: list[int]) -> datetime | None:
    """Close dead runs in the table (only those still running); the time written, or None when
    this reader may not write (then the next writer does it)."""
    now = datetime.now()
    try:
        with wh.begin() as conn:
            _update(conn, run_ids, now)
    except SQLAlchemyError:
        return None
    return now


def _update(conn: Connection, run_ids: list[int], now: datetime) -> None:
    run = schema.run
    conn.execute(
        update(run)
        .where(run.c.run_id.in_(run_ids), run.c.status == "running")
        .values(finished_at=now, status="failed", summary=DEAD_SUMMARY)
    )

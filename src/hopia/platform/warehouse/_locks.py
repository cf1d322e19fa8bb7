"""Who holds the warehouse: one writing job at a time, and a French error naming it.

DuckDB (checked on 2.0): a process that opens the file read-write holds an exclusive OS lock
on it for as long as it stays open; any other process is refused, even a read-only
connection ("IO Error: Could not set lock on file … Conflicting lock is held in … (PID n)").
Read-only connections can only share the file with other read-only ones. So a report cannot be
read while an ingest writes: it is refused with :class:`~hopia.platform.exceptions.
WarehouseBusyError`, whose message names the job that holds the file (translated here, for
every connection, through SQLAlchemy's ``handle_error`` hook).

The job is named from a small file beside the database (``<file>.hopia-job.json``: kind, run
id, process id, host, start), written by :meth:`Warehouse.exclusive` while a job runs and
removed at its end. It is trusted only when its process id is the one DuckDB reports.

PostgreSQL lets readers read during an ingest. Two writing jobs (two ingests) are kept apart on
both engines by :meth:`Warehouse.exclusive`: DuckDB's file lock between processes (and a
registry within one process), a session-level advisory lock on PostgreSQL. The lock dies with
its process, which also tells when a run still marked ``running`` is dead: whoever holds the
lease knows that no other job is alive.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.engine import ExceptionContext, make_url

from hopia.platform.exceptions import WarehouseBusyError
from hopia.platform.warehouse import schema

JOB_LOCK_KEY = 0x486F70696A  # "Hopij": held for the whole of a writing job (an ingest)
_DUCKDB_CONFLICT = "Could not set lock on file"
_DUCKDB_HOLDER = re.compile(r"Conflicting lock is held in .* \(PID (\d+)\)")
_ACTIVE: dict[str, Job] = {}  # jobs of this process, by warehouse URL
_ACTIVE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Job:
    """A writing job holding the warehouse."""

    kind: str  # a French feminine noun: "ingestion"
    pid: int
    host: str
    started: str  # ISO date-time
    run_id: int | None = None

    @classmethod
    def mine(cls, kind: str) -> Job:
        return cls(
            kind, os.getpid(), socket.gethostname(), datetime.now().isoformat("T", "seconds")
        )

    def describe(self) -> str:
        """French, for the person refused: what runs, since when, in which process."""
        number = f" n° {self.run_id}" if self.run_id is not None else ""
        try:
            when = datetime.fromisoformat(self.started).strftime("le %d/%m/%Y à %H:%M:%S")
        except ValueError:
            when = self.started
        name = f"l'{self.kind}" if self.kind[:1] in "aeiouéh" else f"la {self.kind}"
        return f"{name}{number} commencée {when} (processus {self.pid} sur {self.host})"


def job_file(url: str) -> Path | None:
    """Where a DuckDB warehouse's current job is described; None for other engines."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "duckdb" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(f"{parsed.database}.hopia-job.json")


def _write_job(path: Path, job: Job) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(asdict(job), fh)
    os.replace(tmp, path)  # whole or absent: a reader never sees half a description


def read_job(path: Path | None) -> Job | None:
    if path is None:
        return None
    try:
        values: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return Job(**values)
    except (OSError, ValueError, TypeError):
        return None


def busy_message(display_url: str, holder: str) -> str:
    return (
        f"l'entrepôt {display_url} est en cours d'utilisation par {holder} ; "
        "réessayez quand ce traitement sera terminé"
    )


def translate_lock_error(url: str, display_url: str) -> Callable[[ExceptionContext], None]:
    """A ``handle_error`` hook turning DuckDB's lock conflict into WarehouseBusyError."""

    def hook(context: ExceptionContext) -> None:
        message = str(context.original_exception)
        if _DUCKDB_CONFLICT not in message:
            return
        found = _DUCKDB_HOLDER.search(message)
        pid = int(found.group(1)) if found else None
        job = read_job(job_file(url))
        if job is not None and (pid is None or job.pid != pid):
            job = None  # a description left by a job that is gone: not the holder
        holder = job.describe() if job else f"le processus {pid}" if pid else "un autre processus"
        raise WarehouseBusyError(busy_message(display_url, holder)) from None

    return hook


class Lease:
    """The lease of a writing job; :meth:`describe` names its run once it has one."""

    def __init__(self, url: str, job: Job) -> None:
        self.url = url
        self.job = job
        self.path = job_file(url)

    def describe(self, run_id: int) -> None:
        self.job = Job(self.job.kind, self.job.pid, self.job.host, self.job.started, run_id)
        with _ACTIVE_LOCK:
            _ACTIVE[self.url] = self.job
        if self.path is not None:
            _write_job(self.path, self.job)


@contextlib.contextmanager
def exclusive(engine: Engine, url: str, display_url: str, kind: str) -> Iterator[Lease]:
    """Hold the warehouse for one writing job, or raise WarehouseBusyError naming the job that
    holds it."""
    with _ACTIVE_LOCK:
        other = _ACTIVE.get(url)
        if other is not None:
            raise WarehouseBusyError(busy_message(display_url, other.describe()))
        job = _ACTIVE[url] = Job.mine(kind)
    try:
        # A connection held for the whole job: DuckDB's file lock, PostgreSQL's session lock.
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                _pg_lock(conn, display_url)
            lease = Lease(url, job)
            if lease.path is not None:
                _write_job(lease.path, job)
            try:
                yield lease
            finally:
                if lease.path is not None:
                    with contextlib.suppress(OSError):
                        lease.path.unlink()
                if conn.dialect.name == "postgresql":
                    with contextlib.suppress(Exception):
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": JOB_LOCK_KEY})
                        conn.commit()
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE.pop(url, None)


def job_alive(conn: Connection, url: str) -> bool:
    """Whether a writing job holds the warehouse of ``conn`` now: one of this process, or (on
    PostgreSQL) any session holding the job lock on this database. On DuckDB, ``conn`` being
    open proves that no other process holds the file, so only this process's jobs count.
    Looking never takes the lock."""
    with _ACTIVE_LOCK:
        if url in _ACTIVE:
            return True
    if conn.dialect.name != "postgresql":
        return False
    # A bigint advisory key shows as classid (high half), objid (low half), objsubid 1.
    held = conn.execute(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid = :high AND objid = :low AND objsubid = 1"
        ),
        {"high": JOB_LOCK_KEY >> 32, "low": JOB_LOCK_KEY & 0xFFFFFFFF},
    ).scalar()
    return bool(held)


def _pg_lock(conn: Connection, display_url: str) -> None:
    got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": JOB_LOCK_KEY}).scalar()
    conn.commit()  # the lock is the session's: it outlives this transaction
    if not got:
        raise WarehouseBusyError(busy_message(display_url, _running_run(conn)))


def _running_run(conn: Connection) -> str:
    """The run that holds the lock, as hopia_run records it (its command names the process)."""
    run = schema.run
    row = conn.execute(
        select(run.c.run_id, run.c.started_at, run.c.command)
        .where(run.c.status == "running")
        .order_by(run.c.started_at.desc())
        .limit(1)
    ).first()
    conn.rollback()
    if row is None:
        return "une autre ingestion (qui démarre)"
    when = row.started_at.strftime("le %d/%m/%Y à %H:%M:%S")
    return f"l'ingestion n° {row.run_id} commencée {when} ({row.command})"

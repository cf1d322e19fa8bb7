"""The job store: ``hopia_meta.job`` rows, written and read whatever runs the jobs.

The warehouse, not a process's memory, holds every job: a page reloaded, a second web worker,
``hopia jobs show`` in a terminal all read the same row. The runners (:mod:`.runner`,
:mod:`.broker`) only move a job through its states here:

    queued ──claim──► running ──finish──► succeeded | failed | cancelled
       └──────────────cancel─────────────► cancelled

No job stays ``running`` forever: every read looks at the running rows it returns, and one whose
worker process is gone from this host, or whose heartbeat is older than ``stale_after_s``
(another host's worker, a frozen machine), is written ``failed`` with the code ``interrupted``
and a French message, in the transaction of that read. A worker that comes back after that
finds its row no longer running: its late result is not written over the failure.

Writes are serialised: on PostgreSQL by :meth:`Warehouse.begin`'s transaction lock, within a
process by one lock (DuckDB refuses two threads updating one row at once).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Row, select, update
from sqlalchemy.exc import DBAPIError

from hopia.platform.jobs.model import (
    INTERRUPTED,
    JobRecord,
    JobStatus,
    WorkerId,
    utcnow,
)
from hopia.platform.warehouse import Warehouse, schema

T = TypeVar("T")
_WRITES = threading.RLock()  # one job-store transaction at a time in this process
MAX_MESSAGE_CHARS = 2000
MAX_LABEL_CHARS = 200


def dumps(value: Any) -> str:
    """Canonical JSON of parameters and results (stable, readable: French stays as is)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host still runs (a zombie, killed but not yet reaped by
    its parent, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (not Linux): the signal said alive
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


class JobStore:
    """Reads and writes jobs in ``warehouse``; ``stale_after_s``: the age of the last heartbeat
    past which a running job is read as interrupted."""

    def __init__(self, warehouse: Warehouse, stale_after_s: float) -> None:
        self.wh = warehouse
        self.stale_after = timedelta(seconds=stale_after_s)
        self.host = socket.gethostname()[:255]

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction of the job store (the service adds its audit entry in it)."""
        with _WRITES, self.wh.begin() as conn:
            yield conn

    def write(self, body: Callable[[Connection], T], attempts: int = 4) -> T:
        """``body`` in a :meth:`transaction`, run again when DuckDB refuses the commit for a
        concurrent one of this process (two threads appending to the audit log at once: a
        web request's entry and a running job's). PostgreSQL serialises writers itself."""
        for attempt in range(1, attempts + 1):
            try:
                with self.transaction() as conn:
                    return body(conn)
            except DBAPIError as exc:
                if self.wh.dialect != "duckdb" or attempt == attempts:
                    raise
                if "TransactionContext Error" not in str(exc.orig):
                    raise
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- writing --------------------------------------------------------------------------------

    @staticmethod
    def insert(
        conn: Connection,
        *,
        job_id: str,
        kind: str,
        owner: str,
        actor: str,
        roles: Sequence[str],
        parameters: dict[str, Any],
    ) -> None:
        """A new queued job, in the caller's transaction (see :meth:`transaction`)."""
        conn.execute(
            schema.job.insert().values(
                job_id=job_id,
                kind=kind,
                owner=owner,
                actor=actor,
                roles=dumps(sorted(roles)),
                parameters=dumps(parameters),
                status=JobStatus.QUEUED.value,
                progress_done=0,
                cancel_requested=False,
                created_at=utcnow(),
            )
        )

    def claim(self, job_id: str, worker: WorkerId) -> JobRecord | None:
        """Mark ``job_id`` running in ``worker``, if it is still queued; the job, or None when
        it is not (cancelled meanwhile, already claimed, unknown)."""
        with self.transaction() as conn:
            status = conn.execute(
                select(schema.job.c.status).where(schema.job.c.job_id == job_id)
            ).scalar()
            if status != JobStatus.QUEUED.value:
                return None
            now = utcnow()
            conn.execute(
                update(schema.job)
                .where(schema.job.c.job_id == job_id)
                .values(
                    status=JobStatus.RUNNING.value,
                    started_at=now,
                    heartbeat_at=now,
                    worker_host=worker.host[:255],
                    worker_pid=worker.pid,
                )
            )
            return self._one(conn, job_id)

    def claim_next(
        self, worker: WorkerId, *, exclude_kinds: Sequence[str] = ()
    ) -> JobRecord | None:
        """Claim the oldest queued job (of a kind not in ``exclude_kinds``), or None."""
        job = schema.job
        query = select(job.c.job_id).where(job.c.status == JobStatus.QUEUED.value)
        if exclude_kinds:
            query = query.where(job.c.kind.not_in(list(exclude_kinds)))
        with self.wh.engine.connect() as conn:
            ids = conn.execute(query.order_by(job.c.created_at).limit(5)).scalars().all()
        for job_id in ids:
            claimed = self.claim(job_id, worker)
            if claimed is not None:
                return claimed
        return None

    def heartbeat(self, job_id: str, worker: WorkerId) -> bool | None:
        """The running job is alive; whether its cancellation was asked, or None when the row
        is no longer this worker's running job (interrupted by a reader, cancelled)."""
        job = schema.job
        with self.transaction() as conn:
            row = conn.execute(
                select(job.c.status, job.c.cancel_requested, job.c.worker_pid).where(
                    job.c.job_id == job_id
                )
            ).first()
            if row is None or row.status != JobStatus.RUNNING.value or row.worker_pid != worker.pid:
                return None
            conn.execute(update(job).where(job.c.job_id == job_id).values(heartbeat_at=utcnow()))
            return bool(row.cancel_requested)

    def progress(self, job_id: str, done: int, total: int | None, label: str | None) -> None:
        """Where the running job is (``done`` of ``total``, a French label)."""
        job = schema.job
        with self.transaction() as conn:
            conn.execute(
                update(job)
                .where(job.c.job_id == job_id, job.c.status == JobStatus.RUNNING.value)
                .values(
                    progress_done=max(0, int(done)),
                    progress_total=None if total is None else max(0, int(total)),
                    progress_label=None if label is None else label[:MAX_LABEL_CHARS],
                    heartbeat_at=utcnow(),
                )
            )

    def finish(
        self,
        job_id: str,
        status: JobStatus,
        *,
        result: dict[str, Any] | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> bool:
        """Close the running job; False when it was no longer running (read as interrupted
        meanwhile: the failure stands)."""
        job = schema.job
        with self.transaction() as conn:
            status_now = conn.execute(select(job.c.status).where(job.c.job_id == job_id)).scalar()
            if status_now != JobStatus.RUNNING.value:
                return False
            conn.execute(
                update(job)
                .where(job.c.job_id == job_id)
                .values(
                    status=status.value,
                    finished_at=utcnow(),
                    result=None if result is None else dumps(result),
                    error_code=error_code,
                    error_message=None
                    if error_message is None
                    else error_message[:MAX_MESSAGE_CHARS],
                )
            )
            return True

    def fail_queued(self, job_id: str, code: str, message: str) -> None:
        """A queued job that no worker will ever see (its queue refused it) is failed."""
        job = schema.job
        with self.transaction() as conn:
            conn.execute(
                update(job)
                .where(job.c.job_id == job_id, job.c.status == JobStatus.QUEUED.value)
                .values(
                    status=JobStatus.FAILED.value,
                    finished_at=utcnow(),
                    error_code=code,
                    error_message=message[:MAX_MESSAGE_CHARS],
                )
            )

    def cancel(
        self,
        job_id: str,
        message: str,
        then: Callable[[Connection, JobRecord], None] | None = None,
    ) -> JobRecord | None:
        """Cancel ``job_id``: a queued job at once (``cancelled``, with ``message``), a running
        one at its next progress report (its runner sees the request with its heartbeat). The
        job as it now stands; None when unknown. ``then(conn, job)`` runs in the same
        transaction, with the job as it was (the service's audit entry)."""
        return self.write(lambda conn: self._cancel(conn, job_id, message, then))

    def _cancel(
        self,
        conn: Connection,
        job_id: str,
        message: str,
        then: Callable[[Connection, JobRecord], None] | None,
    ) -> JobRecord | None:
        job = schema.job
        record = self._one(conn, job_id)
        if record is None:
            return None
        if then is not None:
            then(conn, record)
        if record.status is JobStatus.QUEUED:
            conn.execute(
                update(job)
                .where(job.c.job_id == job_id)
                .values(
                    status=JobStatus.CANCELLED.value,
                    finished_at=utcnow(),
                    cancel_requested=True,
                    error_code="cancelled",
                    error_message=message[:MAX_MESSAGE_CHARS],
                )
            )
        elif record.status is JobStatus.RUNNING:
            conn.execute(update(job).where(job.c.job_id == job_id).values(cancel_requested=True))
        return self._one(conn, job_id)

    # -- reading --------------------------------------------------------------------------------

    def get(self, job_id: str) -> JobRecord | None:
        """The job, a dead running one written ``failed`` first."""
        with self.wh.engine.connect() as conn:
            record = self._one(conn, job_id)
        if record is not None and self._dying([record]):
            with self.transaction() as conn:  # read again under the lock, then reap
                fresh = self._one(conn, job_id)
                if fresh is not None and fresh.status is JobStatus.RUNNING:
                    self._reap(conn, [fresh])
                record = self._one(conn, job_id)
        return record

    def list(
        self,
        *,
        owner: str | None = None,
        statuses: Sequence[JobStatus] = (),
        kinds: Sequence[str] = (),
        limit: int = 50,
    ) -> list[JobRecord]:
        """The latest jobs, newest first (of ``owner`` only when given); dead running ones are
        written ``failed`` first."""
        job = schema.job
        query = select(job)
        if owner is not None:
            query = query.where(job.c.owner == owner)
        if statuses:
            query = query.where(job.c.status.in_([s.value for s in statuses]))
        if kinds:
            query = query.where(job.c.kind.in_(list(kinds)))
        query = query.order_by(job.c.created_at.desc(), job.c.job_id).limit(limit)
        # A plain read (no writer lock: a web page polls it); the lock only to reap.
        with self.wh.engine.connect() as conn:
            records = [_decode(r) for r in conn.execute(query)]
        dying = self._dying(records)
        if not dying:
            return records
        with self.transaction() as conn:
            rows = conn.execute(select(job).where(job.c.job_id.in_(dying)))
            self._reap(conn, [r for r in map(_decode, rows) if r.status is JobStatus.RUNNING])
            return [_decode(r) for r in conn.execute(query)]

    def _dying(self, records: Sequence[JobRecord]) -> list[str]:
        now = utcnow()
        return [
            r.job_id
            for r in records
            if r.status is JobStatus.RUNNING and self._death(r, now) is not None
        ]

    def reap(self) -> list[str]:
        """Write ``failed`` every dead running job; their ids (a worker calls it as it starts)."""
        job = schema.job
        with self.transaction() as conn:
            rows = conn.execute(select(job).where(job.c.status == JobStatus.RUNNING.value))
            return self._reap(conn, [_decode(r) for r in rows])

    def _reap(self, conn: Connection, running: Sequence[JobRecord]) -> list[str]:
        now = utcnow()
        dead = []
        for record in running:
            why = self._death(record, now)
            if why is None:
                continue
            conn.execute(
                update(schema.job)
                .where(
                    schema.job.c.job_id == record.job_id,
                    schema.job.c.status == JobStatus.RUNNING.value,
                )
                .values(
                    status=JobStatus.FAILED.value,
                    finished_at=now,
                    error_code=INTERRUPTED,
                    error_message=why,
                )
            )
            dead.append(record.job_id)
        return dead

    def _death(self, record: JobRecord, now: datetime) -> str | None:
        """Why the running ``record`` is dead (French), or None while it may be alive."""
        worker = record.worker
        if worker is not None and worker.host == self.host and not pid_alive(worker.pid):
            return (
                "interrompu : le processus qui exécutait la tâche s'est arrêté avant la fin "
                f"({worker} ; tué ou machine arrêtée)"
            )
        beat = record.heartbeat_at or record.started_at or record.created_at
        silent = now - beat
        if silent > self.stale_after:
            where = f" ({worker})" if worker is not None else ""
            return (
                "interrompu : la tâche ne donne plus signe de vie depuis "
                f"{int(silent.total_seconds())} s{where} ; son processus s'est arrêté ou a "
                "perdu l'entrepôt"
            )
        return None

    @staticmethod
    def _one(conn: Connection, job_id: str) -> JobRecord | None:
        row = conn.execute(select(schema.job).where(schema.job.c.job_id == job_id)).first()
        return None if row is None else _decode(row)


def _clip(text: str | None, limit: int) -> str | None:
    return None if text is None else text[:limit]


def _decode(row: Row[Any]) -> JobRecord:
    m = row._mapping
    worker = (
        WorkerId(m["worker_host"], int(m["worker_pid"]))
        if m["worker_host"] is not None and m["worker_pid"] is not None
        else None
    )
    return JobRecord(
        job_id=m["job_id"],
        kind=m["kind"],
        owner=m["owner"],
        actor=m["actor"],
        roles=tuple(json.loads(m["roles"])),
        parameters=json.loads(m["parameters"]),
        status=JobStatus(m["status"]),
        progress_done=int(m["progress_done"]),
        progress_total=None if m["progress_total"] is None else int(m["progress_total"]),
        progress_label=m["progress_label"],
        result=None if m["result"] is None else json.loads(m["result"]),
        error_code=m["error_code"],
        error_message=m["error_message"],
        cancel_requested=bool(m["cancel_requested"]),
        created_at=m["created_at"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        heartbeat_at=m["heartbeat_at"],
        worker=worker,
    )

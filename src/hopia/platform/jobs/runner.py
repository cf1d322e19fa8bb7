"""Running jobs: the executor every runner shares, and the embedded runner (a thread pool).

:class:`JobExecutor` runs one claimed job: a heartbeat thread keeps its row alive (and brings
back a cancellation request), the handler reports progress through :class:`JobControl`, and the
outcome is written once — the handler's result (``succeeded``), a French error with its code
(``failed``), or ``cancelled``. What a job does is the handler's business: the services give
one per kind (:mod:`hopia.services.jobs`); the platform knows none of them.

:class:`EmbeddedRunner` needs no other service: threads of the process that serves (or of
``hopia jobs worker``) take queued jobs from the store, oldest first. On DuckDB it must be the
serving process: the file admits a single read-write process. Kinds that hold the warehouse for
their whole run (an ingest) run one at a time per runner; a second process's ingest on the
same PostgreSQL warehouse is refused by the warehouse's lease and fails naming the first.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from hopia.platform.exceptions import HopiaError, JobCancelledError
from hopia.platform.extras import missing_extra
from hopia.platform.jobs.model import (
    CANCELLED,
    INTERNAL,
    INTERRUPTED,
    JobRecord,
    JobStatus,
    WorkerId,
)
from hopia.platform.jobs.store import JobStore
from hopia.platform.text import without_quoted

log = logging.getLogger("hopia.jobs")

Handler = Callable[[JobRecord, "JobControl"], dict[str, Any]]
"""Runs one job: its record and its control in, its result (JSON-ready, no identifying data)
out; raises a :class:`HopiaError` to fail with that message."""

PROGRESS_EVERY_S = 1.0  # at most one progress write a second (the last one always written)


class JobControl:
    """What a running job reports through: progress (written at most once a second) and the
    cancellation check done at each report."""

    def __init__(self, store: JobStore, job_id: str) -> None:
        self.store = store
        self.job_id = job_id
        self.cancel = threading.Event()  # set by the heartbeat when cancellation is asked
        self.lost = False  # the row is no longer this worker's running job
        self.done = 0
        self.total: int | None = None
        self.label: str | None = None
        self._written_at = 0.0

    def progress(
        self,
        done: int | None = None,
        total: int | None = None,
        label: str | None = None,
        *,
        force: bool = False,
    ) -> None:
        """``done`` of ``total`` (either kept when None), a French label; raises
        :class:`JobCancelledError` when the job is to stop."""
        self.check_cancelled()
        if done is not None:
            self.done = done
        if total is not None:
            self.total = total
        if label is not None:
            self.label = label
        now = time.monotonic()
        if force or now - self._written_at >= PROGRESS_EVERY_S:
            self._written_at = now
            self.store.progress(self.job_id, self.done, self.total, self.label)

    def advance(self, n: int = 1) -> None:
        self.progress(self.done + n)

    def check_cancelled(self) -> None:
        if self.cancel.is_set():
            raise JobCancelledError(
                "tâche arrêtée : elle a été interrompue entre-temps"
                if self.lost
                else "tâche annulée à la demande de son propriétaire ou d'un administrateur"
            )


class JobExecutor:
    """Runs claimed jobs with ``handler``, in this process (``worker``: its identity)."""

    def __init__(
        self,
        store: JobStore,
        handler: Handler,
        *,
        heartbeat_s: float,
        worker: WorkerId | None = None,
    ) -> None:
        self.store = store
        self.handler = handler
        self.heartbeat_s = heartbeat_s
        self.worker = worker or WorkerId.mine()

    def run(self, job_id: str) -> JobStatus | None:
        """Claim ``job_id`` and run it; its final status, or None when it was not queued
        (cancelled before it started, run by another worker, unknown)."""
        record = self.store.claim(job_id, self.worker)
        if record is None:
            log.info("job %s not queued any more: skipped", job_id)
            return None
        return self.execute(record)

    def execute(self, record: JobRecord) -> JobStatus:
        """Run the claimed (running) ``record`` to its end; its final status."""
        control = JobControl(self.store, record.job_id)
        stop = threading.Event()
        beat = threading.Thread(
            target=self._heartbeat,
            args=(record.job_id, control, stop),
            name=f"hopia-job-heartbeat-{record.job_id[:8]}",
            daemon=True,
        )
        beat.start()
        status = JobStatus.FAILED
        try:
            try:
                result = self.handler(record, control)
            except JobCancelledError as exc:
                status = JobStatus.CANCELLED
                self.store.finish(
                    record.job_id, status, error_code=CANCELLED, error_message=exc.message
                )
            except HopiaError as exc:
                self.store.finish(
                    record.job_id,
                    status,
                    result=_error_details(exc),
                    error_code=exc.code,
                    error_message=exc.message,
                )
            except (KeyboardInterrupt, SystemExit):
                # The worker is asked to stop now: the job is interrupted, said so at once.
                self.store.finish(
                    record.job_id,
                    status,
                    error_code=INTERRUPTED,
                    error_message="interrompu : le processus de la tâche a été arrêté",
                )
                raise
            except Exception as exc:  # noqa: BLE001 - any failure is the job's, on record
                code, message = _unexpected(exc)
                log.error("job %s failed: %s", record.job_id, type(exc).__name__)
                if os.environ.get("HOPIA_DEBUG"):
                    log.exception("job %s", record.job_id)
                self.store.finish(record.job_id, status, error_code=code, error_message=message)
            else:
                status = JobStatus.SUCCEEDED
                # the last counts, written whatever the throttle skipped
                self.store.progress(record.job_id, control.done, control.total, control.label)
                self.store.finish(record.job_id, status, result=result)
        finally:
            stop.set()
            beat.join(timeout=self.heartbeat_s + 5)
        return status

    def _heartbeat(self, job_id: str, control: JobControl, stop: threading.Event) -> None:
        while not stop.wait(self.heartbeat_s):
            try:
                state = self.store.heartbeat(job_id, self.worker)
            except (HopiaError, SQLAlchemyError) as exc:  # a blip: the next beat may pass
                log.warning("job %s heartbeat failed: %s", job_id, type(exc).__name__)
                continue
            if state is None:
                control.lost = True
                control.cancel.set()
                return
            if state:
                control.cancel.set()


def _error_details(exc: HopiaError) -> dict[str, Any] | None:
    data = exc.to_dict()
    details = {k: v for k, v in (("fields", data["fields"]), ("details", data["details"])) if v}
    return details or None


def _unexpected(exc: Exception) -> tuple[str, str]:
    """Code and French message of an error that is not a :class:`HopiaError`; never its own
    text, which may quote a value (a driver's message is kept, its quoted parts removed)."""
    if isinstance(exc, ImportError) and (problem := missing_extra(exc)) is not None:
        return problem.code, problem.message
    if isinstance(exc, SQLAlchemyError):
        cause = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0]
        return "warehouse_error", f"erreur de l'entrepôt : {without_quoted(cause, 300)}"
    if isinstance(exc, OSError):
        return "os_error", f"erreur système ({exc.strerror or type(exc).__name__})"
    return INTERNAL, (
        f"erreur interne inattendue ({type(exc).__name__}) : signalez-la à l'équipe Hopia "
        "avec l'identifiant de la tâche"
    )


class EmbeddedRunner:
    """``threads`` threads taking queued jobs from the store and running them in this process.

    ``exclusive_kinds``: kinds that hold the warehouse for their whole run (an ingest), run one
    at a time here. :meth:`start` runs the threads in the background (a server), :meth:`work`
    in the foreground (``hopia jobs worker``)."""

    def __init__(
        self,
        executor: JobExecutor,
        *,
        threads: int,
        poll_s: float,
        exclusive_kinds: Sequence[str] = (),
    ) -> None:
        self.executor = executor
        self.store = executor.store
        self.threads = threads
        self.poll_s = poll_s
        self.exclusive_kinds = tuple(exclusive_kinds)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._running: Counter[str] = Counter()
        self._threads: list[threading.Thread] = []
        self.completed: Counter[JobStatus] = Counter()

    def submit(self, job_id: str) -> None:
        """A job was queued: wake an idle thread (any thread would find it within ``poll_s``)."""
        self._wake.set()

    def start(self) -> None:
        """Run the threads in the background until :meth:`stop`."""
        self._spawn(burst=False)

    def stop(self, wait: bool = True) -> None:
        """Stop taking jobs; with ``wait``, let the running ones finish."""
        self._stop.set()
        self._wake.set()
        if wait:
            for thread in self._threads:
                thread.join()

    def work(self, *, burst: bool = False) -> Counter[JobStatus]:
        """Run in the foreground until :meth:`stop` (a signal handler calls it), or with
        ``burst`` until no queued job is left; the final statuses counted."""
        self.store.reap()  # jobs left running by a dead worker are said failed at once
        self._spawn(burst=burst)
        try:
            for thread in self._threads:
                while thread.is_alive():
                    thread.join(timeout=0.5)  # returns to the main thread for signals
        except KeyboardInterrupt:
            self.stop(wait=True)
        return self.completed

    def _spawn(self, *, burst: bool) -> None:
        for n in range(self.threads):
            thread = threading.Thread(
                target=self._loop, args=(burst,), name=f"hopia-jobs-{n}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _loop(self, burst: bool) -> None:
        while not self._stop.is_set():
            try:
                record = self._claim()
            except (HopiaError, SQLAlchemyError) as exc:
                log.warning("jobs: the store cannot be read (%s)", type(exc).__name__)
                record = None
                if burst:
                    return
            if record is None:
                if burst:
                    return
                if self._wake.wait(self.poll_s):
                    self._wake.clear()
                continue
            try:
                status = self.executor.execute(record)
                with self._lock:
                    self.completed[status] += 1
            finally:
                with self._lock:
                    self._running[record.kind] -= 1

    def _claim(self) -> JobRecord | None:
        with self._lock:
            busy = [k for k in self.exclusive_kinds if self._running[k] > 0]
            record = self.store.claim_next(self.executor.worker, exclude_kinds=busy)
            if record is not None:
                self._running[record.kind] += 1
            return record

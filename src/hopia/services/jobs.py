"""Jobs service: long work (an upload's ingest, a quality run, an export) in the background.

Every front end calls the same four functions, and the rules hold for all of them:

- :func:`submit` validates the kind's parameters (and, for an export, its reason) before
  anything is read, then asks the access policy twice: ``jobs.submit`` and the action of the
  service the job will call (``ingest.run``, ``quality.run``, ``share.export``) — who may not
  run the work may not queue it; a kind whose work every staff member does on their own
  things asks its action only (adding to a collection: ``collection.write``). The job row
  and its ``jobs.submit`` audit entry commit together; the runner, when one is given, is
  told at once;
- a job runs later as its owner (the audit log names them, through the service it calls,
  which audits as it always does), with a policy that grants exactly the actions checked at
  submission (:class:`GrantedAtSubmission`): a worker process need not know the web's roles;
- :func:`get` and :func:`list_jobs` show a user their own jobs; whoever the policy allows
  ``jobs.all`` (the local operator, an administrator) sees everyone's. A job of someone else
  reads as unknown. Job rows hold no patient data (counts, ids, settings, French messages):
  reading them is not audited — the work they did is, by its service;
- :func:`cancel` (audited ``jobs.cancel``): a queued job is cancelled at once, a running one
  stops at its next progress report.

Runners: :func:`start_runner` for a process that serves (embedded threads, or the Redis queue
when ``jobs.broker_url`` is set), :func:`work` for ``hopia jobs worker``. See
:mod:`hopia.platform.jobs` and docs/architecture.md ("Jobs").
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field
from sqlalchemy import Connection

from hopia.platform import audit
from hopia.platform.access import Principal
from hopia.platform.config import Settings
from hopia.platform.exceptions import (
    AccessDeniedError,
    ConfigError,
    ConflictError,
    JobQueueError,
    NotFoundError,
)
from hopia.platform.jobs import (
    STATUS_FR,
    EmbeddedRunner,
    JobControl,
    JobExecutor,
    JobRecord,
    JobStatus,
    JobStore,
)
from hopia.platform.warehouse import Warehouse
from hopia.services import job_kinds
from hopia.services.context import Context, Request
from hopia.services.job_kinds import KINDS, JobKind
from hopia.services.warehouse import existing_warehouse

StatusName = Literal["queued", "running", "succeeded", "failed", "cancelled"]
SEE_ALL = "jobs.all"


class JobRequest(Request):
    kind: JobKind
    parameters: dict[str, Any] = Field(default_factory=dict)
    """The kind's parameters (see :mod:`hopia.services.job_kinds`); no identifying data."""
    job_id: str | None = Field(None, pattern=r"^[0-9a-f]{32}$")
    """The id of the files stored for an ``ingest`` (:func:`hopia.services.uploads.store_upload`);
    a new id for the other kinds."""


class ListRequest(Request):
    status: tuple[StatusName, ...] = ()
    kind: tuple[JobKind, ...] = ()
    limit: int = Field(50, ge=1, le=1000)
    mine: bool = False
    """Only the caller's jobs, even for whoever may see all."""


class JobProgress(BaseModel):
    done: int
    total: int | None
    label: str | None

    @property
    def percent(self) -> float | None:
        if not self.total:
            return None
        return min(100.0, 100.0 * self.done / self.total)


class JobErrorView(BaseModel):
    code: str
    message: str
    """French, for the person who submitted the job."""
    fields: list[str] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)
    """What explains a failure (an export's anonymity report): kept by the runner in the
    job's result, no patient data."""


class JobView(BaseModel):
    """A job as a front end shows it (times in UTC)."""

    id: str
    kind: str
    kind_label: str
    owner: str
    status: StatusName
    status_label: str
    finished: bool
    progress: JobProgress
    parameters: dict[str, Any]
    result: dict[str, Any] | None
    error: JobErrorView | None
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    worker: str | None

    @classmethod
    def of(cls, record: JobRecord) -> JobView:
        spec = KINDS.get(record.kind)
        error = None
        if record.error_code or record.error_message:
            kept = (record.result or {}) if record.status is JobStatus.FAILED else {}
            error = JobErrorView(
                code=record.error_code or "",
                message=record.error_message or "",
                fields=list(kept.get("fields") or []),
                details=dict(kept.get("details") or {}),
            )
        return cls(
            id=record.job_id,
            kind=record.kind,
            kind_label=spec.label if spec else record.kind,
            owner=record.actor,
            status=record.status.value,
            status_label=STATUS_FR[record.status],
            finished=record.status.finished,
            progress=JobProgress(
                done=record.progress_done,
                total=record.progress_total,
                label=record.progress_label,
            ),
            parameters=record.parameters,
            result=record.result,
            error=error,
            cancel_requested=record.cancel_requested,
            created_at=_utc(record.created_at),
            started_at=_utc(record.started_at),
            finished_at=_utc(record.finished_at),
            heartbeat_at=_utc(record.heartbeat_at),
            worker=str(record.worker) if record.worker else None,
        )


class JobRunner(Protocol):
    """What :func:`submit` tells that a job is queued (an embedded runner, the Redis queue)."""

    def submit(self, job_id: str) -> None: ...


def store(ctx: Context, *, existing: bool = True) -> JobStore:
    """The job store of the context's warehouse; ``existing``: a read, which never creates
    the warehouse (:class:`NotFoundError` naming it)."""
    wh = existing_warehouse(ctx) if existing else ctx.warehouse()
    return JobStore(wh, ctx.settings.jobs.stale_after_s)


def submit(ctx: Context, request: JobRequest, runner: JobRunner | None = None) -> JobView:
    """Queue a job; without ``runner`` it waits for a worker (``hopia jobs worker``)."""
    spec = KINDS[request.kind]
    parameters = spec.prepare(ctx, request.job_id, request.parameters)  # nothing read yet
    job_id = request.job_id or job_kinds.new_id()
    if spec.submit_action is not None:
        ctx.authorize(spec.submit_action, f"job-kind:{request.kind}")
    for action, resource in spec.actions(parameters):
        ctx.authorize(action, resource)
    jobs = store(ctx, existing=False)
    if request.job_id is not None and jobs.get(job_id) is not None:
        raise ConflictError("une tâche porte déjà cet identifiant", fields=("job_id",))

    def record(conn: Connection) -> None:  # the row and its audit entry, together
        jobs.insert(
            conn,
            job_id=job_id,
            kind=request.kind,
            owner=ctx.principal.user,
            actor=ctx.actor,
            roles=sorted(ctx.principal.roles),
            parameters=parameters,
        )
        details = {"kind": request.kind}
        reason = parameters.get("reason")  # an export's: on record from its submission
        audit.record(conn, ctx.actor, "jobs.submit", f"job:{job_id}", reason, details)

    jobs.write(record)
    if runner is not None:
        try:
            runner.submit(job_id)
        except JobQueueError as exc:
            jobs.fail_queued(job_id, exc.code, exc.message)
            raise
    return _view(jobs, job_id)


def get(ctx: Context, job_id: str) -> JobView:
    """The job (:class:`NotFoundError` when unknown or someone else's, for who may not see
    all)."""
    ctx.authorize("jobs.read", f"job:{job_id}")
    record = store(ctx).get(job_id)
    if record is None or not _visible(ctx, record):
        raise NotFoundError(f"tâche inconnue : {job_id}", fields=("job_id",))
    return JobView.of(record)


def list_jobs(ctx: Context, request: ListRequest | None = None) -> list[JobView]:
    """The latest jobs, newest first: the caller's, or everyone's for who may see all."""
    request = request or ListRequest()
    ctx.authorize("jobs.read", "jobs")
    owner = ctx.principal.user if request.mine or not _sees_all(ctx) else None
    records = store(ctx).list(
        owner=owner,
        statuses=[JobStatus(s) for s in request.status],
        kinds=list(request.kind),
        limit=request.limit,
    )
    return [JobView.of(r) for r in records]


def cancel(ctx: Context, job_id: str) -> JobView:
    """Cancel the job: at once when queued, at its next progress report when running;
    :class:`ConflictError` when it is already over."""
    ctx.authorize("jobs.cancel", f"job:{job_id}")
    jobs = store(ctx)
    record = jobs.get(job_id)
    if record is None or not _visible(ctx, record):
        raise NotFoundError(f"tâche inconnue : {job_id}", fields=("job_id",))
    if record.status.finished:
        raise _finished(record)
    message = f"annulée par {ctx.actor}"

    def audited(conn: Connection, current: JobRecord) -> None:
        if current.status.finished:  # it ended meanwhile
            raise _finished(current)
        details = {"kind": current.kind, "status": current.status.value}
        audit.record(conn, ctx.actor, "jobs.cancel", f"job:{job_id}", None, details)

    updated = jobs.cancel(job_id, message, then=audited)
    return JobView.of(updated if updated is not None else record)


def _finished(record: JobRecord) -> ConflictError:
    return ConflictError(
        f"la tâche est déjà {STATUS_FR[record.status]} : plus rien à annuler",
        fields=("job_id",),
    )


# -- running --------------------------------------------------------------------------------------


class GrantedAtSubmission:
    """The policy a job runs under: the actions its kind was authorised for when it was
    submitted, nothing else (the owner's policy was asked then, before anything was read)."""

    def __init__(self, actions: frozenset[str], job_id: str) -> None:
        self.actions = actions
        self.job_id = job_id

    def check(
        self, principal: Principal, action: str, resource: str, conn: Connection | None = None
    ) -> None:
        if action not in self.actions:
            raise AccessDeniedError(
                f"action « {action} » hors de ce que la tâche {self.job_id} a été autorisée "
                "à faire",
                details={"action": action},
            )


def executor(settings: Settings, warehouse: Warehouse) -> JobExecutor:
    """The executor of this process: each job runs as its owner, on ``warehouse``."""

    def handle(record: JobRecord, control: JobControl) -> dict[str, Any]:
        spec = KINDS.get(record.kind)
        if spec is None:
            raise ConflictError(f"type de tâche inconnu de cette version de Hopia : {record.kind}")
        principal = Principal(
            record.owner,
            frozenset(record.roles),
            record.actor if record.actor != record.owner else None,
        )
        granted = GrantedAtSubmission(spec.granted, record.job_id)
        with Context(settings, principal, policy=granted) as ctx:
            ctx.use_warehouse(warehouse)
            return spec.run(ctx, record, control)

    jobs = JobStore(warehouse, settings.jobs.stale_after_s)
    return JobExecutor(jobs, handle, heartbeat_s=settings.jobs.heartbeat_s)


class QueueRunner:
    """Sends queued jobs to the Redis queue (``jobs.broker_url``)."""

    def __init__(self, url: str, queue: str) -> None:
        self.url = url
        self.queue = queue

    def submit(self, job_id: str) -> None:
        from hopia.platform.jobs import broker

        broker.enqueue(self.url, self.queue, job_id)

    def stop(self, wait: bool = True) -> None:
        """Nothing runs here: the workers are other processes."""


def start_runner(ctx: Context) -> EmbeddedRunner | QueueRunner:
    """The runner of a process that serves (``hopia serve``), started: the Redis queue when
    ``jobs.broker_url`` is set, else threads of this process on the context's warehouse —
    keep that context open while the runner runs. Stop it with ``stop()`` when the process
    ends (the jobs at hand finish first)."""
    ctx.authorize("jobs.run", "jobs")
    settings = ctx.settings
    if settings.jobs.broker_url:
        _check_broker_engine(ctx.warehouse())
        return QueueRunner(settings.jobs.broker_url, settings.jobs.queue)
    runner = _embedded(settings, ctx.warehouse(), settings.jobs.threads)
    runner.start()
    return runner


def work(
    ctx: Context,
    *,
    burst: bool = False,
    threads: int | None = None,
    on_start: Callable[[str], None] | None = None,
) -> Counter[JobStatus] | None:
    """Run jobs in this process, in the foreground (``hopia jobs worker``): from the Redis
    queue when ``jobs.broker_url`` is set (one at a time), else from the store with
    ``threads`` threads. ``burst``: stop when nothing is queued. ``on_start(description)``:
    said once the worker is ready. The statuses of the jobs run (embedded), or None."""
    ctx.authorize("jobs.run", "jobs")
    settings = ctx.settings
    wh = existing_warehouse(ctx)
    url = settings.jobs.broker_url
    if url:
        from hopia.platform.jobs import broker

        _check_broker_engine(wh)
        run = executor(settings, wh)
        run.store.reap()
        if on_start:
            on_start(f"file Redis {broker.safe_url(url)}, file « {settings.jobs.queue} »")
        broker.work(url, settings.jobs.queue, run.run, burst=burst)
        return None
    runner = _embedded(settings, wh, threads or settings.jobs.threads)
    if on_start:
        on_start(f"tâches de l'entrepôt, {runner.threads} à la fois")
    return runner.work(burst=burst)


def _embedded(settings: Settings, warehouse: Warehouse, threads: int) -> EmbeddedRunner:
    return EmbeddedRunner(
        executor(settings, warehouse),
        threads=threads,
        poll_s=settings.jobs.poll_s,
        exclusive_kinds=[name for name, spec in KINDS.items() if spec.exclusive],
    )


def _check_broker_engine(wh: Warehouse) -> None:
    if wh.dialect == "duckdb":
        raise ConfigError(
            "jobs.broker_url demande un entrepôt PostgreSQL : un fichier DuckDB n'admet qu'un "
            "processus, les tâches s'exécutent alors dans le processus qui sert (retirez "
            "jobs.broker_url)"
        )


def _sees_all(ctx: Context) -> bool:
    """Whether the policy lets the caller see every user's jobs (asked quietly: not being
    allowed only narrows the list)."""
    with contextlib.suppress(AccessDeniedError):
        ctx.policy.check(ctx.principal, SEE_ALL, "jobs")
        return True
    return False


def _visible(ctx: Context, record: JobRecord) -> bool:
    return record.owner == ctx.principal.user or _sees_all(ctx)


def _view(jobs: JobStore, job_id: str) -> JobView:
    record = jobs.get(job_id)
    assert record is not None  # just written
    return JobView.of(record)


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)

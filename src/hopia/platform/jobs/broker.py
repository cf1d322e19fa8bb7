"""Jobs through Redis, with RQ (``jobs.broker_url``): the queue carries job ids, nothing else.

The job store stays the source of truth: :func:`enqueue` sends the id of a job already recorded
``queued``; a ``hopia jobs worker`` process takes it with RQ's :class:`~rq.SimpleWorker` (the
job runs in the worker process itself, not in a fork: a worker killed kills its job with it,
and the store then reads it ``failed``) and hands it to the process's
:class:`~hopia.platform.jobs.runner.JobExecutor`, which claims it in the store — a job cancelled
while queued is skipped, one delivered twice runs once. RQ's own registries (started, failed)
are bookkeeping only: RQ never retries a job (a retry is a new submission).

Needs the ``redis`` extra (``pip install 'hopia[redis]'``): RQ and the Redis client are
imported here only, when a broker is used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hopia.platform.exceptions import JobQueueError

PERFORM = "hopia.platform.jobs.broker.perform"
_RESULT_TTL_S = 24 * 3600  # RQ's copy of the outcome; the store keeps the real one
_PROCESS_RUN: Callable[[str], Any] | None = None  # the executor of this worker process


def _redis(url: str) -> Any:
    from redis import Redis

    return Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)


def enqueue(url: str, queue: str, job_id: str) -> None:
    """Put ``job_id`` on ``queue``; :class:`JobQueueError` when Redis does not answer."""
    from redis.exceptions import RedisError
    from rq import Queue

    try:
        Queue(queue, connection=_redis(url)).enqueue(
            PERFORM,
            job_id,
            job_id=f"hopia-{job_id}",
            job_timeout=-1,  # a long ingest is not killed by RQ; cancel it through the store
            result_ttl=_RESULT_TTL_S,
            failure_ttl=_RESULT_TTL_S,
            description=f"tâche Hopia {job_id}",
        )
    except RedisError as exc:
        raise JobQueueError(unreachable(url, exc)) from None


def unreachable(url: str, exc: BaseException) -> str:
    return (
        f"la file des tâches ({safe_url(url)}) ne répond pas ({type(exc).__name__}) : vérifiez "
        "que Redis est démarré et le réglage jobs.broker_url"
    )


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url


def perform(job_id: str) -> Any:
    """What RQ calls in the worker: run ``job_id`` with this process's executor."""
    if _PROCESS_RUN is None:
        raise RuntimeError("no Hopia job executor in this process: start it with hopia jobs worker")
    status = _PROCESS_RUN(job_id)
    return None if status is None else str(status)


def work(
    url: str,
    queue: str,
    run: Callable[[str], Any],
    *,
    burst: bool = False,
    name: str | None = None,
) -> bool:
    """Take jobs from ``queue`` and ``run`` them (one at a time, in this process) until asked
    to stop (SIGINT/SIGTERM: RQ finishes the job at hand first), or with ``burst`` until the
    queue is empty. :class:`JobQueueError` when Redis does not answer."""
    global _PROCESS_RUN
    from redis.exceptions import RedisError
    from rq import Queue, SimpleWorker

    connection = _redis(url)
    try:
        connection.ping()
    except RedisError as exc:
        raise JobQueueError(unreachable(url, exc)) from None
    _PROCESS_RUN = run
    try:
        worker = SimpleWorker(
            [Queue(queue, connection=connection)], connection=connection, name=name
        )
        return bool(worker.work(burst=burst, logging_level="WARNING"))
    except RedisError as exc:
        raise JobQueueError(unreachable(url, exc)) from None
    finally:
        _PROCESS_RUN = None

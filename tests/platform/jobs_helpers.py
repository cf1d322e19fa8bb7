"""Helpers of the job tests: a Redis server or a skip, and a worker process whose job blocks.

``python -m tests.platform.jobs_helpers URL MARKER (embedded|redis REDIS_URL QUEUE)`` runs a
worker whose handler writes ``MARKER`` once it holds its job, then waits forever: what a test
kills with SIGKILL mid-job.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REDIS_URL = "redis://127.0.0.1:6379/0"


@contextmanager
def redis_queue() -> Iterator[tuple[str, str]]:
    """(Redis URL, a queue name of this test's own), its keys removed afterwards; a skip
    saying why when no Redis server answers."""
    from redis import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except RedisError as exc:
        pytest.skip(f"no Redis server answers on 127.0.0.1:6379 ({exc.__class__.__name__})")
    queue = f"hopia-test-{uuid.uuid4().hex[:10]}"
    try:
        yield REDIS_URL, queue
    finally:
        keys = list(client.scan_iter(match=f"rq:*{queue}*"))
        for job_key in client.scan_iter(match="rq:job:hopia-*"):
            if queue.encode() in (client.hget(job_key, "origin") or b""):
                keys.append(job_key)
        if keys:
            client.delete(*keys)
        client.close()


def wait_for(predicate: Any, timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _blocking_worker(url: str, marker: Path, mode: str, *rest: str) -> None:
    from hopia.platform.jobs import JobExecutor, JobStore
    from hopia.platform.warehouse import Warehouse

    def handler(record: Any, control: Any) -> dict[str, Any]:
        control.progress(1, 10, "étape 1", force=True)
        marker.write_text(record.job_id)
        while True:  # until killed
            time.sleep(0.2)

    wh = Warehouse(url)
    executor = JobExecutor(JobStore(wh, 60.0), handler, heartbeat_s=0.5)
    if mode == "embedded":
        from hopia.platform.jobs import EmbeddedRunner

        EmbeddedRunner(executor, threads=1, poll_s=0.2).work(burst=True)
    else:
        from hopia.platform.jobs import broker

        redis_url, queue = rest
        broker.work(redis_url, queue, executor.run, burst=True)


if __name__ == "__main__":
    _blocking_worker(sys.argv[1], Path(sys.argv[2]), sys.argv[3], *sys.argv[4:])

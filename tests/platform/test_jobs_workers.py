"""Workers in their own processes: one killed with SIGKILL in the middle of its job leaves a
job that reads ``failed`` (interrupted), embedded or fed by Redis (RQ); the status lives in the
warehouse, so a new process reads what the dead one left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hopia.platform.jobs import JobStatus, JobStore
from hopia.platform.warehouse import Warehouse
from tests.conftest import ENGINES, REPO
from tests.platform.jobs_helpers import redis_queue, wait_for
from tests.platform.pg import postgres_url

pytestmark = pytest.mark.slow


@pytest.fixture(params=ENGINES)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path / 'w.duckdb'}"
        return
    with postgres_url() as pg:
        yield pg


def _queue_one(url: str, job_id: str) -> None:
    wh = Warehouse(url)
    store = JobStore(wh, 60)
    with store.transaction() as conn:
        store.insert(
            conn, job_id=job_id, kind="essai", owner="alice", actor="alice", roles=[], parameters={}
        )
    wh.close()  # DuckDB: the worker process must be alone on the file


def _worker(url: str, marker: Path, *mode: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.platform.jobs_helpers", url, str(marker), *mode],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _kill_mid_job(proc: subprocess.Popen[bytes], marker: Path) -> None:
    try:
        wait_for(lambda: marker.exists() or proc.poll() is not None, 60, "the job to start")
        assert proc.poll() is None, proc.communicate()[0].decode()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()


def _read(url: str, job_id: str):  # noqa: ANN202 - JobRecord
    wh = Warehouse(url)  # a new connection, as a reloaded page or another process makes
    try:
        return JobStore(wh, 60).get(job_id)
    finally:
        wh.close()


def test_an_embedded_worker_killed_mid_job_leaves_a_failed_job(url: str, tmp_path: Path) -> None:
    job_id = "a" * 32
    _queue_one(url, job_id)
    marker = tmp_path / "started"
    proc = _worker(url, marker, "embedded")
    _kill_mid_job(proc, marker)
    job = _read(url, job_id)
    assert job is not None and job.status is JobStatus.FAILED
    assert job.error_code == "interrupted"
    assert f"processus {proc.pid}" in job.error_message
    assert (job.progress_done, job.progress_total, job.progress_label) == (1, 10, "étape 1")
    again = _read(url, job_id)  # what was written stays: read the same by the next process
    assert (again.status, again.error_message) == (job.status, job.error_message)


def test_a_redis_worker_killed_mid_job_leaves_a_failed_job(tmp_path: Path) -> None:
    from rq import Queue
    from rq.job import Job

    from hopia.platform.jobs import broker

    with redis_queue() as (redis_url, queue), postgres_url() as url:
        job_id = "b" * 32
        _queue_one(url, job_id)
        broker.enqueue(redis_url, queue, job_id)
        assert Queue(queue, connection=broker._redis(redis_url)).count == 1
        marker = tmp_path / "started"
        proc = _worker(url, marker, "redis", redis_url, queue)
        _kill_mid_job(proc, marker)
        job = _read(url, job_id)
        assert job is not None and job.status is JobStatus.FAILED
        assert job.error_code == "interrupted" and f"processus {proc.pid}" in job.error_message
        # RQ took the id off the queue and will not run it again by itself
        assert Queue(queue, connection=broker._redis(redis_url)).count == 0
        rq_job = Job.fetch(f"hopia-{job_id}", connection=broker._redis(redis_url))
        assert rq_job.args == (job_id,)  # the queue carries the id, nothing else


def test_a_redis_worker_runs_queued_jobs_and_skips_cancelled_ones(tmp_path: Path) -> None:
    from hopia.platform.exceptions import JobQueueError
    from hopia.platform.jobs import JobExecutor, broker

    with redis_queue() as (redis_url, queue), postgres_url() as url:
        wh = Warehouse(url)
        store = JobStore(wh, 60)
        for job_id in ("1" * 32, "2" * 32):
            with store.transaction() as conn:
                store.insert(
                    conn,
                    job_id=job_id,
                    kind="essai",
                    owner="bob",
                    actor="bob",
                    roles=[],
                    parameters={},
                )
            broker.enqueue(redis_url, queue, job_id)
        store.cancel("2" * 32, "annulée par bob")
        ran: list[str] = []
        executor = JobExecutor(
            store, lambda record, control: ran.append(record.job_id) or {"ok": 1}, heartbeat_s=1
        )
        broker.work(redis_url, queue, executor.run, burst=True)
        assert ran == ["1" * 32]
        assert store.get("1" * 32).status is JobStatus.SUCCEEDED  # type: ignore[union-attr]
        assert store.get("2" * 32).status is JobStatus.CANCELLED  # type: ignore[union-attr]
        wh.close()
    with pytest.raises(JobQueueError, match="ne répond pas"):
        broker.enqueue("redis://127.0.0.1:1/0", "hopia", "3" * 32)

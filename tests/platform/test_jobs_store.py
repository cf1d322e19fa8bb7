"""The job store and executor on both engines: states, claims, cancellation, progress, and no
job left ``running`` once its worker is gone."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from hopia.platform.exceptions import InvalidRequestError, JobCancelledError
from hopia.platform.jobs import (
    EmbeddedRunner,
    JobControl,
    JobExecutor,
    JobRecord,
    JobStatus,
    JobStore,
    WorkerId,
)
from hopia.platform.jobs.model import utcnow
from hopia.platform.jobs.store import pid_alive
from hopia.platform.warehouse import Warehouse, schema
from tests.conftest import ENGINES
from tests.platform.pg import engine_warehouse


@pytest.fixture(params=ENGINES)
def wh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    with engine_warehouse(request.param, tmp_path) as warehouse:
        yield warehouse


def _queue(store: JobStore, job_id: str, kind: str = "essai", owner: str = "alice") -> None:
    with store.transaction() as conn:
        store.insert(
            conn,
            job_id=job_id,
            kind=kind,
            owner=owner,
            actor=owner,
            roles=["researcher"],
            parameters={"tables": ["person"], "n": 1},
        )


def _set(wh: Warehouse, job_id: str, **values: Any) -> None:
    with wh.begin() as conn:
        conn.execute(update(schema.job).where(schema.job.c.job_id == job_id).values(**values))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_job_goes_from_queued_to_succeeded_once(wh: Warehouse) -> None:
    store = JobStore(wh, 60)
    _queue(store, "a" * 32)
    [queued] = store.list()
    assert (queued.status, queued.progress_done, queued.parameters) == (
        JobStatus.QUEUED,
        0,
        {"n": 1, "tables": ["person"]},
    )
    me = WorkerId.mine()
    claimed = store.claim("a" * 32, me)
    assert claimed is not None and claimed.status is JobStatus.RUNNING
    assert claimed.worker == me and claimed.started_at is not None
    assert store.claim("a" * 32, me) is None  # delivered twice: runs once
    store.progress("a" * 32, 3, 10, "Intégration des documents")
    assert store.heartbeat("a" * 32, me) is False
    assert store.finish("a" * 32, JobStatus.SUCCEEDED, result={"ajoutés": 3})
    done = store.get("a" * 32)
    assert done is not None
    assert (done.status, done.progress_done, done.progress_total) == (JobStatus.SUCCEEDED, 3, 10)
    assert done.progress_label == "Intégration des documents"
    assert done.result == {"ajoutés": 3} and done.finished_at is not None
    assert store.heartbeat("a" * 32, me) is None  # over: the executor's heartbeat stops
    assert not store.finish("a" * 32, JobStatus.FAILED, error_message="trop tard")
    assert store.get("a" * 32).status is JobStatus.SUCCEEDED  # type: ignore[union-attr]


def test_listing_filters_by_owner_status_and_kind(wh: Warehouse) -> None:
    store = JobStore(wh, 60)
    _queue(store, "1" * 32, owner="alice")
    _queue(store, "2" * 32, kind="autre", owner="bob")
    store.claim("2" * 32, WorkerId.mine())
    assert [j.job_id for j in store.list(owner="alice")] == ["1" * 32]
    assert [j.job_id for j in store.list(statuses=[JobStatus.RUNNING])] == ["2" * 32]
    assert [j.job_id for j in store.list(kinds=["autre"])] == ["2" * 32]
    assert len(store.list(limit=1)) == 1
    assert store.get("f" * 32) is None


def test_cancelling_a_queued_job_is_immediate_and_a_running_one_is_asked(wh: Warehouse) -> None:
    store = JobStore(wh, 60)
    _queue(store, "1" * 32)
    _queue(store, "2" * 32)
    cancelled = store.cancel("1" * 32, "annulée par alice")
    assert cancelled is not None and cancelled.status is JobStatus.CANCELLED
    assert cancelled.error_message == "annulée par alice"
    assert store.claim("1" * 32, WorkerId.mine()) is None  # a worker skips it
    me = WorkerId.mine()
    store.claim("2" * 32, me)
    asked = store.cancel("2" * 32, "annulée par alice")
    assert asked is not None and asked.status is JobStatus.RUNNING and asked.cancel_requested
    assert store.heartbeat("2" * 32, me) is True  # the runner learns it with its heartbeat
    assert store.cancel("f" * 32, "x") is None


def test_a_running_job_whose_process_died_on_this_host_reads_as_failed(wh: Warehouse) -> None:
    store = JobStore(wh, 3600)
    _queue(store, "d" * 32)
    dead = WorkerId(WorkerId.mine().host, _dead_pid())
    assert not pid_alive(dead.pid)
    store.claim("d" * 32, dead)
    record = store.get("d" * 32)  # any read
    assert record is not None and record.status is JobStatus.FAILED
    assert record.error_code == "interrupted"
    assert record.error_message.startswith("interrompu : le processus")  # type: ignore[union-attr]
    assert f"processus {dead.pid}" in record.error_message  # type: ignore[operator]
    # the worker, were it to come back, does not write over the failure
    assert not store.finish("d" * 32, JobStatus.SUCCEEDED, result={})
    assert store.heartbeat("d" * 32, dead) is None


def test_a_silent_job_of_another_host_reads_as_failed_on_any_read(wh: Warehouse) -> None:
    store = JobStore(wh, 30)
    _queue(store, "e" * 32)
    _queue(store, "c" * 32)
    elsewhere = WorkerId("autre-machine", 4242)
    store.claim("e" * 32, elsewhere)
    store.claim("c" * 32, elsewhere)
    assert store.get("e" * 32).status is JobStatus.RUNNING  # type: ignore[union-attr]
    _set(wh, "e" * 32, heartbeat_at=utcnow() - timedelta(seconds=31))
    listed = {j.job_id: j for j in store.list()}
    assert listed["e" * 32].status is JobStatus.FAILED
    assert "ne donne plus signe de vie depuis 31 s" in listed["e" * 32].error_message  # type: ignore[operator]
    assert "autre-machine" in listed["e" * 32].error_message  # type: ignore[operator]
    assert listed["c" * 32].status is JobStatus.RUNNING  # its heartbeat is fresh
    _set(wh, "c" * 32, heartbeat_at=utcnow() - timedelta(seconds=40))
    assert store.reap() == ["c" * 32]


def test_a_live_running_job_of_this_process_stays_running(wh: Warehouse) -> None:
    store = JobStore(wh, 30)
    _queue(store, "b" * 32)
    store.claim("b" * 32, WorkerId.mine())
    assert store.get("b" * 32).status is JobStatus.RUNNING  # type: ignore[union-attr]
    assert store.reap() == []


# -- the executor ---------------------------------------------------------------------------


def _executor(wh: Warehouse, handler: Any, heartbeat_s: float = 0.2) -> JobExecutor:
    return JobExecutor(JobStore(wh, 60), handler, heartbeat_s=heartbeat_s)


def test_the_executor_records_result_progress_and_heartbeats(wh: Warehouse) -> None:
    beats: list[Any] = []

    def handler(record: JobRecord, control: JobControl) -> dict[str, Any]:
        control.progress(0, 4, "Contrôles")
        for _ in range(4):
            control.advance()
        time.sleep(0.7)  # a few heartbeats
        beats.append(store.get(record.job_id).heartbeat_at)  # type: ignore[union-attr]
        return {"contrôles": 4}

    executor = _executor(wh, handler)
    store = executor.store
    _queue(store, "a" * 32)
    assert executor.run("a" * 32) is JobStatus.SUCCEEDED
    assert executor.run("a" * 32) is None  # not queued any more
    job = store.get("a" * 32)
    assert job is not None and job.status is JobStatus.SUCCEEDED
    assert (job.progress_done, job.progress_total, job.progress_label) == (4, 4, "Contrôles")
    assert job.result == {"contrôles": 4} and job.error_code is None
    assert beats[0] > job.started_at  # type: ignore[operator]


def test_a_failing_job_keeps_its_french_error_and_code(wh: Warehouse) -> None:
    def refused(record: JobRecord, control: JobControl) -> dict[str, Any]:
        raise InvalidRequestError("« k » : doit être supérieur à 0", fields=("k",))

    def bug(record: JobRecord, control: JobControl) -> dict[str, Any]:
        raise KeyError("8000123456")  # a value that must not reach the job row

    for job_id, handler in (("1" * 32, refused), ("2" * 32, bug)):
        executor = _executor(wh, handler)
        _queue(executor.store, job_id)
        assert executor.run(job_id) is JobStatus.FAILED
    store = JobStore(wh, 60)
    first, second = store.get("1" * 32), store.get("2" * 32)
    assert first is not None and second is not None
    assert (first.error_code, first.error_message) == (
        "invalid_request",
        "« k » : doit être supérieur à 0",
    )
    assert first.result == {"fields": ["k"]}
    assert second.error_code == "internal_error"
    assert second.error_message.startswith("erreur interne inattendue (KeyError)")  # type: ignore[union-attr]
    assert "8000123456" not in second.error_message  # type: ignore[operator]


def test_cancelling_a_running_job_stops_it_at_its_next_report(wh: Warehouse) -> None:
    started = threading.Event()

    def handler(record: JobRecord, control: JobControl) -> dict[str, Any]:
        started.set()
        for i in range(200):
            control.progress(i, 200, "Étape")
            time.sleep(0.05)
        return {"fini": True}

    executor = _executor(wh, handler, heartbeat_s=0.1)
    _queue(executor.store, "a" * 32)
    outcome: list[JobStatus | None] = []
    thread = threading.Thread(target=lambda: outcome.append(executor.run("a" * 32)))
    thread.start()
    assert started.wait(10)
    executor.store.cancel("a" * 32, "annulée par alice")
    thread.join(20)
    assert outcome == [JobStatus.CANCELLED]
    job = executor.store.get("a" * 32)
    assert job is not None and job.status is JobStatus.CANCELLED
    assert job.error_message == (
        "tâche annulée à la demande de son propriétaire ou d'un administrateur"
    )
    assert job.progress_done < 199


def test_control_refuses_to_go_on_once_cancelled(wh: Warehouse) -> None:
    control = JobControl(JobStore(wh, 60), "a" * 32)
    control.cancel.set()
    with pytest.raises(JobCancelledError):
        control.advance()


def test_the_embedded_runner_runs_exclusive_kinds_one_at_a_time(wh: Warehouse) -> None:
    running: list[str] = []
    overlap: list[bool] = []
    lock = threading.Lock()

    def handler(record: JobRecord, control: JobControl) -> dict[str, Any]:
        with lock:
            overlap.append(any(k == "ingest" for k in running) and record.kind == "ingest")
            running.append(record.kind)
        time.sleep(0.3)
        with lock:
            running.remove(record.kind)
        return {}

    executor = _executor(wh, handler)
    for n, kind in enumerate(["ingest", "ingest", "quality", "ingest"]):
        _queue(executor.store, f"{n}" * 32, kind=kind)
    runner = EmbeddedRunner(executor, threads=3, poll_s=0.05, exclusive_kinds=["ingest"])
    done = runner.work(burst=True)
    assert done == {JobStatus.SUCCEEDED: 4}
    assert not any(overlap)
    assert {j.status for j in executor.store.list()} == {JobStatus.SUCCEEDED}


def test_a_started_embedded_runner_takes_submitted_jobs(wh: Warehouse) -> None:
    executor = _executor(wh, lambda record, control: {"id": record.job_id[:4]})
    runner = EmbeddedRunner(executor, threads=2, poll_s=5.0)
    runner.start()
    try:
        _queue(executor.store, "a" * 32)
        runner.submit("a" * 32)  # wakes a thread well before its 5 s poll
        deadline = time.monotonic() + 4
        while executor.store.get("a" * 32).status is not JobStatus.SUCCEEDED:  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the job was not run"
            time.sleep(0.05)
    finally:
        runner.stop()
    assert executor.store.get("a" * 32).result == {"id": "aaaa"}  # type: ignore[union-attr]


def test_job_settings_come_from_the_environment_and_stay_coherent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hopia.platform.config import Settings
    from hopia.platform.exceptions import ConfigError

    monkeypatch.setenv("HOPIA_JOBS__BROKER_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("HOPIA_JOBS__THREADS", "3")
    settings = Settings()
    assert (settings.jobs.broker_url, settings.jobs.threads, settings.jobs.queue) == (
        "redis://127.0.0.1:6379/3",
        3,
        "hopia",
    )
    with pytest.raises(ConfigError, match="stale_after_s doit dépasser"):
        Settings(jobs={"heartbeat_s": 30, "stale_after_s": 60})


def test_a_write_refused_for_a_concurrent_duckdb_commit_is_run_again(tmp_path: Path) -> None:
    """Two threads of one process writing the same rows (a web request's audit entry and a
    running job's): DuckDB refuses one; the job store runs its transaction again."""
    with engine_warehouse("duckdb", tmp_path) as wh:
        store = JobStore(wh, 60)
        _queue(store, "a" * 32)
        updated, held, committed = threading.Event(), threading.Event(), threading.Event()

        def other_writer() -> None:
            # Outside Warehouse.begin, which makes the threads of one process take turns (no
            # conflict through it): a writer that bypasses it still meets the retry.
            with wh.engine.begin() as conn:
                conn.execute(
                    update(schema.job)
                    .where(schema.job.c.job_id == "a" * 32)
                    .values(progress_label="autre")
                )
                updated.set()
                held.wait(10)
            committed.set()

        thread = threading.Thread(target=other_writer)
        thread.start()
        assert updated.wait(10)
        calls: list[int] = []

        def body(conn: Any) -> str:
            calls.append(1)
            mine = update(schema.job).where(schema.job.c.job_id == "a" * 32)
            if len(calls) == 1:
                try:
                    conn.execute(mine.values(progress_label="moi"))
                finally:
                    held.set()
                    committed.wait(10)
            else:
                conn.execute(mine.values(progress_label="moi"))
            return "fait"

        assert store.write(body) == "fait"
        thread.join()
        assert len(calls) == 2
        assert store.get("a" * 32).progress_label == "moi"  # type: ignore[union-attr]

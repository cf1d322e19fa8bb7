"""``hopia jobs`` as an operator runs it: list, show, cancel, and the worker — embedded on the
DuckDB home, and through Redis on PostgreSQL — with the status read back by new processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hopia.cli.main import app
from hopia.platform.access import Principal, RolePolicy
from hopia.platform.config import Settings, get_settings
from hopia.services import jobs
from hopia.services.context import Context
from hopia.services.jobs import JobRequest
from tests.conftest import REPO
from tests.platform.jobs_helpers import redis_queue, wait_for
from tests.platform.pg import postgres_url

runner = CliRunner(env={"COLUMNS": "200"})


def _submit(settings: Settings, user: str = "alice", **parameters: object) -> str:
    policy = RolePolicy({"researcher": ["jobs.", "quality."]})
    with Context(settings, Principal(user, frozenset({"researcher"})), policy) as ctx:
        request = JobRequest.of(kind="quality", parameters={"tables": ["person"], **parameters})
        return jobs.submit(ctx, request).id


def _hopia(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command in a process of its own, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "hopia.cli.main", *args],
        cwd=REPO,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_list_show_cancel_and_a_burst_worker() -> None:
    empty = runner.invoke(app, ["jobs", "list"])
    assert empty.exit_code == 2 and "aucun entrepôt à" in empty.output  # never created
    first = _submit(get_settings())
    second = _submit(get_settings(), user="bob", history=False)

    listed = runner.invoke(app, ["jobs", "list"])
    assert listed.exit_code == 0, listed.output
    assert "Tâches (2)" in listed.output and first in listed.output and second in listed.output
    assert listed.output.count("en attente") == 2 and "Contrôle de qualité" in listed.output

    cancelled = runner.invoke(app, ["jobs", "cancel", second])
    assert cancelled.exit_code == 0 and f"Tâche {second} annulée." in cancelled.output
    again = runner.invoke(app, ["jobs", "cancel", second])
    assert again.exit_code == 2 and "déjà annulée" in again.output

    worked = runner.invoke(app, ["jobs", "worker", "--burst", "--threads", "1"])
    assert worked.exit_code == 0, worked.output
    assert "Exécuteur de tâches prêt" in worked.output
    assert "1 tâche(s) exécutée(s) : 1 terminée." in worked.output

    shown = runner.invoke(app, ["jobs", "show", first])
    assert shown.exit_code == 0, shown.output
    for text in ("Contrôle de qualité (quality)", "terminée", "alice", "Résultat", '"checks"'):
        assert text in shown.output, text
    only = runner.invoke(app, ["jobs", "list", "--status", "cancelled"])
    assert second in only.output and first not in only.output and "annulée" in only.output

    unknown = runner.invoke(app, ["jobs", "show", "0" * 32])
    assert unknown.exit_code == 2 and "tâche inconnue" in unknown.output
    bad = runner.invoke(app, ["jobs", "list", "--status", "fini"])
    assert bad.exit_code == 2 and "--status" in bad.output


@pytest.mark.slow
def test_a_new_process_reads_the_status_another_one_left() -> None:
    """The job lives in the warehouse: a new process (a reloaded page, another web worker, a
    terminal) reads what the process that ran it left."""
    done, waiting = _submit(get_settings()), _submit(get_settings(), user="bob")
    assert runner.invoke(app, ["jobs", "cancel", waiting]).exit_code == 0
    assert runner.invoke(app, ["jobs", "worker", "--burst"]).exit_code == 0
    shown = _hopia("jobs", "show", done)
    assert shown.returncode == 0, shown.stderr
    for text in ("Contrôle de qualité (quality)", "terminée", "alice", "Résultat", '"checks"'):
        assert text in shown.stdout, text
    listed = _hopia("jobs", "list")
    assert listed.returncode == 0, listed.stderr
    assert "Tâches (2)" in listed.stdout and "annulée" in listed.stdout and "bob" in listed.stdout


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_url() as url:
        yield url


@pytest.mark.slow
def test_a_redis_queue_carries_jobs_to_worker_processes(pg_url: str) -> None:
    with redis_queue() as (redis_url, queue):
        env = {
            "HOPIA_WAREHOUSE_URL": pg_url,
            "HOPIA_JOBS__BROKER_URL": redis_url,
            "HOPIA_JOBS__QUEUE": queue,
        }
        settings = Settings(warehouse_url=pg_url, jobs={"broker_url": redis_url, "queue": queue})
        with Context.local(settings, "DIM") as ctx:
            queued = jobs.start_runner(ctx)  # what a server does: jobs go to Redis
            alice = Context(
                settings,
                Principal("alice", frozenset({"researcher"})),
                RolePolicy({"researcher": ["jobs.", "quality."]}),
            )
            job_id = jobs.submit(alice, _quality_request(), runner=queued).id
            alice.close()
        worker = _hopia("jobs", "worker", "--burst", env=env)
        assert worker.returncode == 0, worker.stderr
        assert "file Redis redis://127.0.0.1:6379/0" in worker.stderr
        shown = _hopia("jobs", "show", job_id, env=env)
        assert shown.returncode == 0, shown.stderr
        assert "terminée" in shown.stdout and '"checks"' in shown.stdout

        # Redis gone: the submission fails, and the job says why instead of waiting forever
        down = Settings(
            warehouse_url=pg_url, jobs={"broker_url": "redis://127.0.0.1:1/0", "queue": queue}
        )
        with Context.local(down, "DIM") as ctx:
            from hopia.platform.exceptions import JobQueueError

            with pytest.raises(JobQueueError, match="ne répond pas") as refused:
                jobs.submit(ctx, _quality_request(), runner=jobs.start_runner(ctx))
            [failed] = jobs.list_jobs(ctx, jobs.ListRequest.of(status=("failed",)))
        assert failed.error is not None and failed.error.message == refused.value.message


def _quality_request() -> JobRequest:
    return JobRequest.of(kind="quality", parameters={"tables": ["person"]})


@pytest.mark.slow
def test_a_redis_worker_killed_during_an_ingest_leaves_it_failed(
    pg_url: str, tmp_path: Path, in_process_models: None
) -> None:
    """The real thing: an upload's ingest queued in Redis, taken by a `hopia jobs worker`
    process, which is killed (SIGKILL) while it loads the models: the job reads failed."""
    from hopia.services.uploads import UploadRequest, store_upload
    from tests.data.ingest.test_pipeline import write_corpus

    _, docs = write_corpus(tmp_path / "in")
    with redis_queue() as (redis_url, queue):
        env = {
            "HOPIA_WAREHOUSE_URL": pg_url,
            "HOPIA_JOBS__BROKER_URL": redis_url,
            "HOPIA_JOBS__QUEUE": queue,
        }
        settings = Settings(warehouse_url=pg_url, jobs={"broker_url": redis_url, "queue": queue})
        with Context.local(settings, "DIM") as ctx:
            data = (docs / "notes.jsonl").read_bytes()
            upload = store_upload(ctx, UploadRequest.of(filename="notes.jsonl"), data)
            request = JobRequest.of(kind="ingest", job_id=upload.job_id)
            job_id = jobs.submit(ctx, request, runner=jobs.start_runner(ctx)).id
            worker = subprocess.Popen(
                [sys.executable, "-m", "hopia.cli.main", "jobs", "worker"],
                cwd=REPO,
                env={**os.environ, **env},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                wait_for(
                    lambda: jobs.get(ctx, job_id).status != "queued" or worker.poll() is not None,
                    120,
                    "the worker to take the job",
                )
                assert worker.poll() is None and jobs.get(ctx, job_id).status == "running"
                os.kill(worker.pid, signal.SIGKILL)
            finally:
                worker.kill()
                worker.wait()
            failed = jobs.get(ctx, job_id)
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.code == "interrupted"
    assert f"processus {worker.pid}" in failed.error.message

"""Runs and error records: one run row per ingest, one error row per source, resolved by the
run that ingests the source."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from hopia.data.ingest.runs import DEAD_SUMMARY, ErrorRecord, IngestReport, Runs, error_hash
from hopia.platform.warehouse import Warehouse, schema
from hopia.platform.warehouse.runs import list_runs
from tests.conftest import ENGINES
from tests.platform.pg import engine_warehouse


@pytest.fixture
def runs(tmp_path: Path) -> Runs:
    return Runs(Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}"), "test-system")


def _errors(wh: Warehouse) -> list[tuple[str, str, int]]:
    doc = schema.document
    with wh.engine.connect() as conn:
        query = select(doc.c.source_ref, doc.c.error, doc.c.run_id).where(doc.c.status == "error")
        return sorted(tuple(r) for r in conn.execute(query))


def test_a_run_is_opened_then_closed_with_its_counts(runs: Runs) -> None:
    first = runs.start([Path("a"), Path("b")], datetime.now())
    second = runs.start([Path("c")], datetime.now())
    assert (first, second) == (1, 2)
    report = IngestReport(added=3, duplicates=1, errors=[("x", "y")])
    seen = []
    runs.finish(first, report, then=lambda conn: seen.append(conn.execute(text("select 1"))))
    runs.finish(second, IngestReport(), status="failed")
    with runs.wh.engine.connect() as conn:
        rows = conn.execute(select(schema.run).order_by(schema.run.c.run_id)).mappings().all()
    assert [r["status"] for r in rows] == ["done", "failed"]
    assert rows[0]["summary"] == "added=3 duplicates=1 errors=1"
    command = f"ingest (2 chemin(s), processus {os.getpid()} sur {socket.gethostname()})"
    assert rows[0]["command"] == command and rows[0]["system"] == "test-system"
    assert rows[0]["finished_at"] is not None and len(seen) == 1


def test_the_closing_callback_rolls_back_with_the_run(runs: Runs) -> None:
    run_id = runs.start([], datetime.now())

    def fail(conn: object) -> None:
        raise RuntimeError("audit down")

    with pytest.raises(RuntimeError):
        runs.finish(run_id, IngestReport(), then=fail)
    with runs.wh.engine.connect() as conn:
        assert conn.execute(select(schema.run.c.status)).scalar() == "running"


def test_one_error_row_per_source_replaced_on_rerun(runs: Runs) -> None:
    first = runs.start([], datetime.now())
    runs.record_error(ErrorRecord("a.pdf", "a.pdf", "pdf", "PDF corrompu"), first)
    runs.record_error(ErrorRecord("n.jsonl#L2", "n.jsonl", "jsonl", "JSON invalide"), first)
    second = runs.start([], datetime.now())
    runs.record_error(ErrorRecord("a.pdf", "a.pdf", "pdf", "PDF chiffré"), second)
    assert _errors(runs.wh) == [("a.pdf", "PDF chiffré", 2), ("n.jsonl#L2", "JSON invalide", 1)]
    with runs.wh.engine.connect() as conn:
        hashes = conn.execute(select(schema.document.c.content_hash)).scalars().all()
    assert error_hash("a.pdf") in hashes


def test_a_source_ingested_later_resolves_its_errors_of_earlier_runs(runs: Runs) -> None:
    first = runs.start([], datetime.now())
    runs.record_error(ErrorRecord("a.pdf", "a.pdf", "pdf", "illisible"), first)
    runs.record_error(ErrorRecord("n.jsonl", "n.jsonl", "jsonl", "vide"), first)
    second = runs.start([], datetime.now())
    runs.record_error(ErrorRecord("n.jsonl#L5", "n.jsonl", "jsonl", "JSON invalide"), second)
    with runs.wh.begin() as conn:
        # Records of n.jsonl and a.pdf went through in run 2: the error of run 1 on the file
        # goes; the error of run 2 on another record of the same file stays.
        Runs.resolve_errors(conn, ["n.jsonl#L1", "a.pdf", "n.jsonl", "a.pdf"], second)
    assert _errors(runs.wh) == [("n.jsonl#L5", "JSON invalide", 2)]


def test_the_report_counts() -> None:
    report = IngestReport(added=10, seconds=4.0)
    assert report.docs_per_second == 2.5
    assert IngestReport().docs_per_second == 0.0
    assert report.summary() == "added=10 duplicates=0 errors=0"


_RUN_THEN_WAIT = """
import sys, time
from datetime import datetime
from hopia.data.ingest.runs import Runs
from hopia.platform.warehouse import Warehouse
wh = Warehouse(sys.argv[1], migrate=False)
job = wh.exclusive("ingestion")  # kept: a dropped context manager would release it
lease = job.__enter__()
lease.describe(Runs(wh, "child").start([], datetime.now()))
print("ready", flush=True)
time.sleep(120)
"""


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_a_run_whose_process_was_killed_is_marked_failed(engine: str, tmp_path: Path) -> None:
    """A real ingest process killed with SIGKILL leaves its run "running"; the next ingest,
    holding the job lease, marks it failed (and leaves closed runs alone)."""
    with engine_warehouse(engine, tmp_path) as wh:
        runs = Runs(wh, "parent")
        done = runs.start([], datetime.now())
        runs.finish(done, IngestReport())
        if engine == "duckdb":
            wh.close()  # the child needs the file
        child = subprocess.Popen(
            [sys.executable, "-c", _RUN_THEN_WAIT, wh.url], stdout=subprocess.PIPE, text=True
        )
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        finally:
            child.kill()
        run = schema.run
        wh = Warehouse(wh.url)
        with wh.engine.connect() as conn:
            assert conn.execute(select(run.c.status).where(run.c.run_id == 2)).scalar() == "running"
        with wh.exclusive("ingestion"):
            assert Runs(wh, "parent").close_dead() == [2]
        with wh.engine.connect() as conn:
            rows = conn.execute(select(run.c.run_id, run.c.status, run.c.summary)).all()
        assert sorted(tuple(r) for r in rows) == [
            (1, "done", "added=0 duplicates=0 errors=0"),
            (2, "failed", DEAD_SUMMARY),
        ]
        wh.close()


def _statuses(url: str) -> dict[int, tuple[str, str | None]]:
    run = schema.run
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(run.c.run_id, run.c.status, run.c.summary)).all()
    finally:
        engine.dispose()
    return {r.run_id: (r.status, r.summary) for r in rows}


def _read_only(url: str) -> str:
    """The same warehouse through a connection that may not write."""
    if url.startswith("duckdb"):
        return f"{url}?access_mode=read_only"
    return f"{url}?options=-c%20default_transaction_read_only%3Don"


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_a_killed_run_reads_failed_before_any_new_ingest(engine: str, tmp_path: Path) -> None:
    """Issue 11, finding 8: a run whose process was killed (SIGKILL) stays "running" only until
    someone reads the runs — the runs list, the warehouse figures, the service of a jobs page —
    not until the next ingest. A reader that may write marks it failed in the table; a
    read-only one reports it failed and leaves the table as it is. A live run stays running."""
    from hopia.platform.config import Settings
    from hopia.platform.exceptions import WarehouseBusyError
    from hopia.services import ingest, warehouse
    from hopia.services.context import Context

    with engine_warehouse(engine, tmp_path) as wh:
        runs = Runs(wh, "parent")
        runs.finish(runs.start([], datetime.now()), IngestReport())
        url = wh.url
        wh.close()  # DuckDB: the child needs the file
        settings = Settings(home=tmp_path / "h", warehouse_url=url)
        child = subprocess.Popen(
            [sys.executable, "-c", _RUN_THEN_WAIT, url], stdout=subprocess.PIPE, text=True
        )
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
            # Alive: PostgreSQL readers see it running; DuckDB refuses them, naming it.
            with Context.local(settings) as ctx:
                if engine == "duckdb":
                    with pytest.raises(WarehouseBusyError, match="ingestion n° 2"):
                        ingest.runs(ctx, ingest.RunsRequest.of())
                else:
                    live = ingest.runs(ctx, ingest.RunsRequest.of())
                    assert [(r.run_id, r.state, r.dead) for r in live] == [
                        (2, "en cours", False),
                        (1, "terminée", False),
                    ]
                    assert warehouse.stats(ctx).runs == {"en cours": 1, "terminée": 1}
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        finally:
            child.kill()
        assert _statuses(url)[2] == ("running", None)

        # A read-only reader: failed ("interrompue") in what it returns, the table untouched.
        reader = Warehouse(_read_only(url), migrate=False)
        try:
            [dead, done] = list_runs(reader)
        finally:
            reader.close()
        assert (dead.run_id, dead.status, dead.state, dead.dead) == (
            2,
            "failed",
            "interrompue",
            True,
        )
        assert dead.summary == DEAD_SUMMARY and done.state == "terminée"
        assert _statuses(url)[2] == ("running", None)

        # The figures and the runs service, which may write: marked failed in the table.
        with Context.local(settings) as ctx:
            assert warehouse.stats(ctx).runs == {"interrompue": 1, "terminée": 1}
            [dead, _] = ingest.runs(ctx, ingest.RunsRequest.of())
        assert dead.state == "interrompue" and dead.finished_at is not None
        assert _statuses(url) == {
            1: ("done", "added=0 duplicates=0 errors=0"),
            2: ("failed", DEAD_SUMMARY),
        }

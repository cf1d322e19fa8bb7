"""Who holds the warehouse: checked with a real second process holding DuckDB's file lock or
PostgreSQL's job lock, as an ingest does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from hopia.platform.exceptions import WarehouseBusyError
from hopia.platform.warehouse import Warehouse
from hopia.platform.warehouse._locks import Job, job_file
from tests.conftest import ENGINES
from tests.platform.pg import engine_warehouse

pytestmark = pytest.mark.slow  # spawns processes

_HOLD = """
import sys, time
from hopia.platform.warehouse import Warehouse
wh = Warehouse(sys.argv[1], migrate=False)
{body}
print("ready", flush=True)
time.sleep(120)
"""
_JOB = """
with wh.begin() as conn:
    conn.execute(schema_run.insert().values(run_id=42, command="ingest (1 chemin(s), processus x)",
        system="t", started_at=datetime(2026, 12, 6, 23, 40, 5), status="running"))
job = wh.exclusive("ingestion")  # kept: a dropped context manager would release it
lease = job.__enter__()
lease.describe(42)
"""
_JOB_IMPORTS = (
    "from datetime import datetime\nfrom hopia.platform.warehouse.schema import run as schema_run\n"
)


class Holder:
    """A child process that opens the warehouse, does ``body``, says "ready" and waits."""

    def __init__(self, url: str, body: str, imports: str = "") -> None:
        code = imports + _HOLD.format(body=textwrap.indent(textwrap.dedent(body), ""))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ | {"OMP_NUM_THREADS": "1"},
        )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if line.strip() != "ready":
            self.proc.kill()
            raise AssertionError(f"holder did not start: {self.proc.stderr.read()[-2000:]}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)


@pytest.fixture
def holders() -> Iterator[list[Holder]]:
    started: list[Holder] = []
    yield started
    for h in started:
        if h.proc.poll() is None:
            h.kill()


@pytest.fixture(params=ENGINES)
def wh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    with engine_warehouse(request.param, tmp_path) as warehouse:
        yield warehouse


def _duckdb(tmp_path: Path) -> str:
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    Warehouse(url).close()  # created and migrated, then released
    return url


def test_duckdb_refuses_a_reader_while_a_writer_holds_the_file(tmp_path: Path) -> None:
    """Checked, not assumed: DuckDB refuses even a read-only connection from another process
    while one process holds the file read-write (hence a message, not a read-only mode)."""
    import duckdb

    path = tmp_path / "raw.duckdb"
    duckdb.connect(str(path)).close()
    code = (
        f"import duckdb, time; c = duckdb.connect({str(path)!r}); "
        "print('ready', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        with pytest.raises(duckdb.IOException, match="Could not set lock"):
            duckdb.connect(str(path), read_only=True)
    finally:
        proc.kill()
        proc.wait()


def test_a_reader_is_refused_in_french_naming_the_running_ingest(
    tmp_path: Path, holders: list[Holder]
) -> None:
    url = _duckdb(tmp_path)
    holder = Holder(url, _JOB, _JOB_IMPORTS)
    holders.append(holder)
    for attempt in (url, f"{url}?access_mode=read_only"):
        with pytest.raises(WarehouseBusyError) as excinfo:
            wh = Warehouse(attempt, migrate=False)
            with wh.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        message = str(excinfo.value)
        assert "par l'ingestion n° 42 commencée le" in message
        assert f"processus {holder.pid} sur" in message
        assert "lock" not in message.lower() and "en cours d'utilisation" in message
    holder.kill()
    Warehouse(url).close()  # the lock died with its process (its job file, left, is ignored)


def test_a_process_holding_the_file_without_a_job_is_named_by_its_pid(
    tmp_path: Path, holders: list[Holder]
) -> None:
    url = _duckdb(tmp_path)
    path = job_file(url)
    assert path is not None
    # A description left by a job that died: not the holder, not shown.
    path.write_text(
        '{"kind": "ingestion", "pid": 1, "host": "h", "started": "2020-01-01T00:00:00"}'
    )
    holder = Holder(url, "wh.table_counts()")
    holders.append(holder)
    with pytest.raises(WarehouseBusyError) as excinfo:
        Warehouse(url)
    assert f"le processus {holder.pid}" in str(excinfo.value)
    assert "2020" not in str(excinfo.value)


def test_two_ingests_never_run_at_once(wh: Warehouse, holders: list[Holder]) -> None:
    wh.close()  # DuckDB: a process that keeps the file open holds it
    holder = Holder(wh.url, _JOB, _JOB_IMPORTS)
    holders.append(holder)
    # DuckDB: the file is held, so the warehouse cannot even be opened; PostgreSQL: opened, but
    # the job lease is refused. Either way, the message names the running ingest.
    with pytest.raises(WarehouseBusyError) as excinfo:
        second = Warehouse(wh.url, migrate=False)
        with second.exclusive("ingestion"):
            pass
    assert "n° 42" in str(excinfo.value)
    holder.kill()
    second = Warehouse(wh.url, migrate=False)
    with second.exclusive("ingestion"):  # free again: the lease died with its process
        pass
    second.close()


def test_a_second_job_in_the_same_process_is_refused(wh: Warehouse) -> None:
    with wh.exclusive("ingestion") as lease:
        lease.describe(7)
        with (
            pytest.raises(WarehouseBusyError, match="ingestion n° 7"),
            wh.exclusive("ingestion"),
        ):
            pass
    with wh.exclusive("ingestion"):
        pass


def test_the_job_file_is_private_and_removed_at_the_end(tmp_path: Path) -> None:
    wh = Warehouse(_duckdb(tmp_path))
    path = job_file(wh.url)
    assert path is not None
    with wh.exclusive("ingestion") as lease:
        lease.describe(3)
        assert path.stat().st_mode & 0o777 == 0o600
        assert Job(**json.loads(path.read_text())).run_id == 3
    assert not path.exists()
    wh.close()

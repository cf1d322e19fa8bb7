"""Test-wide settings: every test gets its own HOPIA_HOME; rebuildable caches are shared.

The compiled NLP pipeline is cached in <repo>/.hopia-cache (kept between runs and by CI), so
only the very first run on a machine pays the eds.cim10 build. The sample warehouse (the
synthetic CHU through the real ingest, ``tests/sample.py``) is built once per session, and
cached there too while nothing that made it has changed.

Fixtures of the sample warehouse:

- ``sample``: read-only, on DuckDB and on PostgreSQL (parametrised, session-wide);
- ``sample_copy``: a writable copy for one test, on both engines;
- ``sample_duckdb`` / ``sample_postgres``: one engine, read-only, for tests that compare them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests import sample as sample_module
from tests.platform.pg import PG_HOST, PG_USER

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
TEST_SECRET_KEY = "test-secret-not-for-production"
TEST_VAULT_KEY = "aG9waWEtdGVzdC12YXVsdC1rZXktMDEyMzQ1Njc4OSE="
TEST_AUDIT_KEY = "test-audit-key-not-for-production"
TEST_KEYS = {
    "HOPIA_SECRET_KEY": TEST_SECRET_KEY,
    "HOPIA_VAULT_KEY": TEST_VAULT_KEY,
    "HOPIA_AUDIT_KEY": TEST_AUDIT_KEY,
}
ENGINES = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]

if TYPE_CHECKING:
    from hopia.platform.warehouse import Warehouse

os.environ.setdefault("HOPIA_CACHE_DIR", str(REPO / ".hopia-cache"))
os.environ["TQDM_DISABLE"] = "1"
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def hopia_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from hopia.platform.config import get_settings

    home = tmp_path / "hopia-home"
    monkeypatch.setenv("HOPIA_HOME", str(home))
    monkeypatch.setenv("HOPIA_SECRET_KEY", TEST_SECRET_KEY)
    # Fixed, test-only vault key (base64 of 32 bytes): production keys come from `hopia init`.
    monkeypatch.setenv("HOPIA_VAULT_KEY", TEST_VAULT_KEY)
    monkeypatch.setenv("HOPIA_AUDIT_KEY", TEST_AUDIT_KEY)
    monkeypatch.delenv("HOPIA_WAREHOUSE_URL", raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``postgres`` every test parametrised on the PostgreSQL engine, whatever its fixture
    calls the parameter, so that ``-m "not postgres"`` leaves them all out."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if any(isinstance(v, str) and v in ("postgres", "postgresql") for v in params.values()):
            item.add_marker(pytest.mark.postgres)


def shared_path(*parts: str) -> Path:
    """A file under ../shared/data; the calling test is skipped when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data absent: {path}")
    return path


# -- the sample warehouse ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample DuckDB file. Never open it for writing: use ``sample_copy``."""
    cached = os.environ.get("HOPIA_TEST_SAMPLE_CACHE", "1") != "0"
    cache = Path(os.environ["HOPIA_CACHE_DIR"]) / "test-sample" if cached else None
    return sample_module.sample_file(tmp_path_factory.mktemp("sample"), TEST_KEYS, cache)


@pytest.fixture(scope="session")
def sample_duckdb(sample_file: Path) -> Iterator[Warehouse]:
    wh = sample_module.read_only_duckdb(sample_file)
    yield wh
    wh.close()


@pytest.fixture(scope="session")
def sample_pg(sample_file: Path) -> Iterator[sample_module.PostgresSample]:
    with sample_module.postgres_sample(sample_file, PG_HOST, PG_USER) as pg:
        yield pg


@pytest.fixture(scope="session")
def sample_postgres(sample_pg: sample_module.PostgresSample) -> Iterator[Warehouse]:
    wh = sample_module.open_existing(sample_pg.url(user=sample_pg.reader))
    yield wh
    wh.close()


@pytest.fixture(scope="session", params=ENGINES)
def sample(request: pytest.FixtureRequest) -> Warehouse:
    """The sample warehouse, read-only (a write raises), shared by the whole session."""
    return request.getfixturevalue(f"sample_{request.param}")


@pytest.fixture(params=ENGINES)
def sample_copy(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    """A writable copy of the sample for one test."""
    if request.param == "duckdb":
        wh = sample_module.duckdb_copy(request.getfixturevalue("sample_file"), tmp_path / "copy")
        sample_module.anchor_audit(wh, tmp_path / "copy-audit", TEST_AUDIT_KEY)
        yield wh
        wh.close()
        return
    pg: sample_module.PostgresSample = request.getfixturevalue("sample_pg")
    # CREATE DATABASE … TEMPLATE needs the template without connections: close the pool of the
    # read-only warehouse (it reconnects on its next use).
    request.getfixturevalue("sample_postgres").engine.dispose()
    wh = sample_module.open_existing(pg.url(pg.clone()))
    sample_module.anchor_audit(wh, tmp_path / "copy-audit", TEST_AUDIT_KEY)
    yield wh
    wh.close()  # the clone is dropped with the sample, at the end of the session


def use_in_process_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """The PHI model and the clinical NER in the test process: spawning the models worker (and
    loading them there) costs seconds per pipeline, and most tests that ingest are not about it
    (the worker has its own tests in tests/data/ingest)."""
    from hopia.platform.config import get_settings

    monkeypatch.setenv("HOPIA_DATA__PSEUDO__MODEL_WORKER", "false")
    monkeypatch.setenv("HOPIA_DATA__NLP__NER_WORKER", "false")
    get_settings.cache_clear()


@pytest.fixture
def in_process_models(monkeypatch: pytest.MonkeyPatch) -> None:
    use_in_process_models(monkeypatch)


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """One local Spark session (one JVM) for every Spark test of the run; the modules that use
    it skip first when pyspark is absent (``pytest.importorskip``)."""
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[1]")
        .appName("hopia-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield session
    session.stop()

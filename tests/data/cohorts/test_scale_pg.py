"""bench/scale_pg.py's loader, small, on the real PostgreSQL server: the generator's rows go
through Parquet and COPY unchanged (same counts, the migrations' indexes rebuilt), and the
bench's three-criteria cohort gives on PostgreSQL the attrition the same seed gives on DuckDB."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from sqlalchemy import func, select

from hopia.data.cohorts import parse_definition, run_cohort
from hopia.data.synth.scale import generate_scale
from hopia.platform.warehouse import Warehouse, schema
from tests.conftest import REPO
from tests.platform.pg import postgres_url

pytestmark = pytest.mark.postgres
PERSONS, SEED = 1000, 3


def _bench():
    sys.path.insert(0, str(REPO / "bench"))
    try:
        spec = importlib.util.spec_from_file_location(
            "bench_scale_pg", REPO / "bench" / "scale_pg.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(REPO / "bench"))
    return module


def test_parquet_and_copy_load_the_generator_rows(tmp_path: Path) -> None:
    pytest.importorskip("psycopg2")
    import psycopg2

    bench = _bench()
    duck = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    expected = generate_scale(duck, persons=PERSONS, seed=SEED, chunk=400)
    definition = parse_definition(bench.DEFINITION)
    duck_counts = [s.count for s in run_cohort(duck, definition).attrition]
    duck.close()

    with postgres_url() as url:
        wh = Warehouse(url)
        parts = urlparse(url.replace("postgresql+psycopg2", "postgresql"))
        raw = psycopg2.connect(
            host=parts.hostname, port=parts.port, user=parts.username, dbname=parts.path[1:]
        )
        try:
            before = bench.secondary_indexes(raw)
            report = bench.load(raw, PERSONS, seed=SEED, chunk=400, work=tmp_path / "parquet")
            after = bench.secondary_indexes(raw)
        finally:
            raw.close()
        assert dict(report.rows) == expected.rows
        assert before and after == before  # dropped for the load, built again
        with wh.engine.connect() as conn:
            for name, rows in expected.rows.items():
                table = schema.CDM[name]
                assert conn.execute(select(func.count()).select_from(table)).scalar() == rows
        pg_counts = [s.count for s in run_cohort(wh, definition).attrition]
        wh.close()
    assert pg_counts == duck_counts
    assert pg_counts[1] > 0 and pg_counts[-1] > 0  # the text criterion finds someone

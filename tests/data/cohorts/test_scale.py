"""The scale generator, small: plausible volumes, a meaningful text criterion, and the bench's
cohort giving the same attrition in SQL (DuckDB) and in pandas."""

from __future__ import annotations

import importlib.util

import pytest
from sqlalchemy import func, select

from hopia.data.cohorts import parse_definition, run_cohort
from hopia.data.synth.scale import generate_scale
from hopia.platform.exceptions import SynthError
from hopia.platform.warehouse import Warehouse, schema
from tests.conftest import REPO


def _bench():
    spec = importlib.util.spec_from_file_location("bench_cohort", REPO / "bench" / "cohort.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    wh = Warehouse(f"duckdb:///{tmp_path_factory.mktemp('scale') / 'w.duckdb'}")
    report = generate_scale(wh, persons=3000, seed=1, chunk=1000)
    assert report.rows["person"] == 3000
    # About 54 rows a person (visits 8, conditions 10, drugs 12, measurements 14, notes 3,
    # mentions 6): 1 M persons make about 50 M rows.
    assert 45 < report.total_rows / 3000 < 65
    yield wh
    wh.close()


def test_refuses_a_non_empty_warehouse(scaled: Warehouse) -> None:
    with pytest.raises(SynthError, match="entrepôt non vide"):
        generate_scale(scaled, persons=10)


def test_sql_and_pandas_agree_on_the_bench_cohort(scaled: Warehouse) -> None:
    bench = _bench()
    result = run_cohort(scaled, parse_definition(bench.DEFINITION), characterise_members=False)
    counts = [s.count for s in result.attrition]
    assert counts == bench.pandas_cohort(bench.load_frames(scaled))
    population, indexed, treated, raised = counts
    # Heart failure is about 4 % of persons plus noise; most are treated and most of those
    # have a raised BNP: every step keeps a real share.
    assert 0.03 * population < indexed < 0.2 * population
    assert 0.3 * indexed < treated < indexed and 0.3 * treated < raised < treated


def test_qualifiers_matter_at_scale(scaled: Warehouse) -> None:
    def indexed(**qualifiers: str) -> int:
        text = {"terms": ["insuffisance cardiaque"], **qualifiers}
        d = parse_definition({"name": "q", "title": "Q", "index": {"text": text}})
        return run_cohort(scaled, d, characterise_members=False).attrition[-1].count

    default = indexed()
    negated = indexed(negation="only")
    assert negated > 0 and indexed(negation="include") > default
    nlp = schema.CDM["note_nlp"]
    with scaled.engine.connect() as conn:
        kinds = conn.execute(select(func.count(nlp.c.term_temporal.distinct()))).scalar()
    assert kinds == 2  # present and history

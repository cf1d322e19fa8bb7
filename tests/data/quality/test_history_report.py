"""Run history in hopia_meta, the trend, and the JSON and HTML reports."""

from __future__ import annotations

import json
import re

from sqlalchemy import delete, func, select

from hopia.data.quality import (
    Status,
    load_catalogue,
    previous_results,
    run_checks,
    run_history,
    save_run,
)
from hopia.data.quality.enrichment import enrichment_report
from hopia.data.quality.report import build_report, render_html, write_reports
from hopia.platform.warehouse import schema
from tests.data.quality.builders import TODAY, plant_defects, seed_clean, warehouse

WEIGHT = "plausibleValueHigh:measurement.measurement_concept_id:3025315:unit=9529"
TABLES = ["person", "death", "measurement", "visit_occurrence"]


def test_history_trend_and_reports(tmp_path) -> None:
    catalogue = load_catalogue().select(tables=TABLES)
    with warehouse("duckdb", tmp_path) as wh:
        seed_clean(wh)
        plant_defects(wh)
        first = run_checks(wh, catalogue, today=TODAY)
        first_id = save_run(wh, first)
        with wh.begin() as conn:  # the 900 kg weight is corrected
            m = schema.CDM["measurement"]
            conn.execute(delete(m).where(m.c.value_as_number > 500))
        second = run_checks(wh, catalogue, today=TODAY)
        second_id = save_run(wh, second)
        history = run_history(wh)
        previous = previous_results(wh, second_id)
        with wh.engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(schema.quality_result)).scalar()
        report = build_report(second, catalogue, history, previous, enrichment_report(wh))

    assert (first_id, second_id) == (1, 2)
    assert stored == len(first.results) + len(second.results)
    assert [h.run_id for h in history] == [1, 2]
    assert history[0].failed == history[1].failed + 1
    assert history[1].pass_rate > history[0].pass_rate
    assert previous[WEIGHT][0] == "failed" and previous[WEIGHT][1] == 20.0
    fixed = next(r for r in report.results if r.check_id == WEIGHT)
    assert (fixed.status, fixed.previous_status) == (Status.PASSED, "failed")

    json_path, html_path = write_reports(report, tmp_path / "out", "qualite")
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert len(data["coverage"]) == 27
    assert data["totals"]["failed"] == second.count(Status.FAILED)
    assert {c["kahn_category"] for c in data["categories"]} == {
        "Conformance",
        "Completeness",
        "Plausibility",
    }
    assert [run["run_id"] for run in data["history"]] == [1, 2]
    assert data["enrichment"]["persons"] == 6

    html = html_path.read_text(encoding="utf-8")
    assert html == render_html(report)
    # Self-contained: nothing fetched from anywhere, no script.
    assert not re.search(r"(src|href)\s*=", html)
    assert "<script" not in html and "http" not in html.replace("http-equiv", "")
    assert '<html lang="fr">' in html
    for text in ("Contrôles non conformes", "Couverture des 27 types", "Tendance", "Complétude"):
        assert text in html
    assert "<polyline" in html  # two runs: a trend line
    assert "isRequired" in html and "person.year_of_birth" in html
    assert "Enrichissement par le TAL" in html


def test_html_escapes_catalogue_text(tmp_path) -> None:
    catalogue = load_catalogue().select(tables=["person"], check_types=["cdmTable"])
    with warehouse("duckdb", tmp_path) as wh:
        run = run_checks(wh, catalogue, today=TODAY)
    run.results[0].description = "<b>injecté</b>"
    run.results[0].status = Status.FAILED
    html = render_html(build_report(run, catalogue))
    assert "&lt;b&gt;injecté&lt;/b&gt;" in html and "<b>injecté</b>" not in html

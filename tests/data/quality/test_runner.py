"""The checks on small warehouses with planted defects, on DuckDB and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from hopia.data.quality import Status, load_catalogue, run_checks
from tests.conftest import ENGINES
from tests.data.quality.builders import DEFECTS, TODAY, plant_defects, seed_clean, warehouse
from tests.data.rows import Rows


def _failed(run) -> dict[str, int]:  # noqa: ANN001 - QualityRun
    return {r.check_id: r.num_violated for r in run.results if r.status == Status.FAILED}


def _errors(run) -> dict[str, str]:  # noqa: ANN001 - QualityRun
    return {r.check_id: r.detail for r in run.results if r.status == Status.ERROR}


@pytest.mark.parametrize("engine", ENGINES)
def test_clean_warehouse_passes_every_check(engine: str, tmp_path) -> None:
    with warehouse(engine, tmp_path) as wh:
        seed_clean(wh)
        run = run_checks(wh, today=TODAY)
    assert _errors(run) == {}
    assert _failed(run) == {}
    executed = {r.check_type for r in run.results if r.status == Status.PASSED}
    # The clean warehouse exercises most check types, not only the structural ones.
    assert {
        "isForeignKey",
        "fkDomain",
        "isStandardValidConcept",
        "plausibleAfterBirth",
        "plausibleBeforeDeath",
        "plausibleStartBeforeEnd",
        "withinVisitDates",
        "plausibleGender",
        "plausibleValueHigh",
        "measurePersonCompleteness",
    } <= executed


@pytest.mark.parametrize("engine", ENGINES)
def test_each_defect_is_caught_by_its_check_and_nothing_else(engine: str, tmp_path) -> None:
    with warehouse(engine, tmp_path) as wh:
        seed_clean(wh)
        plant_defects(wh)
        run = run_checks(wh, today=TODAY)
    assert _errors(run) == {}
    assert _failed(run) == DEFECTS
    by_id = {r.check_id: r for r in run.results}
    weight = by_id["plausibleValueHigh:measurement.measurement_concept_id:3025315:unit=9529"]
    assert (weight.num_violated, weight.num_denominator, weight.pct_violated) == (1, 5, 20.0)
    assert weight.kahn_category == "Plausibility" and weight.kahn_subcategory == "Atemporal"
    required = by_id["isRequired:person.year_of_birth"]
    assert required.num_denominator == 6 and required.kahn_category == "Conformance"


def test_not_applicable_without_data(tmp_path) -> None:
    with warehouse("duckdb", tmp_path) as wh:
        run = run_checks(wh, today=TODAY)
    assert _errors(run) == {} and _failed(run) == {}
    statuses = {r.check_type: r.status for r in run.results}
    assert statuses["cdmTable"] == statuses["cdmField"] == Status.PASSED
    reasons = {r.detail for r in run.results if r.status == Status.NOT_APPLICABLE}
    assert reasons == {"table vide", "aucune ligne concernée"}
    # table vide everywhere, except the completeness measures, which run and find no person
    person_completeness = next(
        r for r in run.results if r.check_id == "measurePersonCompleteness:observation_period"
    )
    assert person_completeness.detail == "aucune ligne concernée"


def test_thresholds_decide_pass_or_fail(tmp_path) -> None:
    """1 condition in 5 coded 0: 20 % fails a 5 % threshold, passes a 100 % one."""
    catalogue = load_catalogue().select(
        tables=["condition_occurrence"], check_types=["standardConceptRecordCompleteness"]
    )
    with warehouse("duckdb", tmp_path) as wh:
        seed_clean(wh)
        rows = Rows()
        rows.condition(1, 0, date(2020, 1, 10), condition_occurrence_id=9, visit_occurrence_id=1)
        rows.write(wh)
        run = run_checks(wh, catalogue, today=TODAY)
    results = {r.check_id.split(":")[1]: r for r in run.results}
    concept = results["condition_occurrence.condition_concept_id"]
    assert (concept.pct_violated, concept.threshold, concept.status) == (20.0, 5.0, Status.FAILED)
    status = results["condition_occurrence.condition_status_concept_id"]
    assert status.status == Status.NOT_APPLICABLE  # every value NULL: nothing to measure

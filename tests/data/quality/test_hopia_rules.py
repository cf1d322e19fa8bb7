"""Hopia's own rules: sex-specific CIM-10 codes and NLP analyte ranges, on local concepts."""

from __future__ import annotations

from datetime import date

import pytest

from hopia.data.quality import Status, load_catalogue, run_checks
from tests.conftest import ENGINES
from tests.data.quality.builders import TODAY, warehouse
from tests.data.rows import NLP, Rows

# Local CIM-10 concepts as Hopia's ConceptResolver writes them: non-standard, dotted codes.
BIRTH, PROSTATE, DIABETES = 2_000_000_001, 2_000_000_002, 2_000_000_003
DAY = date(2023, 1, 5)


@pytest.mark.parametrize("engine", ENGINES)
def test_cim10_sex_rules_and_nlp_analyte_ranges(engine: str, tmp_path) -> None:
    catalogue = load_catalogue().select(
        check_types=["plausibleGender", "plausibleValueLow", "plausibleValueHigh"]
    )
    rows = Rows()
    rows.concept(BIRTH, "O80", "CIM10", "Accouchement unique et spontané")
    rows.concept(PROSTATE, "C61", "CIM10", "Tumeur maligne de la prostate")
    rows.concept(DIABETES, "E11.9", "CIM10", "Diabète sucré de type 2, sans complication")
    rows.person(1, "M", date(1970, 1, 1))
    rows.person(2, "F", date(1985, 6, 1))
    for pid, concept in [
        (1, BIRTH),  # a man giving birth
        (2, BIRTH),
        (2, PROSTATE),  # a woman with prostate cancer
        (1, PROSTATE),
        (1, DIABETES),  # diabetes: either sex
    ]:
        rows.condition(pid, concept, DAY, NLP, condition_source_concept_id=concept)
    for pid, label, value in [
        (1, "charlson", 3),
        (2, "charlson", 52),  # above the sum of every Charlson weight
        (2, "sofa", 11),
    ]:
        rows.measurement(pid, 0, DAY, value, NLP, measurement_source_value=label)
    with warehouse(engine, tmp_path) as wh:
        run = run_checks(rows.write(wh), catalogue, today=TODAY)
    failed = {
        r.check_id: (r.num_violated, r.num_denominator)
        for r in run.results
        if r.status == Status.FAILED
    }
    assert failed == {
        "plausibleGender:condition_occurrence.condition_concept_id:cim10=O": (1, 2),
        "plausibleGender:condition_occurrence.condition_concept_id:cim10=C60+C61+C62+C63": (1, 2),
        "plausibleValueHigh:measurement.value_as_number:source=charlson": (1, 2),
    }
    passed = {r.check_id for r in run.results if r.status == Status.PASSED}
    assert "plausibleValueHigh:measurement.value_as_number:source=sofa" in passed
    assert "plausibleValueLow:measurement.value_as_number:source=charlson" in passed

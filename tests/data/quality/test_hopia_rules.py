"""Hopia's own rules: sex-specific CIM-10 codes and NLP analyte ranges, on local concepts."""

from __future__ import annotations

from datetime import date

import pytest

from hopia.data.quality import Status, load_catalogue, run_checks
from hopia.platform.warehouse import schema
from tests.data.quality.builders import ENGINES, FEMALE, MALE, NLP, TODAY, _person, warehouse

# Local CIM-10 concepts as Hopia's ConceptResolver writes them: non-standard, dotted codes.
LOCAL = [
    (2_000_000_001, "O80", "Accouchement unique et spontané"),
    (2_000_000_002, "C61", "Tumeur maligne de la prostate"),
    (2_000_000_003, "E11.9", "Diabète sucré de type 2, sans complication"),
]


def _nlp_condition(cid: int, pid: int, concept: int) -> dict:
    return {
        "condition_occurrence_id": cid,
        "person_id": pid,
        "condition_concept_id": concept,
        "condition_start_date": date(2023, 1, 5),
        "condition_type_concept_id": NLP,
        "condition_source_concept_id": concept,
    }


def _score(mid: int, pid: int, label: str, value: float) -> dict:
    return {
        "measurement_id": mid,
        "person_id": pid,
        "measurement_concept_id": 0,
        "measurement_date": date(2023, 1, 5),
        "measurement_type_concept_id": NLP,
        "value_as_number": value,
        "measurement_source_value": label,
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_cim10_sex_rules_and_nlp_analyte_ranges(engine: str, tmp_path) -> None:
    catalogue = load_catalogue().select(
        check_types=["plausibleGender", "plausibleValueLow", "plausibleValueHigh"]
    )
    with warehouse(engine, tmp_path) as wh:
        with wh.begin() as conn:
            wh.insert_rows(
                conn,
                schema.CDM["concept"],
                [
                    {
                        "concept_id": cid,
                        "concept_name": name,
                        "domain_id": "Condition",
                        "vocabulary_id": "CIM10",
                        "concept_class_id": "CIM10",
                        "standard_concept": None,
                        "concept_code": code,
                        "valid_start_date": date(1970, 1, 1),
                        "valid_end_date": date(2099, 12, 31),
                    }
                    for cid, code, name in LOCAL
                ],
            )
            wh.insert_rows(
                conn,
                schema.CDM["person"],
                [_person(1, MALE, date(1970, 1, 1)), _person(2, FEMALE, date(1985, 6, 1))],
            )
            wh.insert_rows(
                conn,
                schema.CDM["condition_occurrence"],
                [
                    _nlp_condition(1, 1, 2_000_000_001),  # a man giving birth
                    _nlp_condition(2, 2, 2_000_000_001),
                    _nlp_condition(3, 2, 2_000_000_002),  # a woman with prostate cancer
                    _nlp_condition(4, 1, 2_000_000_002),
                    _nlp_condition(5, 1, 2_000_000_003),  # diabetes: either sex
                ],
            )
            wh.insert_rows(
                conn,
                schema.CDM["measurement"],
                [
                    _score(1, 1, "charlson", 3),
                    _score(2, 2, "charlson", 52),  # above the sum of every Charlson weight
                    _score(3, 2, "sofa", 11),
                ],
            )
        run = run_checks(wh, catalogue, today=TODAY)
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

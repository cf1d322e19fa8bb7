"""Cohorts on a hand-written warehouse, on DuckDB and PostgreSQL: the same members, the same
attrition. Expected sets follow from the table in ``warehouse.py``: each patient plants one
qualifier, window or threshold case. Characterisation and the audited patient list are checked
on the sample warehouse (``test_sample.py``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from hopia.data.cohorts import (
    compile_cohort,
    parse_definition,
    run_cohort,
)
from hopia.platform.warehouse import Warehouse
from tests.data.cohorts.warehouse import fill
from tests.platform.pg import engine_warehouse

HF_TEXT = {"text": {"terms": ["insuffisance cardiaque"]}}
INDEXED = {1, 3, 4, 6, 7, 8}  # an affirmed, current mention
DRUG_MONTH = {"drug": {"atc": ["C03C"]}, "window": {"start": -30, "end": 30}}


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def wh(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Warehouse]:
    with engine_warehouse(request.param, tmp_path_factory.mktemp("cohorts")) as warehouse:
        fill(warehouse)
        yield warehouse


def definition(inclusion: list[dict], index: dict | None = HF_TEXT, **extra: Any):
    data = {"name": "essai", "title": "Essai", "inclusion": inclusion, **extra}
    if index is not None:
        data["index"] = index
    return parse_definition(data)


def members(wh: Warehouse, d) -> set[int]:  # noqa: ANN001
    with wh.engine.connect() as conn:
        return {int(r.person_id) for r in conn.execute(compile_cohort(d).members_query())}


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (HF_TEXT, INDEXED),
        ({"text": {"terms": ["insuffisance cardiaque"], "negation": "only"}}, {2}),
        ({"text": {"terms": ["insuffisance cardiaque"], "hypothesis": "only"}}, {8}),
        ({"text": {"terms": ["insuffisance cardiaque"], "family": "include"}}, INDEXED | {5}),
        ({"text": {"terms": ["insuffisance cardiaque"], "history": "include"}}, INDEXED | {5}),
        ({"text": {"terms": ["insuffisance cardiaque"], "history": "only"}}, {5}),
        (
            {"text": {"labels": ["congestive_heart_failure"], "negation": "include"}},
            INDEXED | {2},
        ),
        ({"text": {"cim10": ["I50"]}}, INDEXED),
        ({"text": {"terms": ["INSUFFISANCE CARDIAQUE"], "match": "exact"}}, {1, 3, 6, 8}),
        ({"text": {"terms": ["cardiaque congestive"]}}, {4, 7, 8}),
    ],
)
def test_text_qualifiers(wh: Warehouse, index: dict, expected: set[int]) -> None:
    assert members(wh, definition([], index=index, exclusion=[])) == expected


@pytest.mark.parametrize(
    ("criterion", "expected"),
    [
        (DRUG_MONTH, {1, 4, 7, 8}),
        ({"drug": {"atc": ["C03C"]}, "window": {"start": 0, "end": 1}}, {4, 8}),
        ({"drug": {"atc": ["C03CA01"]}, "window": {"start": 2, "end": 5}}, {1, 7}),
        ({"drug": {"atc": ["C01"]}}, set()),
        ({"not": DRUG_MONTH}, {3, 6}),
        (
            {
                "any_of": [
                    {"demographics": {"age_max": 17}},
                    {"all_of": [{"demographics": {"sex": ["F"]}}, {"not": DRUG_MONTH}]},
                ]
            },
            {3, 4, 6},
        ),
        ({"measurement": {"loinc": ["42637-9"], "value": {"gt": 400}}}, {1, 3, 4, 6, 8}),
        ({"measurement": {"source_values": ["42637-9"], "value": {"le": 500}}}, {3, 6, 7}),
        ({"measurement": {"loinc": ["42637-9"], "value": {"ge": 450, "lt": 800}}}, {3, 4, 6}),
        ({"text": {"terms": ["insuffisance"]}, "count": {"min": 2}}, {8}),
        ({"text": {"terms": ["insuffisance"]}, "count": {"min": 0, "max": 1}}, {1, 3, 4, 6, 7}),
        ({"condition": {"cim10": ["I50"]}}, {1}),
        ({"condition": {"cim10": ["I50"], "descendants": False}}, set()),
        ({"condition": {"cim10_prefixes": ["I5"]}}, {1}),
        ({"condition": {"concept_ids": [2_000_000_002]}}, {8}),
        ({"condition": {"cim10": ["E11"], "include_history": False}}, set()),
        ({"visit": {"care_sites": ["cardiologie"]}}, {1, 3}),
        ({"visit": {"care_sites": ["CARDIO"], "types": ["inpatient"]}}, {1, 3}),
        ({"demographics": {"sex": ["F"]}}, {3, 6, 8}),
        ({"demographics": {"age_min": 74, "age_max": 84}}, {8}),  # 73 at index for patient 1
    ],
)
def test_criteria_relative_to_index(wh: Warehouse, criterion: dict, expected: set[int]) -> None:
    assert members(wh, definition([criterion])) == expected


@pytest.mark.parametrize(
    ("criterion", "expected"),
    [
        ({"visit": {"types": ["outpatient"]}}, {2}),
        ({"visit": {"types": ["emergency"]}}, {5}),  # ER then inpatient (262) is both
        ({"visit": {"types": ["inpatient"]}}, {1, 3, 5}),
        ({"drug": {"atc": ["C03C"]}, "date_from": "2024-01-01"}, {1, 2, 4, 5, 7, 8}),
        ({"drug": {"atc": ["C03C"]}, "date_to": "2023-12-31"}, {6}),
        ({"demographics": {"age_max": 17}}, {4}),  # born mid-2010, 14 on 2024-12-31
        ({"demographics": {"age_min": 64, "age_max": 64}}, {2}),  # born June 1960
    ],
)
def test_criteria_without_index(wh: Warehouse, criterion: dict, expected: set[int]) -> None:
    d = definition([criterion], index=None, reference_date="2024-12-31")
    assert members(wh, d) == expected


FULL = {
    "inclusion": [
        {"label": "Adulte", "demographics": {"age_min": 18}},
        DRUG_MONTH,
        {
            "measurement": {"loinc": ["42637-9"], "value": {"gt": 400}},
            "window": {"start": -30, "end": 30},
        },
    ],
    "exclusion": [{"condition": {"cim10": ["E11"]}}],
}


def test_attrition_counts_each_step(wh: Warehouse) -> None:
    result = run_cohort(wh, definition(**FULL))
    assert [s.count for s in result.attrition] == [8, 6, 5, 3, 2, 1]
    assert [s.excluded for s in result.attrition] == [None, 2, 1, 2, 1, 1]
    assert [s.kind for s in result.attrition] == [
        "population",
        "index",
        "inclusion",
        "inclusion",
        "inclusion",
        "exclusion",
    ]
    assert result.attrition[2].label == "Adulte"
    assert result.attrition[3].label == "Inclusion 2 : médicament"
    assert members(wh, definition(**FULL)) == {1}


def test_public_results_suppress_small_cells_and_hold_no_identifier(wh: Warehouse) -> None:
    result = run_cohort(wh, definition(**FULL))
    public = result.public()
    assert [s["count"] for s in public["attrition"]] == ["<10"] * 6
    assert public["characterisation"] == {"persons": "<10", "withheld": "cohorte trop petite"}
    text = json.dumps(public, ensure_ascii=False)
    assert "person_id" not in text and "IPP" not in text
    # With a lower threshold the structure is visible, and still suppressed where small.
    low = run_cohort(wh, definition(FULL["inclusion"][:2])).public(threshold=2)
    # At threshold 2, "<2" is 1 by the rule itself: no complementary cell can hide it, none is
    # hidden (complementary suppression is tested in test_suppression_attack.py).
    assert low["characterisation"]["sex"] == {"M": 2, "F": "<2", "inconnu": 0}
    drugs = low["characterisation"]["drugs"]
    assert drugs["items"][0]["persons"] == 3 and drugs["hidden_items"] == 0
    assert low["characterisation"]["conditions"] == {"items": [], "hidden_items": 2}

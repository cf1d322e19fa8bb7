"""NLP mention -> OMOP table rules."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from hopia.data.omop.mapping import (
    NoteContext,
    coded_concept,
    fact_row,
    note_nlp_row,
    target_table,
)


@dataclass(frozen=True)
class M:
    label: str
    text: str = "x"
    start: int = 0
    end: int = 1
    negation: bool = False
    hypothesis: bool = False
    family: bool = False
    history: bool = False
    reported_speech: bool = False
    codes: dict[str, str] = field(default_factory=dict)
    pipe: str = "p"
    lexical_variant: str = "x"
    section: str | None = None
    value: Any = None
    unit: str | None = None


CTX = NoteContext(note_id=7, person_id=3, visit_occurrence_id=11, note_date=date(2024, 3, 12))


@pytest.mark.parametrize(
    ("mention", "table"),
    [
        (M("cim10", codes={"cim10": "I10"}), "condition_occurrence"),
        (M("diabetes", value="WITH_COMPLICATION"), "condition_occurrence"),
        (M("covid"), "condition_occurrence"),
        (M("drug", codes={"atc": "C07AB07"}), "drug_exposure"),
        (M("weight", value=72.0, unit="kg"), "measurement"),
        (M("charlson", value=3), "measurement"),
        (M("tnm", codes={"tnm": "pT2N0M0"}), "observation"),
        (M("date", value="2024-03-12"), None),
        (M("cim10", codes={"cim10": "J18"}, negation=True), None),
        (M("cim10", codes={"cim10": "J18"}, hypothesis=True), None),
        (M("diabetes", family=True), None),
        (M("cim10", codes={"cim10": "I21"}, history=True), "condition_occurrence"),
    ],
)
def test_target_table(mention: M, table: str | None) -> None:
    assert target_table(mention) == table


def test_codes_use_cim10_display_form() -> None:
    assert coded_concept(M("cim10", codes={"cim10": "U071"})) == ("CIM10", "U07.1")
    assert coded_concept(M("copd")) == ("CIM10", "J44")
    # EDS-NLP's "peripheral vascular disease" includes hypertension and embolism: no CIM-10 code.
    assert coded_concept(M("peripheral_vascular_disease")) == (
        "EDS-NLP",
        "peripheral_vascular_disease",
    )
    assert target_table(M("peripheral_vascular_disease")) == "condition_occurrence"
    assert coded_concept(M("drug", codes={"atc": "A10BA02"})) == ("ATC", "A10BA02")
    assert coded_concept(M("weight", value=3.0)) is None


def test_note_nlp_row_keeps_qualifiers_and_offsets() -> None:
    text = "Antécédents : infarctus du myocarde. Pas de fièvre."
    m = M("cim10", text="fièvre", start=44, end=50, negation=True, codes={"cim10": "R50"})
    row = note_nlp_row(m, CTX, 5, 2_000_000_001, "hopia-test", text)
    assert row["offset"] == "44-50" and text[44:50] == "fièvre"
    assert row["term_exists"] == "N" and row["term_temporal"] == "present"
    assert json.loads(row["term_modifiers"])["negation"] is True
    assert "fièvre" in row["snippet"]


def test_history_condition_is_marked() -> None:
    row = fact_row("condition_occurrence", M("cim10", history=True), CTX, 1, 42)
    assert row["condition_status_source_value"] == "antecedent"
    assert row["condition_type_concept_id"] == 32858  # NLP
    assert row["condition_start_date"] == date(2024, 3, 12)


def test_measurement_row() -> None:
    row = fact_row("measurement", M("weight", text="72 kg", value=72, unit="kg"), CTX, 9, 0)
    assert row["value_as_number"] == 72.0 and row["unit_source_value"] == "kg"
    assert row["measurement_source_value"] == "weight"

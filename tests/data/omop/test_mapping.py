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
    category: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


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


def test_lab_reading_is_a_loinc_measurement() -> None:
    attrs = {"loinc": "1988-5", "value": 120.0, "unit": "mg/L", "ref_low": 0.0, "ref_high": 5.0}
    crp = M("crp", "CRP 120 mg/L", codes={"loinc": "1988-5"}, value=120.0, unit="mg/L")
    crp = M(**{**crp.__dict__, "attributes": attrs, "category": "LAB"})
    assert coded_concept(crp) == ("LOINC", "1988-5")
    assert target_table(crp) == "measurement"
    row = fact_row("measurement", crp, CTX, 4, 2_000_000_010)
    assert row["measurement_concept_id"] == row["measurement_source_concept_id"] == 2_000_000_010
    assert row["measurement_source_value"] == "1988-5"
    assert (row["value_as_number"], row["unit_source_value"]) == (120.0, "mg/L")
    assert (row["range_low"], row["range_high"]) == (0.0, 5.0)
    assert row["value_source_value"] == "CRP 120 mg/L"


def test_blood_pressure_gives_two_measurement_rows() -> None:
    # hopia.labs emits one mention per value: systolic and diastolic
    pas = M("pas", "TA 150", codes={"loinc": "8480-6"}, value=150.0, unit="mmHg")
    pad = M("pad", "TA 150/90 mmHg", codes={"loinc": "8462-4"}, value=90.0, unit="mmHg")
    rows = [fact_row(target_table(m), m, CTX, i, 0) for i, m in enumerate((pas, pad))]
    assert [(r["measurement_source_value"], r["value_as_number"]) for r in rows] == [
        ("8480-6", 150.0),
        ("8462-4", 90.0),
    ]


def test_drug_exposure_carries_the_posology() -> None:
    attrs = {
        "dose": 1,
        "dose_unit": "g",
        "route": "orale",
        "frequency": "3/j",
        "per_day": 3.0,
        "duration_days": 7,
        "posology_text": "1 g x3/j per os pendant 7 jours",
    }
    m = M("drug", "amoxicilline", codes={"atc": "J01CA04"}, value=1, unit="g", attributes=attrs)
    assert target_table(m) == "drug_exposure"
    row = fact_row("drug_exposure", m, CTX, 2, 2_000_000_003)
    assert (row["quantity"], row["dose_unit_source_value"]) == (1.0, "g")
    assert row["route_source_value"] == "orale"
    assert row["sig"] == "1 g x3/j per os pendant 7 jours"
    assert row["days_supply"] == 7
    assert row["drug_exposure_end_date"] == date(2024, 3, 18)  # start + 7 days - 1


def test_drug_without_posology_keeps_empty_fields() -> None:
    row = fact_row("drug_exposure", M("drug", codes={"atc": "C07AB07"}), CTX, 1, 5)
    assert row["quantity"] is None and row["sig"] is None and row["days_supply"] is None
    assert row["drug_exposure_end_date"] == CTX.note_date


@pytest.mark.parametrize(
    ("result", "concept"),
    [("negative", 9189), ("positive", 9191), ("normal", 4069590), ("abnormal", 4135493)],
)
def test_a_qualitative_result_is_a_measurement_valued_by_concept(result: str, concept: int) -> None:
    # "la sérologie VIH est négative": the test was done; its result is a Meas Value concept
    test = M("clinical_ner", "sérologie VIH", attributes={"result": result}, category="LAB")
    assert target_table(test) == "measurement"
    row = fact_row("measurement", test, CTX, 5, 0)
    assert row["value_as_concept_id"] == concept and row["value_as_number"] is None
    assert row["measurement_source_value"] == "sérologie VIH"
    assert row["value_source_value"] == result


def test_numeric_and_qualitative_measurements_have_the_same_columns() -> None:
    # the bulk insert takes its columns from the first row of a batch
    number = fact_row("measurement", M("weight", value=72, unit="kg"), CTX, 1, 0)
    qualitative = fact_row("measurement", M("x", attributes={"result": "normal"}), CTX, 2, 0)
    assert number.keys() == qualitative.keys() and number["value_as_concept_id"] is None


def test_a_negated_test_or_an_unknown_result_is_no_measurement() -> None:
    assert target_table(M("x", attributes={"result": "negative"}, negation=True)) is None
    assert target_table(M("x", attributes={"result": "douteux"})) is None


def test_a_comorbidity_mention_takes_the_code_hopia_zones_gave_it() -> None:
    # issue 11: "HTA" from the Charlson vascular-disease pipe is hypertension, I10
    hta = M("peripheral_vascular_disease", "HTA", attributes={"cim10": "I10"})
    assert coded_concept(hta) == ("CIM10", "I10")
    assert target_table(hta) == "condition_occurrence"
    af = M("congestive_heart_failure", "ACFA", attributes={"cim10": "I489"})
    assert coded_concept(af) == ("CIM10", "I48.9")
    # no narrower code: the Charlson item's own
    assert coded_concept(M("diabetes", "diabète")) == ("CIM10", "E14")
    assert coded_concept(M("peripheral_vascular_disease", "AOMI")) == (
        "EDS-NLP",
        "peripheral_vascular_disease",
    )


def test_one_fact_per_mention() -> None:
    # the same words written by hopia.cim10 (E11) are the fact; eds.diabetes' is not a second
    twice = M("diabetes", "diabète de type 2", attributes={"same_mention_as": "cim10"})
    assert target_table(twice) is None
    bruise = M("cerebrovascular_accident", "Hématome", attributes={"not_a_condition": True})
    assert target_table(bruise) is None
    assert target_table(M("cim10", "diabète de type 2", codes={"cim10": "E11"})) == (
        "condition_occurrence"
    )


def _term(text: str, cim10: str, vocabulary: str = "HOPIA", **attributes: Any) -> M:
    code = "x" if vocabulary == "HOPIA" else cim10
    attrs = {"code": code, "vocabulary": vocabulary, "cim10": cim10, **attributes}
    return M("DISO", text, pipe="terms", category="DISO", attributes=attrs)


def test_a_lexicon_concept_that_won_its_words_is_the_fact() -> None:
    # "hépatite C": hopia.zones marked the terms mention as superseding cim10's "hépatite"
    hep_c = _term("hépatite C", "B182", supersedes=["cim10"])
    assert coded_concept(hep_c) == ("CIM10", "B18.2")
    assert target_table(hep_c) == "condition_occurrence"
    # the mention it beat is no second fact
    hep = M("cim10", "hépatite", codes={"cim10": "B159"}, attributes={"same_mention_as": "terms"})
    assert target_table(hep) is None
    # a lexicon concept that lost to another pipe's mention of its words: no fact
    assert target_table(_term("HTA", "I10", same_mention_as="peripheral_vascular_disease")) is None
    # negated: no fact, whatever won
    negated = _term("hépatite C", "B182", supersedes=["cim10"])
    assert target_table(M(**{**negated.__dict__, "negation": True})) is None


@pytest.mark.parametrize(
    ("mention", "fact"),
    [
        (_term("dyslipidémie", "E785"), True),  # a disease of the lexicon, found by no other pipe
        (_term("IRC", "N189"), True),
        (_term("dyspnée", "R060"), False),  # a sign stays a mention
        (_term("tabagisme actif", "F172"), False),  # an observation of eds.tobacco
        (_term("éthylisme chronique", "F102"), False),
        (_term("MRC", "N189", ambiguous=True), False),  # "MRC 4/5" is a strength score
        (_term("isolement", "Z290", vocabulary="CIM10"), False),  # a label: cim10's to write
        (M("ANAT", "coeur", pipe="terms", category="ANAT", attributes={"code": "coeur"}), False),
    ],
)
def test_a_lexicon_concept_alone_is_a_fact_only_for_a_disease(mention: M, fact: bool) -> None:
    assert (target_table(mention) == "condition_occurrence") is fact


@pytest.mark.parametrize(
    ("mention", "code"),
    [
        # CIM-10's I21 is an infarction of 4 weeks or less: told as history, an old one (I25.2)
        (M("myocardial_infarction", "IDM", history=True), "I25.2"),
        (M("myocardial_infarction", "IDM", history=True, attributes={"cim10": "I21"}), "I25.2"),
        (M(**{**_term("infarctus", "I219").__dict__, "history": True}), "I25.2"),
        (M("cim10", "infarctus", codes={"cim10": "I219"}, history=True), "I25.2"),
        # not in the history, or said recent: acute
        (M("myocardial_infarction", "IDM"), "I21"),
        (M("myocardial_infarction", "IDM", history=True, attributes={"acute": True}), "I21"),
        # other diseases keep their code in the history
        (M("cim10", "AVC", codes={"cim10": "I639"}, history=True), "I63.9"),
        # a code hopia.zones read from the words around a CIM-10 label wins over the label's
        (
            M("cim10", "Hépatite virale A", codes={"cim10": "B179"}, attributes={"cim10": "B159"}),
            "B15.9",
        ),
    ],
)
def test_an_infarction_told_as_history_is_an_old_one(mention: M, code: str) -> None:
    assert coded_concept(mention) == ("CIM10", code)


def test_an_hiv_status_of_the_lexicon_is_a_fact() -> None:
    # "séropositif pour le VIH": Z21, a status a clinician codes (other Z codes stay mentions)
    assert target_table(_term("séropositif pour le VIH", "Z21")) == "condition_occurrence"
    assert target_table(_term("VIH", "Z21", not_a_condition=True)) is None
    assert target_table(_term("isolement", "Z290")) is None


@pytest.mark.parametrize(
    ("when", "note_date", "code"),
    [
        ("2022-01", date(2022, 2, 1), "I21"),  # the month before the note: still acute
        ("2022-01", date(2022, 1, 28), "I21"),
        ("2020-02", date(2020, 9, 25), "I25.2"),  # months before: old
        ("2015", date(2015, 3, 1), "I25.2"),  # a year alone does not say within 4 weeks
        ("", date(2020, 1, 1), "I25.2"),
    ],
)
def test_an_infarction_of_the_history_dated_within_a_month_stays_acute(
    when: str, note_date: date, code: str
) -> None:
    idm = M("myocardial_infarction", "IDM", history=True, attributes={"when": when})
    assert coded_concept(idm, note_date) == ("CIM10", code)
    assert coded_concept(idm) == ("CIM10", "I25.2")  # no note date: the history decides

"""hopia.labs: analyte + value + unit + range flag, LOINC-coded (issue 4, item 3)."""

from __future__ import annotations

import pickle
from typing import Any

import edsnlp
import pytest

import hopia.data.nlp.pipes  # noqa: F401  (registers hopia.labs)
from hopia.data.nlp.pipes.labs.analytes import load_analytes
from hopia.data.nlp.pipes.labs.labs import parse_number


@pytest.fixture(scope="module")
def nlp() -> Any:
    nlp = edsnlp.blank("eds")
    nlp.add_pipe("eds.sentences")
    nlp.add_pipe("eds.normalizer")
    nlp.add_pipe("hopia.labs", name="labs")
    return nlp


def readings(nlp: Any, text: str) -> list[tuple[str, str, float, str | None]]:
    """(analyte key, span text, canonical value, canonical unit) per reading."""
    doc = nlp(text)
    return [
        (s.label_, s.text, s._.attributes["value"], s._.attributes["unit"])
        for s in doc.spans["labs"]
    ]


def one(nlp: Any, text: str) -> Any:
    spans = list(nlp(text).spans["labs"])
    assert len(spans) == 1, [(s.label_, s.text) for s in spans]
    return spans[0]


# --- the cases -------------------------------------------------------------------------


def test_values_are_labelled_by_analyte_not_by_unit(nlp: Any) -> None:
    got = readings(nlp, "Troponine 0,5 ng/mL, CRP 120 mg/L, hémoglobine 9,8 g/dL.")
    assert got == [
        ("troponine", "Troponine 0,5 ng/mL", 500.0, "ng/L"),
        ("crp", "CRP 120 mg/L", 120.0, "mg/L"),
        ("hemoglobine", "hémoglobine 9,8 g/dL", 9.8, "g/dL"),
    ]


def test_blood_pressure_is_two_measurements_never_a_fraction(nlp: Any) -> None:
    got = readings(nlp, "TA à 150/90 mmHg. PA 120/80.")
    assert got == [
        ("pas", "TA à 150", 150.0, "mmHg"),
        ("pad", "TA à 150/90 mmHg", 90.0, "mmHg"),
        ("pas", "PA 120", 120.0, "mmHg"),
        ("pad", "PA 120/80", 80.0, "mmHg"),
    ]
    codes = {s.label_: s.kb_id_ for s in nlp("TA 150/90 mmHg").spans["labs"]}
    assert codes == {"pas": "8480-6", "pad": "8462-4"}


def test_bedside_cmhg_blood_pressure(nlp: Any) -> None:
    assert [v for _, _, v, _ in readings(nlp, "TA 15/9")] == [150.0, 90.0]


def test_giga_per_litre_is_not_grams(nlp: Any) -> None:
    span = one(nlp, "Leucocytes 3,2 G/L")
    assert (span.label_, span._.attributes["value"], span._.attributes["unit"]) == (
        "leucocytes",
        3.2,
        "G/L",
    )
    assert span._.attributes["unit_source"] == "G/L" and span._.attributes["flag"] == "low"
    # the same letters after an albumin are grams
    assert one(nlp, "albumine 28 G/L")._.attributes["unit"] == "g/L"


def test_pack_years_are_not_a_pressure(nlp: Any) -> None:
    assert readings(nlp, "Tabagisme actif à 20 PA, sevré en 2019.") == []
    assert readings(nlp, "Tabac 20 PA. PA 130/85 mmHg") == [
        ("pas", "PA 130", 130.0, "mmHg"),
        ("pad", "PA 130/85 mmHg", 85.0, "mmHg"),
    ]


def test_platelets_with_thousands_per_mm3(nlp: Any) -> None:
    span = one(nlp, "plaquettes 180 000/mm3")
    assert span.text == "plaquettes 180 000/mm3"
    a = span._.attributes
    assert (a["value"], a["unit"], a["value_source"], a["loinc"]) == (
        180.0,
        "G/L",
        "180 000",
        "777-3",
    )
    assert a["flag"] == "normal"
    assert one(nlp, "Plaquettes : 45 G/L")._.attributes["flag"] == "low"


def test_heart_rate_in_bpm(nlp: Any) -> None:
    span = one(nlp, "FC 98 bpm")
    assert (span.label_, span._.attributes["value"], span.kb_id_) == ("fc", 98.0, "8867-4")
    assert one(nlp, "pouls à 112/min")._.attributes["flag"] == "high"


def test_prothrombin_ratio_in_percent(nlp: Any) -> None:
    span = one(nlp, "TP 52 %")
    assert (span.label_, span._.attributes["value"], span._.attributes["unit"]) == ("tp", 52.0, "%")
    assert span._.attributes["flag"] == "low"


def test_albumin_is_a_lab(nlp: Any) -> None:
    span = one(nlp, "albumine 28 g/L")
    assert span.label_ == "albumine" and span._.category == "LAB"
    assert span._.attributes["loinc"] == "1751-7" and span._.attributes["flag"] == "low"


def test_tnm_is_not_a_size(nlp: Any) -> None:
    assert readings(nlp, "Adénocarcinome pT2N0M0.") == []


# --- units, numbers and layout -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "value", "unit"),
    [
        ("créatininémie à 145 µmol/L", "creatinine", 145.0, "µmol/L"),
        ("créatinine 12 mg/L", "creatinine", 106.08, "µmol/L"),
        ("Hb : 12,3 g/dL", "hemoglobine", 12.3, "g/dL"),
        ("hémoglobine = 123 g/L", "hemoglobine", 12.3, "g/dL"),
        ("glycémie à jeun 1,26 g/L", "glycemie", 6.99426, "mmol/L"),
        ("Kaliémie : 5,8 mmol/L", "kaliemie", 5.8, "mmol/L"),
        ("natrémie 128 mmol/l", "natremie", 128.0, "mmol/L"),
        ("GB 12 000/mm3", "leucocytes", 12.0, "G/L"),
        ("PNN 0,4 G/L", "neutrophiles", 0.4, "G/L"),
        ("INR 2,8", "inr", 2.8, None),
        ("TCA 45 s", "tca", 45.0, "s"),
        ("fibrinogène 6,2 g/L", "fibrinogene", 6.2, "g/L"),
        ("D-dimères 1 250 ng/mL", "ddimeres", 1250.0, "ng/mL"),
        ("HbA1c 8,2 %", "hba1c", 8.2, "%"),
        ("NT-proBNP 3 400 pg/mL", "ntprobnp", 3400.0, "pg/mL"),
        ("troponine T hs : 58 ng/L", "troponine_t", 58.0, "ng/L"),
        ("TSH us 6,5 mUI/L", "tsh", 6.5, "mUI/L"),
        ("lactates 4,2 mmol/L", "lactates", 4.2, "mmol/L"),
        ("PaO2 9,5 kPa", "pao2", 71.25589, "mmHg"),
        ("procalcitonine 2,3 ng/mL", "pct", 2.3, "ng/mL"),
        ("vitamine D 12 ng/mL", "vitamine_d", 12.0, "ng/mL"),
        ("LDL-cholestérol 1,9 g/L", "ldl", 1.9, "g/L"),
        ("DFG (CKD-EPI) 45 mL/min/1,73 m²", "dfg", 45.0, "mL/min/1.73m²"),
        ("SpO2 91 % en air ambiant", "spo2", 91.0, "%"),
        ("T° 38,5 °C", "temperature", 38.5, "°C"),
        ("poids : 72,5 kg", "poids", 72.5, "kg"),
        ("taille 1m75", "taille", 175.0, "cm"),
        ("Taille : 1,68 m", "taille", 168.0, "cm"),
        ("IMC 31,2 kg/m²", "imc", 31.2, "kg/m²"),
        ("EVA 7/10", "eva", 7.0, "/10"),
        ("Glasgow 13", "glasgow", 13.0, "/15"),
        ("CRP (mg/L) : 85", "crp", 85.0, "mg/L"),
        ("ASAT 250 UI/L", "asat", 250.0, "UI/L"),
    ],
)
def test_units_and_conversions(
    nlp: Any, text: str, key: str, value: float, unit: str | None
) -> None:
    span = one(nlp, text)
    assert span.label_ == key
    assert span._.attributes["value"] == pytest.approx(value)
    assert span._.attributes["unit"] == unit


def test_comparators_and_ranges(nlp: Any) -> None:
    crp = one(nlp, "CRP < 5 mg/L")._.attributes
    assert (crp["comparator"], crp["value"], crp["flag"]) == ("<", 5.0, "normal")
    tn = one(nlp, "troponine > 50 000 ng/L")._.attributes
    assert (tn["comparator"], tn["value"], tn["flag"]) == (">", 50000.0, "high")
    ranged = one(nlp, "Hb 8-9 g/dL")._.attributes
    assert (ranged["value"], ranged["value_high"]) == (8.0, 9.0)


def test_lab_written_reference_range_wins(nlp: Any) -> None:
    a = one(nlp, "Hb 12,5 g/dL (N : 13-17)")._.attributes
    assert (a["ref_low"], a["ref_high"], a["ref_source"], a["flag"]) == (
        13.0,
        17.0,
        "document",
        "low",
    )


def test_flags(nlp: Any) -> None:
    flags = {
        s.label_: s._.attributes["flag"] for s in nlp("Na 128, K 6,1, Cl 101 mmol/L").spans["labs"]
    }
    assert flags == {"natremie": "low", "kaliemie": "high", "chloremie": "normal"}


def test_garbage_is_rejected(nlp: Any) -> None:
    # implausible values, wrong units, relative values and lower-case abbreviations
    assert readings(nlp, "Hb 1200 g/dL") == []
    assert readings(nlp, "vitamine K 10 mg") == []
    assert readings(nlp, "ASAT 3N, ALAT à 5 x N") == []
    assert readings(nlp, "ta 120, pas de fièvre, k 4") == []
    assert readings(nlp, "lymphocytes 20 %") == []


def test_vitals_named_by_their_unit(nlp: Any) -> None:
    got = readings(nlp, "Patient de 1m80, 98 bpm, 38,2 °C, 94 % en AA, 130/80 mmHg.")
    assert [(k, v) for k, _, v, _ in got] == [
        ("taille", 180.0),
        ("fc", 98.0),
        ("temperature", 38.2),
        ("spo2", 94.0),
        ("pas", 130.0),
        ("pad", 80.0),
    ]


def test_span_attributes_contract(nlp: Any) -> None:
    a = one(nlp, "Créatinine : 145 µmol/L")._.attributes
    assert {"loinc", "analyte", "value", "unit", "value_source", "unit_source"} <= set(a)
    assert {"ref_low", "ref_high", "flag", "comparator"} <= set(a)
    assert (a["analyte"], a["value_source"], a["unit_source"]) == ("créatinine", "145", "µmol/L")


def test_component_pickles_without_its_tables(nlp: Any) -> None:
    pipe = nlp.get_pipe("labs")
    blob = pickle.dumps(pipe)
    assert len(blob) < 2_000  # the table is reloaded from analytes.csv, not pickled
    clone = pickle.loads(blob)
    doc = clone(nlp.make_doc("CRP 12 mg/L"))
    assert [s.label_ for s in doc.spans["labs"]] == ["crp"]


def test_parse_number() -> None:
    assert parse_number("180 000") == 180000.0
    assert parse_number("3,2") == 3.2
    assert parse_number("1\u202f250,5") == 1250.5


def test_table_is_complete_and_consistent() -> None:
    table = load_analytes()
    assert len(table) >= 50
    for a in table.values():
        assert a.loinc and a.loinc_name, a.key
        assert a.plausible_low < a.plausible_high, a.key
        if a.ref_low is not None and a.ref_high is not None:
            assert a.plausible_low <= a.ref_low <= a.ref_high <= a.plausible_high, a.key

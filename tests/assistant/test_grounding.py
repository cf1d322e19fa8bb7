"""The grounding check on made-up sentences: a removed fact, a changed dose, a flipped negation
are flagged where they are; a grounded text gets no flag (real EDS-NLP pipeline)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from hopia.assistant.grounding import SourceText, check, fold

SOURCE = SourceText(
    "cr-1",
    "Patient de 72 ans, diabétique de type 2 traité par metformine 1000 mg deux fois par jour. "
    "Hypertension artérielle sous ramipril 5 mg. Pas d'insuffisance cardiaque. "
    "Créatinine à 95 µmol/L.",
)


@pytest.fixture(scope="module")
def nlp() -> Any:
    from hopia.data.nlp import get_nlp

    return get_nlp(cache_dir=Path(os.environ["HOPIA_CACHE_DIR"]))


def _flags(nlp: Any, output: str) -> list[tuple[str, str]]:
    return [(f.text, f.reason) for f in check(output, [SOURCE], nlp=nlp).flags]


def test_grounded_summary_has_no_flag(nlp: Any) -> None:
    report = check(
        "Diabète de type 2 sous metformine 1000 mg, hypertension artérielle traitée par "
        "ramipril 5 mg. Pas d'insuffisance cardiaque. Créatinine 95 µmol/L.",
        [SOURCE],
        nlp=nlp,
    )
    assert report.facts_checked >= 5
    assert report.grounded, report.flags


def test_changed_dose_is_flagged_on_the_drug(nlp: Any) -> None:
    output = "Diabète de type 2 sous metformine 850 mg."
    report = check(output, [SOURCE], nlp=nlp)
    (flag,) = report.flags
    assert (flag.text, flag.reason, flag.kind) == ("metformine", "dose", "drug")
    assert output[flag.start : flag.end] == "metformine"
    assert "850" in flag.message and "1000" in flag.message


TWO_DOSES = SourceText(
    "cr-3",
    "Hypothyroïdie substituée par lévothyroxine 75 µg/j puis 100 µg/j à partir de J5. "
    "Furosémide 40 mg IV puis 20 mg per os.",
)


def test_every_dose_a_drug_has_in_the_sources_backs_the_output(nlp: Any) -> None:
    """A drug given at two doses: either one (or both) in the output is grounded, not only
    the first; a dose given nowhere is flagged, the message naming the sources' doses."""
    for output in (
        "Lévothyroxine 100 µg/j.",
        "Lévothyroxine 75 µg/j puis 100 µg/j.",
        "Furosémide 20 mg per os.",
    ):
        assert check(output, [TWO_DOSES], nlp=nlp).grounded, output
    (flag,) = check("Lévothyroxine 125 µg/j.", [TWO_DOSES], nlp=nlp).flags
    assert (flag.text, flag.reason) == ("Lévothyroxine", "dose")
    assert "125" in flag.message and "75 µg" in flag.message and "100 µg" in flag.message
    # two doses in the output: the one the sources do not give is the one named
    flags = check("Furosémide 40 mg IV puis 10 mg per os.", [TWO_DOSES], nlp=nlp).flags
    (flag,) = [f for f in flags if f.kind == "drug"]  # the NER may read "puis 10" as a disorder
    assert flag.reason == "dose" and flag.message.startswith("dose 10 mg différente")


def test_a_dose_per_document_backs_the_output_too(nlp: Any) -> None:
    first = SourceText("j1", "Introduction de metformine 500 mg matin et soir.")
    later = SourceText("j5", "Metformine augmentée à 1000 mg matin et soir.")
    assert check("Metformine 1000 mg matin et soir.", [first, later], nlp=nlp).grounded
    assert check("Metformine 500 mg matin et soir.", [first, later], nlp=nlp).grounded


def test_changed_lab_value_is_flagged(nlp: Any) -> None:
    assert _flags(nlp, "Créatinine à 140 µmol/L.") == [("Créatinine à 140 µmol/L", "value")]


def test_flipped_negation_is_flagged_both_ways(nlp: Any) -> None:
    # the span is the merged entities' (the NER may take a word more)
    ((text, reason),) = _flags(nlp, "Insuffisance cardiaque connue.")
    assert text.startswith("Insuffisance cardiaque") and reason == "negation"
    ((text, reason),) = _flags(nlp, "Pas d'hypertension artérielle.")
    assert text.startswith("hypertension artérielle") and reason == "negation"


def test_fact_absent_from_the_sources_is_flagged(nlp: Any) -> None:
    flags = _flags(nlp, "Fibrillation auriculaire sous apixaban 5 mg. Diabète de type 2.")
    assert ("Fibrillation auriculaire", "absent") in flags
    assert ("apixaban", "absent") in flags
    assert len(flags) == 2  # the diabetes is grounded


def test_removed_fact_in_the_sources_is_flagged() -> None:
    # same output, the ramipril sentence removed from the sources: only the ramipril is flagged
    pytest.importorskip("edsnlp")
    from hopia.data.nlp import get_nlp

    nlp = get_nlp(cache_dir=Path(os.environ["HOPIA_CACHE_DIR"]))
    source = SourceText("cr-2", SOURCE.text.replace(" sous ramipril 5 mg", ""))
    report = check("Hypertension artérielle sous ramipril 5 mg.", [source], nlp=nlp)
    assert [(f.text, f.reason) for f in report.flags] == [("ramipril", "absent")]


def test_fold_is_lemma_ish() -> None:
    assert fold("Diabétique de type 2") == fold("diabète type 2")
    assert fold("insuffisances cardiaques") == fold("Insuffisance cardiaque")
    assert fold("insuffisance rénale") != fold("insuffisance cardiaque")


def test_markdown_and_generic_words_are_not_facts(nlp: Any) -> None:
    report = check(
        "**Traitements :** médicament anticoagulant. * Symptômes : aucun.", [SOURCE], nlp=nlp
    )
    assert not any(f.text in ("*", "**", "médicament", "Symptômes") for f in report.flags)


# --- paraphrases: brand and INN, doses per day, conclusions from values, words of absence ---


def _check(nlp: Any, source: str, output: str) -> list[tuple[str, str, str]]:
    report = check(output, [SourceText("s", source)], nlp=nlp)
    return [(f.text, f.reason, f.message) for f in report.flags]


@pytest.mark.parametrize(
    ("source", "output"),
    [
        ("Kardégic 75 mg par jour.", "Aspirine 75 mg/j."),  # brand -> INN (ATC candidates)
        ("Augmentin 1 g x3/j.", "Amoxicilline-acide clavulanique 3 g/j."),  # combination
        ("Entresto 49/51 mg matin et soir.", "Sacubitril-valsartan 49/51 mg x2/j."),
        ("Spiriva 18 µg par jour.", "Tiotropium 18 µg/j."),  # "tiotropium bromure" listed
        ("Symbicort 2 inhalations matin et soir.", "Budésonide."),  # an ingredient of it
    ],
)
def test_brand_and_inn_meet(nlp: Any, source: str, output: str) -> None:
    assert _check(nlp, source, output) == []


def test_a_brand_of_another_inn_is_flagged(nlp: Any) -> None:
    ((text, reason, _),) = _check(nlp, "Kardégic 75 mg par jour.", "Plavix 75 mg/j.")
    assert (text, reason) == ("Plavix", "absent")


def test_two_ingredients_of_one_combination_do_not_meet(nlp: Any) -> None:
    # both are in Rifinah (J04AM02): that makes neither the other
    flags = _check(nlp, "Rifampicine 600 mg par jour.", "Isoniazide 300 mg/j.")
    assert [(t, r) for t, r, _ in flags] == [("Isoniazide", "absent")]


@pytest.mark.parametrize(
    ("source", "output"),
    [
        ("Paracétamol 1 g x3/j.", "Paracétamol 3 g/j."),
        ("Paracétamol 1 g trois fois par jour.", "Paracétamol 1000 mg x3/j."),
        ("Metformine 500 mg matin et soir.", "Metformine 1 g/j."),
        ("Paracétamol 2 cp de 500 mg trois fois par jour.", "Paracétamol 3 g par jour."),
        ("Insuline glargine quarante unités le soir.", "Insuline glargine 40 UI le soir."),
        ("Lévothyroxine 100 µg le matin.", "Lévothyroxine 0,1 mg/j."),
    ],
)
def test_the_same_dose_written_otherwise_is_grounded(nlp: Any, source: str, output: str) -> None:
    assert _check(nlp, source, output) == []


@pytest.mark.parametrize(
    ("output", "shown"),
    [
        ("Paracétamol 2 g/j.", "2 g/j"),  # another total a day
        ("Paracétamol 1 g x2/j.", "1 g x2/j, soit 2 g/j"),  # the same intake, fewer a day
        ("Paracétamol 2 g x3/j.", "2 g x3/j, soit 6 g/j"),
    ],
)
def test_a_changed_dose_is_still_flagged_after_arithmetic(
    nlp: Any, output: str, shown: str
) -> None:
    ((text, reason, message),) = _check(nlp, "Paracétamol 1 g x3/j.", output)
    assert (text, reason) == ("Paracétamol", "dose")
    assert message == f"dose {shown} différente des sources (1 g x3/j, soit 3 g/j)"


def test_a_changed_dose_in_words_is_flagged(nlp: Any) -> None:
    flags = _check(nlp, "Insuline glargine quarante unités le soir.", "Insuline glargine 24 UI.")
    assert [(t, r) for t, r, _ in flags] == [("Insuline glargine", "dose")]


@pytest.mark.parametrize(
    ("source", "output"),
    [
        ("Hémoglobine 8,1 g/dL.", "Anémie."),
        ("IMC 33 kg/m².", "Patient obèse."),
        ("Kaliémie 5,8 mmol/L.", "Hyperkaliémie."),
        ("Température 38,9 °C.", "Patient fébrile."),
        ("DFG 38 mL/min/1,73 m².", "Insuffisance rénale chronique."),
        ("VGM 68 fL, hémoglobine 8 g/dL.", "Anémie microcytaire."),
        ("Hémoglobine 14,2 g/dL.", "Pas d'anémie."),
    ],
)
def test_a_condition_a_source_value_shows_is_grounded(nlp: Any, source: str, output: str) -> None:
    assert _check(nlp, source, output) == []


def test_a_condition_the_source_value_contradicts_is_flagged_with_the_value(nlp: Any) -> None:
    ((text, reason, message),) = _check(nlp, "Hémoglobine 13,5 g/dL.", "Anémie.")
    assert (text, reason) == ("Anémie", "value")
    assert "Hémoglobine 13,5 g/dL" in message and "< 12 g/dL" in message
    ((text, reason, message),) = _check(nlp, "Hémoglobine 8 g/dL.", "Pas d'anémie.")
    assert (text, reason) == ("anémie", "negation")
    assert "Hémoglobine 8 g/dL" in message


def test_a_value_does_not_back_what_it_does_not_say(nlp: Any) -> None:
    # an Hb of 8 shows an anaemia, not its cause; no VGM: not that it is microcytic
    flags = _check(nlp, "Hémoglobine 8 g/dL.", "Anémie ferriprive.")
    assert [r for _, r, _ in flags] == ["absent"]
    flags = _check(nlp, "Hémoglobine 8 g/dL.", "Anémie microcytaire.")
    assert [r for _, r, _ in flags] == ["absent"]


def test_words_of_absence_read_as_the_condition_negated(nlp: Any) -> None:
    assert _check(nlp, "Pas de fièvre.", "Patient apyrétique.") == []
    ((text, reason, message),) = _check(nlp, "Pas de fièvre.", "Patient fébrile.")
    assert (text, reason) == ("fébrile", "negation")
    assert "« fièvre »" in message
    ((text, reason, message),) = _check(nlp, "Fièvre à 39 °C.", "Patient apyrétique.")
    assert (text, reason) == ("apyrétique", "negation")
    assert message.startswith("fièvre niée ici (« apyrétique »)")
    ((text, reason, _),) = _check(nlp, "Température 39,2 °C.", "Apyrétique.")
    assert (text, reason) == ("Apyrétique", "negation")


def test_synonyms_and_abbreviations_meet_by_their_codes(nlp: Any) -> None:
    assert _check(nlp, "Insuffisance rénale chronique.", "IRC.") == []
    assert _check(nlp, "IRC stade 3.", "Maladie rénale chronique.") == []
    flags = _check(nlp, "Insuffisance rénale chronique.", "IRA.")  # another concept
    assert [(t, r) for t, r, _ in flags] == [("IRA", "absent")]


def test_the_rules_table_names_known_analytes_in_their_units() -> None:
    from hopia.assistant.grounding import rules
    from hopia.data.nlp.pipes.labs.analytes import load_analytes

    analytes = load_analytes()
    table = rules()
    assert table.conclusions and table.absences
    for rule in table.conclusions:
        assert rule.lab in analytes, rule.condition
        assert rule.unit == analytes[rule.lab].unit, rule.condition
        assert rule.source and rule.words, rule.condition


def test_a_flipped_test_result_is_flagged(nlp: Any) -> None:
    source = "Quantiféron négatif. Hémocultures négatives. Sérologie VIH négative."
    flags = _check(nlp, source, "Quantiféron positif, hémocultures stériles. VIH négatif.")
    assert [(t, r) for t, r, _ in flags] == [("Quantiféron positif", "negation")]
    assert flags[0][2] == (
        "résultat positif ici mais négatif dans les sources (« Quantiféron négatif »)"
    )
    flags = _check(nlp, source, "Hémocultures positives.")
    assert [(t, r) for t, r, _ in flags] == [("Hémocultures positives", "negation")]


def test_a_result_of_a_test_the_sources_do_not_give_is_not_judged(nlp: Any) -> None:
    # only a contradiction is flagged: the sources may name the test otherwise (IGRA)
    assert _check(nlp, "IGRA négatif.", "Antigénurie légionelle négative.") == []


def test_a_value_written_with_its_condition_is_read(nlp: Any) -> None:
    # "hyponatrémie à 126 mmol/L": the labs pipe reads the natremia there
    assert _check(nlp, "Hyponatrémie à 126 mmol/L.", "Natrémie 126 mmol/L.") == []
    flags = _check(nlp, "Hyponatrémie à 126 mmol/L.", "Natrémie 136 mmol/L.")
    assert [r for _, r, _ in flags] == ["value"]

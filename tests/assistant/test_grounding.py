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

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

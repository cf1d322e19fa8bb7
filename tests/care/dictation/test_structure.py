"""Structuring (issue 14, item 4): the template's sections and the coded facts of Hopia's NLP,
each fact with its characters and its seconds of audio."""

from __future__ import annotations

from typing import Any

import pytest

from hopia.care.dictation.conventions import Word, apply_conventions
from hopia.care.dictation.structure import TEMPLATES, split_sections, structure, template
from hopia.platform.exceptions import InvalidRequestError


@pytest.fixture(scope="module")
def nlp() -> Any:
    from hopia.data.nlp import get_nlp
    from hopia.platform.config import get_settings

    return get_nlp(cache_dir=get_settings().cache_dir)


def said(text: str) -> list[Word]:
    return [Word(w, i * 0.5, i * 0.5 + 0.4) for i, w in enumerate(text.split())]


def test_sections_follow_the_template() -> None:
    text = "Douleur thoracique.\nConclusion : angor.\nAntécédents : HTA.\nPhrase : libre."
    sections = split_sections(text, TEMPLATES["consultation"])
    # said before any heading → the first section; the template's order; an unknown title last
    assert list(sections) == ["Motif de consultation", "Antécédents", "Conclusion", "Phrase"]
    assert sections["Antécédents"] == "HTA."
    assert sections["Motif de consultation"] == "Douleur thoracique."


def test_unknown_template_is_a_french_error() -> None:
    with pytest.raises(InvalidRequestError, match="modèle de note inconnu"):
        template("roman")


def test_facts_are_coded_qualified_and_timed(nlp: Any) -> None:
    from hopia.data.nlp.extract import doc_entities

    dictated = apply_conventions(
        said(
            "antécédents deux points diabète de type deux point à la ligne traitement deux "
            "points metformine cinq cents milligrammes deux fois par jour point conclusion "
            "deux points pas de fièvre point"
        )
    )
    note = structure(dictated, template("crh"), doc_entities(nlp(dictated.text)))
    by_code = {next(iter(f.codes.values())): f for f in note.facts}
    diabetes, metformin, fever = by_code["E11"], by_code["A10BA02"], by_code["R509"]
    assert dictated.text[diabetes.start : diabetes.end] == diabetes.text == "diabète de type 2"
    assert (diabetes.kind, diabetes.negation) == ("condition", False)
    # "diabète de type deux" was said from word 3 to word 6
    assert (diabetes.audio_start, diabetes.audio_end) == (1.5, 3.4)
    assert metformin.kind == "drug"
    assert metformin.attributes["dose"] == 500 and metformin.attributes["per_day"] == 2.0
    assert fever.negation and fever.kind == "condition"
    assert list(note.sections) == ["Antécédents", "Traitement", "Conclusion"]
    # one fact per concept and mention, even when two pipes read it
    assert len({(f.start, f.end, tuple(f.codes.items())) for f in note.facts}) == len(note.facts)

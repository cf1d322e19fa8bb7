"""hopia.sections: titles on their own line and inline, eds.sections' output contract, the
sections of hospitalisation reports, consultations and operative reports (issue 4, item 5)."""

from __future__ import annotations

import pickle
from typing import Any

import edsnlp
import pytest

import hopia.data.nlp.pipes  # noqa: F401  (registers the hopia.* factories)
from hopia.data.nlp import pipeline as P


def _nlp(sections_factory: str) -> Any:
    nlp = edsnlp.blank("eds")
    nlp.add_pipe("eds.sentences")
    nlp.add_pipe("eds.normalizer")
    config = next(cfg for f, n, cfg in P.PIPELINE if n == "sections")
    nlp.add_pipe(
        sections_factory,
        name="sections",
        config=dict(config) if sections_factory.startswith("hopia.") else {},
    )
    return nlp


@pytest.fixture(scope="module")
def nlp() -> Any:
    return _nlp("hopia.sections")


@pytest.fixture(scope="module")
def raw() -> Any:
    return _nlp("eds.sections")


def sections(nlp: Any, text: str) -> list[tuple[str, str]]:
    """(label, title text) of each section."""
    doc = nlp(text)
    return [(s.label_, s._.section_title.text) for s in doc.spans["sections"]]


def test_the_pipeline_uses_hopia_sections_under_the_name_family_and_history_look_up() -> None:
    specs = {name: factory for factory, name, _ in P.PIPELINE}
    assert specs["sections"] == "hopia.sections"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Motif : fièvre et toux.\n", [("motif", "Motif")]),
        ("ATCD : HTA, diabète\n", [("antécédents", "ATCD")]),
        (
            "Motif : fièvre et toux.\nATCD : HTA, diabète\nConclusion : pneumopathie.\n",
            [("motif", "Motif"), ("antécédents", "ATCD"), ("conclusion", "Conclusion")],
        ),
        # after the end of a sentence on the same line
        ("Patient apyrétique. Conclusion : pneumopathie.", [("conclusion", "Conclusion")]),
    ],
)
def test_inline_titles(nlp: Any, raw: Any, text: str, expected: list[tuple[str, str]]) -> None:
    assert sections(nlp, text) == expected
    assert sections(raw, text) == []  # eds.sections wants a title alone on its line


@pytest.mark.parametrize(
    "text",
    [
        "Le patient dit : pas de douleur.\n",
        "Il a été vu en consultation, conclusion : à revoir.\n",  # not after a sentence end
        "Conclusion du scanner : pas d'anomalie.\n",  # a title followed by more words
        "Évolution favorable sous antibiotiques.\n",  # a title word opening a sentence
        "Sa fille rapporte : motif inconnu.\n",
    ],
)
def test_no_false_titles(nlp: Any, text: str) -> None:
    assert sections(nlp, text) == []


@pytest.mark.parametrize(
    ("title", "label"),
    [
        # hospitalisation reports
        ("MOTIF D'HOSPITALISATION", "motif"),
        ("Histoire de la maladie", "histoire de la maladie"),
        ("Histoire récente", "histoire de la maladie"),
        ("HDM", "histoire de la maladie"),
        ("Antécédents médicaux et chirurgicaux", "antécédents"),
        ("Antécédents chirurgicaux", "antécédents"),
        ("ANTÉCÉDENTS FAMILIAUX", "antécédents familiaux"),
        ("Mode de vie", "habitus"),
        ("Traitement habituel", "traitements entrée"),
        ("Traitement", "traitement"),
        ("Traitement à l'entrée", "traitements entrée"),
        ("Traitement de sortie", "traitements sortie"),
        ("Allergies", "allergies"),
        ("Examen clinique à l'entrée", "examens"),
        ("Examens complémentaires", "examens complémentaires"),
        ("Biologie", "biologie"),
        ("Imagerie", "imagerie"),
        ("Évolution dans le service", "evolution"),
        ("Conclusion", "conclusion"),
        ("Synthèse", "conclusion"),
        ("Au total", "conclusion"),
        ("Diagnostic retenu", "diagnostic"),
        ("Conduite à tenir", "conduite à tenir"),
        # consultations
        ("Plainte", "motif"),
        ("Examen", "examens"),
        ("Prescription", "prescriptions"),
        # operative reports
        ("Indication opératoire", "indication"),
        ("Installation", "installation"),
        ("Voie d'abord", "voie d'abord"),
        ("Temps opératoire", "temps opératoire"),
        ("Description de l'intervention", "temps opératoire"),
        ("Incidents peropératoires", "incidents"),
        ("Fermeture", "fermeture"),
        ("Suites opératoires", "suites opératoires"),
        ("Compte rendu anatomopathologique", "anatomopathologie"),
    ],
)
@pytest.mark.parametrize("layout", ["{t}\nTexte.\n", "{t} :\nTexte.\n", "{t} : texte.\n"])
def test_known_titles(nlp: Any, title: str, label: str, layout: str) -> None:
    text = "Document.\n" + layout.format(t=title)
    assert sections(nlp, text) == [(label, title)]


@pytest.mark.parametrize(
    "line",
    [
        "1. Motif : toux",
        "- Motif : toux",
        "II - Motif : toux",
        "**Motif** : toux",
        "  Motif : toux",
    ],
)
def test_bullets_numbers_and_markup_before_a_title(nlp: Any, line: str) -> None:
    assert sections(nlp, line + "\n") == [("motif", "Motif")]


def test_output_contract_of_eds_sections(nlp: Any) -> None:
    text = (
        "Compte rendu d'hospitalisation\n"
        "Motif : toux.\n"
        "Antécédents :\n- HTA\n"
        "Conclusion : pneumopathie.\n"
    )
    doc = nlp(text)
    titles = list(doc.spans["section_titles"])
    found = list(doc.spans["sections"])
    assert [t.text for t in titles] == [
        "Compte rendu d'hospitalisation",
        "Motif",
        "Antécédents",
        "Conclusion",
    ]
    assert [s.label_ for s in found] == ["introduction", "motif", "antécédents", "conclusion"]
    # each section runs from its title to the next title, the last one to the end
    for section, title, following in zip(found, titles, [*titles[1:], None], strict=True):
        assert section.start == title.start
        assert section.end == (following.start if following is not None else len(doc))
        assert section._.section_title == title
        assert title.label_ == section.label_


def test_an_inline_section_stops_at_the_end_of_its_paragraph(nlp: Any) -> None:
    text = "ATCD : HTA, diabète\n- AVC en 2010\n\nPatient de 70 ans admis pour une toux.\n"
    doc = nlp(text)
    (section,) = doc.spans["sections"]
    assert section.label_ == "antécédents"
    assert section.text.strip() == "ATCD : HTA, diabète\n- AVC en 2010"
    # a title alone on its line keeps its section up to the next title, blank lines included
    doc = nlp("Antécédents :\nHTA\n\nDiabète\nMotif : toux\n")
    assert [s.text.strip() for s in doc.spans["sections"]] == [
        "Antécédents :\nHTA\n\nDiabète",
        "Motif : toux",
    ]


def test_text_before_the_first_title_is_in_no_section(nlp: Any) -> None:
    doc = nlp("CHU de Lyon\nService de pneumologie\n\nMotif : toux.\n")
    assert doc.spans["sections"][0].start_char == doc.text.index("Motif")
    assert sections(nlp, "Pas de titre ici.\n") == []


def test_entities_found_before_learn_their_section(nlp: Any) -> None:
    doc = nlp.make_doc("Motif : toux.\nAntécédents : HTA.\n")
    doc.ents = [doc.char_span(8, 12, "x"), doc.char_span(28, 31, "x")]
    for _, pipe in nlp.pipeline:
        doc = pipe(doc)
    assert [e._.section for e in doc.ents] == ["motif", "antécédents"]


def test_pickles_and_behaves_the_same(nlp: Any) -> None:
    text = "Motif : toux.\nATCD : HTA\n"
    again = pickle.loads(pickle.dumps(nlp))
    assert (
        sections(again, text)
        == sections(nlp, text)
        == [
            ("motif", "Motif"),
            ("antécédents", "ATCD"),
        ]
    )


def test_custom_titles(nlp: Any) -> None:
    custom = edsnlp.blank("eds")
    custom.add_pipe("hopia.sections", name="sections", config={"sections": {"rcp": [r"rcp"]}})
    assert sections(custom, "RCP : chimiothérapie.\nMotif : toux\n") == [("rcp", "RCP")]

"""hopia.terms: signs, symptoms, disorders, procedures, anatomy and drugs in realistic sentences,
with their semantic group, concept code and vocabulary. Sentences are fictitious."""

from __future__ import annotations

import pickle
from pathlib import Path

import edsnlp
import pytest
from spacy.tokens import Doc

from hopia.data.nlp.pipeline import use_cache_dir
from hopia.data.nlp.pipes.terms import patterns
from hopia.platform.config import get_settings


@pytest.fixture(scope="module")
def nlp() -> edsnlp.Pipeline:
    nlp = edsnlp.blank("eds")
    nlp.add_pipe("eds.sentences")
    nlp.add_pipe("eds.normalizer")
    nlp.add_pipe("hopia.cim10", name="cim10", config={"span_setter": {"cim10": True}})
    nlp.add_pipe("hopia.terms", name="terms", config={"span_setter": {"terms": True}})
    use_cache_dir(nlp, get_settings().cache_dir)  # the compiled tables of the shared cache
    return nlp


def terms(doc: Doc) -> dict[str, tuple[str, dict]]:
    out = {}
    for span in doc.spans["terms"]:
        assert span.label_ == span._.category
        assert doc.text[span.start_char : span.end_char] == span.text
        out[span.text] = (span._.category, span._.attributes)
    return out


def categories(nlp: edsnlp.Pipeline, text: str) -> dict[str, str]:
    """Mentions of both lexicon pipes: a CIM-10 label is found by cim10 and not repeated."""
    doc = nlp(text)
    found = {s.text: s._.category for s in doc.spans["cim10"]}
    return found | {t: cat for t, (cat, _) in terms(doc).items()}


def test_signs_and_symptoms(nlp) -> None:
    found = categories(
        nlp,
        "Patiente de 78 ans adressée pour dyspnée d'effort, œdèmes des membres inférieurs et "
        "céphalées. Frissons la nuit, asthénie marquée, perte de poids de 5 kg.",
    )
    for mention in [
        "dyspnée d'effort",
        "œdèmes des membres inférieurs",
        "céphalées",
        "Frissons",
        "asthénie",
        "perte de poids",
    ]:
        assert found.get(mention) == "DISO", (mention, found)


def test_procedures(nlp) -> None:
    found = categories(
        nlp,
        "Une coronarographie a été réalisée le 12/03, puis une échographie transthoracique. "
        "Le scanner thoracique est normal. Pose d'une voie veineuse périphérique et "
        "antibiothérapie probabiliste. Hémocultures prélevées.",
    )
    for mention in [
        "coronarographie",
        "échographie transthoracique",
        "scanner thoracique",
        "voie veineuse périphérique",
        "antibiothérapie probabiliste",
        "Hémocultures",
    ]:
        assert found.get(mention) == "PROC", (mention, found)


def test_anatomy(nlp) -> None:
    found = categories(
        nlp,
        "Douleur du genou droit irradiant vers la cheville. Opacité du lobe inférieur du poumon "
        "gauche. Dilatation des cavités pyélocalicielles du rein droit.",
    )
    for mention in [
        "genou",
        "cheville",
        "lobe inférieur",
        "poumon",
        "cavités pyélocalicielles",
        "rein droit",
    ]:
        assert found.get(mention) == "ANAT", (mention, found)


def test_drugs_carry_their_atc_code(nlp) -> None:
    found = terms(nlp(nlp.make_doc("Relais par amoxicilline et paracétamol.").text))
    assert found["amoxicilline"] == ("CHEM", {"code": "J01CA04", "vocabulary": "ATC"})
    assert found["paracétamol"][0] == "CHEM"
    assert found["paracétamol"][1]["code"].startswith("N02BE01")


def test_hopia_concepts_carry_their_cim10_code(nlp) -> None:
    found = terms(nlp("Antécédents : HTA, fibrillation auriculaire, BPCO."))
    assert found["HTA"] == ("DISO", {"code": "hta", "vocabulary": "HOPIA", "cim10": "I10"})
    assert found["BPCO"][1]["cim10"] == "J449"


def test_cim10_labels_and_ambiguous_acronyms(nlp) -> None:
    doc = nlp("Recherche de BK dans les crachats. Force MRC 4/5. Isolement social.")
    found = {s.text: s._.attributes for s in doc.spans["terms"]}
    # an acronym that names another thing as often: no fact of its own (mapping.terms_fact)
    assert found["BK"]["ambiguous"] is True and found["MRC"]["ambiguous"] is True
    # "isolement" (CIM-10 Z29.0) outside a care-measure context is not a term either
    assert not any(t.lower().startswith("isolement") for t in found), found
    doc = nlp("Hernie hiatale.")
    [(text, attributes)] = [(s.text, s._.attributes) for s in doc.spans["terms"]]
    assert attributes["cim10"] == "K449" and "ambiguous" not in attributes


def test_acronyms_match_capitals_only(nlp) -> None:
    assert "FA" in categories(nlp, "Découverte d'une FA.")
    assert "fa" not in categories(nlp, "il fa do ré mi")


def test_plural_feminine_and_article_variants(nlp) -> None:
    found = categories(
        nlp,
        "Fractures costales. Douleurs abdominales. Insuffisance rénale aiguë. Cancer de la vessie.",
    )
    assert found.get("Fractures") == "DISO"
    assert found.get("Insuffisance rénale aiguë") == "DISO"
    assert found.get("Cancer de la vessie") == "DISO"


def test_mentions_already_found_by_cim10_are_not_repeated(nlp) -> None:
    doc = nlp("Toux et fièvre. Insuffisance cardiaque congestive.")
    cim10 = {(s.start_char, s.end_char) for s in doc.spans["cim10"]}
    term_spans = {(s.start_char, s.end_char) for s in doc.spans["terms"]}
    assert cim10, "cim10 should find these labels"
    assert not cim10 & term_spans


def test_mentions_already_found_as_drugs_are_not_repeated(nlp) -> None:
    terms_pipe = nlp.get_pipe("terms")
    doc = nlp.make_doc("Kardégic 75 mg et ramipril.")
    doc.spans["drug"] = [doc.char_span(0, 8, label="drug", kb_id="B01AC06")]
    found = [s.text for s in terms_pipe(doc).spans["terms"]]
    assert found == ["ramipril"]


def test_terms_do_not_cross_sentence_punctuation(nlp) -> None:
    assert "douleur thoracique" not in {t.lower() for t in categories(nlp, "Douleur. Thoracique.")}


def test_lexicon_file_is_well_formed_and_large_enough() -> None:
    pairs = patterns.read_lexicon()  # raises on a malformed line or an unknown CIM-10 code
    concepts = {entry[0] for _, entry in pairs}
    assert len(concepts) >= 250 and len(pairs) >= 1_000
    assert {entry[1] for _, entry in pairs} == {"DISO", "PROC", "ANAT", "CHEM"}


def test_malformed_lexicon_line_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "lexicon.tsv"
    bad.write_text("# comment\ntoux\tSYMPTOM\t-\ttoux\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"lexicon\.tsv:2"):
        patterns.read_lexicon(bad)
    bad.write_text("toux\tDISO\tZZZ9\ttoux\n", encoding="utf-8")
    with pytest.raises(ValueError, match="ZZZ9"):
        patterns.read_lexicon(bad)


def test_component_pickles_small(nlp) -> None:
    data = pickle.dumps(nlp.get_pipe("terms"))
    assert len(data) < 2_000
    clone = pickle.loads(data)
    doc = clone(nlp.make_doc("Coloscopie normale."))
    assert [(s.text, s._.category) for s in doc.spans["terms"]] == [("Coloscopie", "PROC")]


@pytest.mark.parametrize(
    ("form", "cim10"),
    [
        # forms that name another disease than the rest of their old concept (issue 11 item 3)
        ("hypothyroïdie", "E039"),
        ("hyperthyroïdie", "E059"),
        ("allergie", "T784"),
        ("urticaire", "L509"),
        ("asthme", "J459"),
        ("asthme aigu grave", "J46"),
        ("insuffisance cardiaque", "I509"),
        ("OAP", "I501"),
        ("infection urinaire", "N390"),
        ("pyélonéphrite", "N10"),
        ("maladie d'Alzheimer", "G309"),
        ("myélome", "C900"),
        ("malaise", "R53"),
        ("syncope", "R55"),
        # a sign of bowel obstruction, not a constipation
        ("arrêt des matières et des gaz", "R194"),
        ("constipation", "K590"),
        ("hypertension intracrânienne", "G938"),
        ("HTAP", "I27"),
        ("néoplasie pulmonaire", "C349"),
    ],
)
def test_one_cim10_code_per_concept(form: str, cim10: str) -> None:
    # the codes are ATIH's CIM-10, written here by hand
    found = {term: entry for term, entry in patterns.read_lexicon()}
    assert found[form][3] == cim10

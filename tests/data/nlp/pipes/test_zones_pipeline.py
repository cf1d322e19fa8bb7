"""hopia.zones in the full pipeline: on every synthetic document type the letterhead, the
signature and the administrative block give no condition fact; inline examples of finding 3
(issue 11). Slow: the full pipeline is loaded (from the shared cache)."""

from __future__ import annotations

import re

import pytest

from hopia.data.nlp import Entity, extract, get_nlp
from hopia.data.omop.mapping import coded_concept, target_table
from hopia.data.synth.generator import generate
from hopia.platform.config import get_settings

pytestmark = pytest.mark.slow

#: Every document type :mod:`hopia.data.synth` writes (documents.py, documents_short.py).
DOCUMENT_TYPES = ("CRH", "consultation", "urgences", "CRO", "ordonnance", "biologie")


def nlp():  # noqa: ANN201
    return get_nlp(cache_dir=get_settings().cache_dir)


def conditions(text: str) -> list[tuple[Entity, tuple[str, str] | None]]:
    """The mentions that would be written to condition_occurrence, with their code."""
    (entities,) = extract([text], nlp=nlp(), batch_size=8)
    return [(e, coded_concept(e)) for e in entities if target_table(e) == "condition_occurrence"]


@pytest.fixture(scope="module")
def corpus():  # noqa: ANN201
    get_settings.cache_clear()
    docs = generate(60, 3).documents
    picked = []
    for kind in DOCUMENT_TYPES:
        of_kind = [d for d in docs if d.type == kind]
        assert of_kind, kind  # the generator still writes this type
        # the nephrology service's letterhead says "Dialyse": the case of finding 3
        neph = [d for d in of_kind if d.service == "nephrologie"]
        picked.extend(neph[:2] + of_kind[:3])
    return picked


def blocks(text: str) -> list[tuple[int, int, str]]:
    """Letterhead, identity block and signature of a synthetic document, found from the
    template's layout, not by hopia.zones: the letterhead and the place-and-date line run to
    the document's title (its first blank lines); the signature is the last paragraph; the
    identity block is the paragraph after the title."""
    paragraphs = [(m.start(), m.end()) for m in re.finditer(r"(?:[^\n]+\n?)+", text)]
    out = [(s, e, "entete") for s, e in paragraphs[:2]]  # letterhead, "Lyon, le ..."
    title = 2 if paragraphs[2][1] - paragraphs[2][0] < 60 else None  # the document's title
    if title is not None and len(paragraphs) > title + 1:
        s, e = paragraphs[title + 1]
        if re.search(r"IPP|Nom :|Patient|Concerne", text[s:e]):
            out.append((s, e, "identité"))
    out.append((*paragraphs[-1], "signature"))
    return out


def test_no_condition_from_letterhead_identity_or_signature(corpus) -> None:  # noqa: ANN001
    texts = [d.text for d in corpus]
    seen_types = set()
    for doc, entities in zip(corpus, extract(texts, nlp=nlp(), batch_size=8), strict=True):
        seen_types.add(doc.type)
        facts = [e for e in entities if target_table(e) == "condition_occurrence"]
        for start, end, what in blocks(doc.text):
            inside = [e.text for e in facts if start <= e.start < end]
            assert not inside, (doc.type, doc.service, what, inside, doc.text[start:end])
    assert seen_types == set(DOCUMENT_TYPES)


def test_the_nephrology_letterhead_is_no_dialysis(corpus) -> None:  # noqa: ANN001
    neph = [d for d in corpus if d.service == "nephrologie"]
    assert neph and all("Dialyse" in d.text for d in neph)
    for doc in neph:
        codes = {code for _, code in conditions(doc.text)}
        planted = {f["code"] for f in doc.facts if f["kind"] == "condition"}
        if not any(str(c).startswith("Z49") for c in planted):
            assert not any(c and c[1].startswith("Z49") for c in codes), doc.text


LETTER = """CHU de Montagne - Hôpital Nord
Service de Néphrologie - Dialyse
Tél. 04 76 00 00 00 - secretariat.nephro@chu-montagne.fr

Allergies :
Pas d'allergie médicamenteuse connue.

Antécédents :
- Diabète de type 2
- HTA
- Fibrillation auriculaire

Hb : 10,1 g/dL (N : 12,0 - 16,2)

Dr Claire Exemple, chef de service de néphrologie - dialyse
"""


def test_inline_letter() -> None:
    found = conditions(LETTER)
    codes = sorted(code[1] for _, code in found if code)
    # diabetes once, as type 2; hypertension as I10; atrial fibrillation as I48; no dialysis
    # (letterhead, signature), no allergy (a heading above a negation)
    assert codes == ["E11", "I10", "I48"], found


def test_an_allergy_stated_under_its_heading_stays() -> None:
    found = conditions("Allergies :\nAllergie à la pénicilline (urticaire).\n")
    assert any(code and code[1].startswith("T78") for _, code in found), found


def test_a_dialysis_in_the_narrative_stays() -> None:
    text = "Histoire de la maladie :\nPatient en dialyse depuis 2015 pour néphropathie.\n"
    found = conditions(text)
    # Z49 (dialysis) from hopia.cim10, or N18.5 (end-stage kidney disease) from eds.ckd's
    # "dialyse depuis": either says the patient is dialysed
    assert any(code and code[1].startswith(("Z49", "N18.5")) for _, code in found), found

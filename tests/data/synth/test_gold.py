"""Gold annotations: exact offsets by construction, valid labels, qualifiers present."""

from __future__ import annotations

from functools import lru_cache

import pytest

from hopia.data.synth import PHI_LABELS, SynthCorpus, generate
from hopia.data.synth.annotate import DocBuilder, Drug, Fact, Phi


@lru_cache(maxsize=1)
def corpus() -> SynthCorpus:
    return generate(20, 42)


def test_phi_spans_exact_labelled_and_disjoint() -> None:
    assert len(PHI_LABELS) == 13
    for d in corpus().documents:
        last_end = 0
        for span in d.phi:  # sorted by start
            assert span["label"] in PHI_LABELS
            assert 0 <= span["start"] < span["end"] <= len(d.text)
            assert span["start"] >= last_end, (d.id, span)
            piece = d.text[span["start"] : span["end"]]
            assert piece.strip() == piece and piece
            last_end = span["end"]


def test_every_label_used() -> None:
    labels = {s["label"] for d in generate(40, 1).documents for s in d.phi}
    assert labels == PHI_LABELS


def test_facts_exact() -> None:
    kinds = set()
    for d in corpus().documents:
        for f in d.facts:
            kinds.add(f["kind"])
            assert d.text[f["start"] : f["end"]] == f["text"], (d.id, f)
            assert f["code"]
            assert all(
                isinstance(f[k], bool) for k in ("negated", "hypothesis", "family", "history")
            )
            if f["kind"] == "measurement":
                assert isinstance(f["value"], (float, str))
            if f["kind"] == "drug" and f.get("posology"):
                pos = f["posology"]
                assert d.text[pos["start"] : pos["end"]] == pos["text"]
                assert pos["start"] >= f["end"]
                assert pos["frequency"]
    assert kinds == {"condition", "drug", "measurement"}


def test_facts_do_not_overlap_phi() -> None:
    for d in corpus().documents:
        phi = {i for s in d.phi for i in range(s["start"], s["end"])}
        for f in d.facts:
            assert not phi & set(range(f["start"], f["end"])), (d.id, f["text"])


def test_qualifiers_present() -> None:
    facts = [f for d in corpus().documents for f in d.facts if f["kind"] == "condition"]
    for flag in ("negated", "hypothesis", "family", "history"):
        assert any(f[flag] for f in facts), flag
    negated = [d.text for d in corpus().documents for f in d.facts if f["negated"]]
    assert any("Pas d" in t or "Absence d" in t for t in negated)


def test_wording_examples() -> None:
    texts = "\n".join(d.text for d in generate(40, 1).documents)
    for expected in ("Antécédents", "Conclusion", "mmHg", "µmol/L", "Dr ", "né le", "IPP"):
        assert expected in texts, expected


def test_builder_records_spans() -> None:
    b = DocBuilder()
    b.line("Patient : {g} {f}", g=Phi("Jean", "PRENOM"), f=Phi("DUPONT", "NOM"))
    b.section("Antécédents")
    b.line("Pas {de}{c}.", de="de ", c=Fact("fièvre", "condition", "R50", negated=True))
    b.add("- ").piece(Drug("METFORMINE", "A10BA02", "1000 mg 2 fois par jour", {"dose": 1000.0}))
    text, phi, facts = b.build()
    assert text == (
        "Patient : Jean DUPONT\n\nAntécédents :\nPas de fièvre.\n"
        "- METFORMINE 1000 mg 2 fois par jour\n"
    )
    assert [text[s["start"] : s["end"]] for s in phi] == ["Jean", "DUPONT"]
    assert [f["text"] for f in facts] == ["fièvre", "METFORMINE"]
    pos = facts[1]["posology"]
    assert text[pos["start"] : pos["end"]] == "1000 mg 2 fois par jour"
    assert facts[1]["value"] == 1000.0


def test_builder_rejects_unknown_label() -> None:
    with pytest.raises(ValueError):
        DocBuilder().piece(Phi("x", "PERSON"))

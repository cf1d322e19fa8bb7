"""The guard's stricter rule for what leaves (names given away by their place) and the
evaluation that counts what it would have sent (``hopia assistant eval guard``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hopia.assistant.guard import PhiGuard, strict_names
from hopia.assistant.guard_eval import evaluate_guard
from hopia.data.pseudo import Pseudonymiser
from hopia.data.pseudo.evaluate import GoldSpan, PhiGoldDoc
from hopia.data.pseudo.rules import PhiSpan

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pseudo"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Prescription du Dr ben barka: hospitalisation", ["ben barka"]),
        ("vu par le docteur martin ce jour", ["martin"]),
        ("Dr Rose Blanc, cardiologue", ["Rose Blanc"]),
        ("Pr. LEGRAND a vu la patiente", ["LEGRAND"]),
        ("Z.Phillot (Interne)", ["Phillot"]),
        ("Nivor, S. 2 8 0 1", ["Nivor"]),
        # an initial after the title is the engine's; nothing here is a name
        ("Dr A. Martin", []),
        ("La CRP. Elle baisse, Dr.", []),
        ("Bilan : CRP, K. normaux", []),
        ("PR séropositive sous méthotrexate", []),  # polyarthrite rhumatoïde, no professor
    ],
)
def test_a_word_whose_place_says_it_is_a_name(text: str, names: list[str]) -> None:
    assert [s.text for s in strict_names(text, [])] == names


def test_what_the_engine_found_is_left_to_it() -> None:
    text = "Dr ben barka"
    found = [PhiSpan(3, 12, "NOM", "ben barka", "rule")]
    assert strict_names(text, found) == []


@pytest.fixture(scope="module")
def guard() -> PhiGuard:
    return PhiGuard(Pseudonymiser(b"e" * 32, "surrogate", use_model=False))


def _doc(doc_id: str, marked: str) -> PhiGoldDoc:
    """``marked``: the note with each identifier as [LABEL:text]."""
    import re

    text, spans, pos = "", [], 0
    for m in re.finditer(r"\[(\w+):([^\]]+)\]", marked):
        text += marked[pos : m.start()]
        spans.append(GoldSpan(len(text), len(text) + len(m.group(2)), m.group(1)))
        text += m.group(2)
        pos = m.end()
    text += marked[pos:]
    return PhiGoldDoc(doc_id, text, tuple(spans))


def test_the_evaluation_counts_what_would_leave(guard: PhiGuard) -> None:
    docs = [
        _doc("a", "Prescription du Dr [NOM:ben barka] : hospitalisation."),
        _doc("b", "Compte rendu : [NOM:Phillot] a une lésion rose."),  # nothing says it's a name
        _doc("c", "Monsieur [PRENOM:D.] [NOM:PETIT], tél. [TEL:06 12 34 56 78]."),
        _doc("d", "La patiente [NOM:Rose] décrit une lésion rose."),
    ]
    result = evaluate_guard(guard, docs)
    data = result.to_json()
    assert data["notes"] == 4 and data["refused"] == 0
    # the lone surname of note b is sent (no title, no list holds it): the evaluation says so
    assert "b NOM" in result.leaks
    assert "a NOM" not in result.leaks and "c TEL" not in result.leaks
    assert data["initials"] == 1  # "D." counted apart
    # "rose" the adjective stays and is not counted as the name sent
    assert "d NOM" not in result.leaks
    assert data["direct_identifiers"] == 5


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/pseudo absent")
def test_the_held_out_synthetic_notes_leak_almost_nothing(guard: PhiGuard) -> None:
    from hopia.data.pseudo import evaluate as ev

    docs = ev.held_out(ev.load_gold(SHARED / "eds_pseudo_synthetic_train.jsonl"))[1][:80]
    data = evaluate_guard(guard, docs).to_json()
    # rules and lists only here (no model: fast); the shipped setup sends 1 of 885
    assert data["direct_sent_rate"] < 0.03, data["leaks"]

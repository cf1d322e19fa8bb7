"""The computing of a batch, without a warehouse: document identity, refusals, pseudonymisation
then NLP with failures isolated per document, the worker's spans moved onto the pseudonymised
text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from hopia.data.ingest.analysis import (
    Analyser,
    Prepared,
    apply,
    content_hash,
    qualifier,
    refusal,
    without_mentions_on_surrogates,
)
from hopia.data.ingest.worker import Analysis
from hopia.data.pseudo import Pseudonymiser
from hopia.data.records import PatientIdentity, RawDocument

SECRET = b"analysis-test-secret-0123456789"


@dataclass(frozen=True)
class M:
    start: int
    end: int
    label: str = "DISO"
    pipe: str = "clinical_ner"
    negation: bool = False
    hypothesis: bool = False
    family: bool = False
    codes: dict[str, str] = field(default_factory=dict)


def _doc(text: str, ipp: str | None = "801", ref: str = "n.jsonl#L1", **kw: Any) -> RawDocument:
    return RawDocument(text, "n.jsonl", ref, "jsonl", ipp=ipp, **kw)


def test_content_hash_is_the_documents_identity() -> None:
    a = _doc("Fièvre.", doc_date=date(2024, 3, 5), doc_type="CRH")
    elsewhere = _doc("Fièvre.", ref="other#L9", doc_date=a.doc_date, doc_type="CRH")
    assert content_hash(a) == content_hash(elsewhere)  # where it was read does not count
    for other in (
        _doc("Fièvre.", ipp="802", doc_date=a.doc_date, doc_type="CRH"),
        _doc("Fièvre.", doc_date=date(2024, 3, 6), doc_type="CRH"),
        _doc("Fièvre.", doc_date=a.doc_date, doc_type="consultation"),
        _doc("Fièvre !", doc_date=a.doc_date, doc_type="CRH"),
    ):
        assert content_hash(other) != content_hash(a)


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (_doc("Fièvre."), None),
        (_doc("Fièvre.", ipp="9" * 100), "IPP trop long"),
        (_doc("fi\ud800vre"), "texte invalide"),
        (_doc("  \n "), "document vide"),
    ],
)
def test_refusals(doc: RawDocument, reason: str | None) -> None:
    found = refusal(doc)
    assert found is None if reason is None else reason in found


def _no_mentions(texts: Sequence[str], _ner: Sequence[Any]) -> list[list[M]]:
    return [[] for _ in texts]


def test_the_identity_reaches_the_pseudonymiser_and_nlp_sees_pseudonymised_text() -> None:
    seen: list[str] = []

    def extract(texts: Sequence[str], ner: Sequence[Any]) -> list[list[M]]:
        seen.extend(texts)
        return [[] for _ in texts]

    analyser = Analyser(Pseudonymiser(SECRET, use_model=False), extract)
    batch = [Prepared.of(_doc("Mme Kervella va mieux.")), Prepared.of(_doc("Sans patient.", None))]
    identities = {"801": PatientIdentity("801", family_name="KERVELLA")}
    done = analyser.analyse(batch, identities, lambda p, r: pytest.fail(r))
    assert done == batch
    assert "Kervella" not in seen[0] and seen[0] == batch[0].pseudo_text
    assert batch[0].phi and len(batch[0].phi) == len(batch[0].surrogates)
    assert seen[1] == "Sans patient."


class _Failing:
    """A pseudonymiser that fails on one text."""

    def pseudonymise(self, text: str, **kw: Any) -> Any:
        if "boom" in text:
            raise ValueError("boom")
        return Pseudonymiser(SECRET, use_model=False).pseudonymise(text, **kw)


def test_a_document_that_fails_a_stage_is_left_out_alone() -> None:
    def extract(texts: Sequence[str], ner: Sequence[Any]) -> list[list[M]]:
        if any("crash" in t for t in texts):
            raise RuntimeError("nlp")
        return [[M(0, 1, pipe="rules")] for _ in texts]

    texts = ["ok", "boom", "crash", "ok 2"]
    batch = [Prepared.of(_doc(t, ref=f"n#L{i}")) for i, t in enumerate(texts)]
    failures: list[tuple[str, str]] = []
    done = Analyser(_Failing(), extract).analyse(
        batch, {}, lambda p, reason: failures.append((p.doc.source_ref, reason))
    )
    assert [p.doc.text for p in done] == ["ok", "ok 2"]
    assert failures == [
        ("n#L1", "pseudonymisation impossible (ValueError)"),
        ("n#L2", "analyse TAL impossible (RuntimeError)"),
    ]
    assert all(len(p.mentions) == 1 for p in done)


def test_the_workers_results_land_on_their_documents() -> None:
    batch = [Prepared.of(_doc("a")), Prepared.of(_doc("b"))]
    apply(Analysis(phi=[[], ["x"]], clinical_ner=[[(0, 1, "DISO")], None]), batch)
    assert [p.model_spans for p in batch] == [[], ["x"]]
    assert [p.ner_spans for p in batch] == [[(0, 1, "DISO")], None]
    apply(None, batch)  # no worker: nothing changes
    assert batch[1].model_spans == ["x"]


def test_the_workers_ner_spans_move_onto_the_pseudonymised_text() -> None:
    text = "Mme Kervella : embolie pulmonaire."
    p = Prepared.of(_doc(text))
    start = text.index("embolie")
    p.ner_spans = [(start, start + len("embolie pulmonaire"), "DISO")]
    identities = {"801": PatientIdentity("801", family_name="Kervella")}
    got: list[Any] = []

    def extract(texts: Sequence[str], ner: Sequence[Any]) -> list[list[M]]:
        got.extend(ner)
        return [[] for _ in texts]

    analyser = Analyser(Pseudonymiser(SECRET, use_model=False), extract)
    analyser.analyse([p], identities, lambda _, reason: pytest.fail(reason))
    [(a, b, group)] = got[0]
    assert p.pseudo_text[a:b] == "embolie pulmonaire" and group == "DISO"


def test_the_ner_left_to_this_process_reads_the_original_text_too() -> None:
    """Documents the worker did not analyse get the NER run here on their original text, and
    its spans moved like the worker's: one output whatever the worker's share."""
    text = "Mme Kervella : embolie pulmonaire."
    start = text.index("embolie")
    by_worker, left = Prepared.of(_doc(text)), Prepared.of(_doc(text, ref="n#L2"))
    by_worker.ner_spans = [(start, start + len("embolie pulmonaire"), "DISO")]
    seen: list[str] = []

    def ner(texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
        seen.extend(texts)
        return [[(start, start + len("embolie pulmonaire"), "DISO")] for _ in texts]

    got: list[Any] = []

    def extract(texts: Sequence[str], spans: Sequence[Any]) -> list[list[M]]:
        got.extend(spans)
        return [[] for _ in texts]

    analyser = Analyser(Pseudonymiser(SECRET, use_model=False), extract, ner)
    identities = {"801": PatientIdentity("801", family_name="Kervella")}
    analyser.analyse([by_worker, left], identities, lambda _, reason: pytest.fail(reason))
    assert seen == [text]  # the original text, and only the document the worker left
    assert got[0] == got[1] and by_worker.pseudo_text == left.pseudo_text
    [(a, b, _)] = got[1]
    assert left.pseudo_text[a:b] == "embolie pulmonaire" and "Kervella" not in left.pseudo_text


def test_a_failing_ner_leaves_the_documents_to_the_pipe() -> None:
    def ner(texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
        raise RuntimeError("modèle")

    got: list[Any] = []

    def extract(texts: Sequence[str], spans: Sequence[Any]) -> list[list[M]]:
        got.extend(spans)
        return [[] for _ in texts]

    batch = [Prepared.of(_doc("Pneumopathie."))]
    done = Analyser(Pseudonymiser(SECRET, use_model=False), extract, ner).analyse(
        batch, {}, lambda _, reason: pytest.fail(reason)
    )
    assert done == batch and got == [None]


def test_mentions_on_surrogates_are_dropped_whatever_pipe_found_them() -> None:
    """A surrogate is drawn from the secret: whatever a pipe reads in it changes with the
    secret (issue 11, finding 8: two clean runs differed by a few note_nlp rows). Shifted dates
    are still dates: what is found on them stays."""
    identity = PatientIdentity("801", family_name="Kervella", city="Brest")
    result = Pseudonymiser(SECRET, use_model=False).pseudonymise(
        "Mme Kervella, Brest, vue le 12/03/2024 pour une embolie.", identity=identity
    )
    spans = {s.label: s for s in result.pseudo_spans()}
    name, date_ = spans["NOM"], spans["DATE"]
    at = result.pseudo_text.index("embolie")
    mentions = [
        M(name.start, name.end),  # the NER in a surrogate name
        M(name.start, name.end, pipe="terms"),  # a rule pipe in it ("Reine" read as a term)
        M(name.start - 4, name.end, pipe="cim10"),  # overlapping it
        M(date_.start, date_.end, label="date", pipe="dates"),  # a shifted date: kept
        M(at, at + len("embolie"), pipe="cim10"),  # away from any identifier: kept
    ]
    assert without_mentions_on_surrogates(mentions, result) == mentions[3:]


def test_a_clean_run_with_another_secret_finds_the_same_mentions() -> None:
    """The same note pseudonymised under 40 secrets (40 clean installations): the same
    mentions, pipe by pipe, once those on surrogates are dropped; only the text of those that
    hold a shifted date differs. With the NER's mentions alone dropped, some secrets draw a
    surrogate a rule pipe reads (when this was written: "RAYNAUD" for "ROSSI", a connective
    tissue disease; a drug name), and the counts differ."""
    from collections import Counter

    from hopia.data.nlp import extract, get_nlp
    from hopia.platform.config import get_settings

    nlp = get_nlp(cache_dir=get_settings().cache_dir)
    texts = [
        "Mme Reine KERVELLA, née le 04/11/1941, vue le 15/06/2019 à Brest.\n"
        "Antécédents : tabagisme sevré depuis 2007. Diabète de type 2.\n"
        "Personne de confiance : sa fille, Reine ROSSI (06 71 14 73 62).\n"
        "Dr Lucie Parkinson, CHU de Brest. Pas de fièvre. Embolie pulmonaire.",
    ]
    identities = {"801": PatientIdentity("801", family_name="KERVELLA", given_name="Reine")}

    def found(secret: bytes) -> Counter[tuple[str, str]]:
        batch = [Prepared.of(_doc(t, ref=f"n#L{i}")) for i, t in enumerate(texts)]
        analyser = Analyser(
            Pseudonymiser(secret, use_model=False),
            lambda ts, ner: extract(ts, nlp=nlp, batch_size=8, clinical_ner_spans=ner),
        )
        done = analyser.analyse(batch, identities, lambda _, reason: pytest.fail(reason))
        return Counter((m.pipe, m.label) for p in done for m in p.mentions)

    first = found(b"secret-0")
    assert first[("cim10", "cim10")] >= 1  # the clinical facts are there
    for i in range(1, 40):
        assert found(f"secret-{i}".encode()) == first, i


def test_qualifier() -> None:
    assert [qualifier(m) for m in (M(0, 1), M(0, 1, negation=True, family=True))] == [
        "affirmed",
        "negated",
    ]
    assert qualifier(M(0, 1, hypothesis=True)) == "hypothetical"
    assert qualifier(M(0, 1, family=True)) == "family"

"""The qualifier evaluation (``hopia nlp eval-qualifiers``): reading a set, scoring planted
predictions, the shipped French set, and the run on target mentions."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from hopia.data.nlp.evaluate import qualifiers as q
from hopia.platform.exceptions import SourceError

NO = {"negation": False, "hypothesis": False, "family": False, "history": False}


def case(i: int, result: str | None = None, **flags: bool) -> q.Case:
    return q.Case(f"c{i}", "Pas de fièvre.", 7, 13, {**NO, **flags, "result": result})


def pred(result: str | None = None, **flags: bool) -> dict[str, Any]:
    return {**NO, **flags, "result": result}


def test_scoring_on_planted_cases() -> None:
    cases = [
        case(0, negation=True),  # TP
        case(1, negation=True),  # FN
        case(2),  # FP
        case(3),  # TN
        case(4, negation=True),  # TP
        case(5, "negative"),  # right result
        case(6, "normal"),  # wrong result
        case(7),  # result predicted where the gold has none
    ]
    preds = [
        pred(negation=True),
        pred(),
        pred(negation=True),
        pred(),
        pred(negation=True),
        pred("negative"),
        pred("abnormal"),
        pred("positive"),
    ]
    scores = q.score_cases(cases, preds)
    neg = scores["negation"]
    # 2 TP, 1 FP, 1 FN: P = R = 2/3
    assert (neg.gold, neg.predicted, neg.correct) == (3, 3, 2)
    assert neg.precision == pytest.approx(2 / 3) and neg.recall == pytest.approx(2 / 3)
    assert neg.f1 == pytest.approx(2 / 3)
    res = scores["result"]
    # gold results: 2; predicted: 3; right: 1 (a wrong value is neither found nor correct)
    assert (res.gold, res.predicted, res.correct) == (2, 3, 1)
    assert res.precision == pytest.approx(1 / 3) and res.recall == pytest.approx(1 / 2)
    # no gold and no prediction: undefined, not 0 or 1
    assert scores["family"].precision is None and scores["family"].f1 is None
    wrong = [c.id for c, _ in q.errors(cases, preds, "negation")]
    assert wrong == ["c1", "c2"]


def test_scores_per_split() -> None:
    cases = [
        q.Case("a", "x y", 0, 1, {**NO, "negation": True, "result": None}, split="dev"),
        q.Case("b", "x y", 0, 1, {**NO, "negation": True, "result": None}, split="test"),
    ]
    ev = q.QualifierEval("planted", tuple(cases), {"s": [pred(negation=True), pred()]})
    assert ev.splits == ["dev", "test"]
    assert ev.scores("s", "dev")["negation"].recall == 1.0
    assert ev.scores("s", "test")["negation"].recall == 0.0
    assert ev.scores("s")["negation"].recall == 0.5
    assert ev.to_dict()["systems"]["s"]["errors"]["negation"] == ["b"]


def _write(tmp_path: Path, *records: dict[str, Any]) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def test_read_cases_offsets_or_mention(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {"id": "a", "text": "Pas de fièvre.", "start": 7, "end": 13, "negation": True},
        {"id": "b", "text": "ECG normal.", "mention": "ECG", "result": "normal"},
    )
    a, b = q.read_cases(path)
    assert (a.mention, a.gold["negation"], a.gold["result"]) == ("fièvre", True, None)
    assert (b.start, b.end, b.gold["result"], b.gold["negation"]) == (0, 3, "normal", False)


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"text": "Pas de fièvre.", "mention": "toux"}, "introuvable"),
        ({"text": "Pas de fièvre.", "start": 7, "end": 99}, "introuvable"),
        ({"text": "Pas de fièvre.", "start": 0, "end": 3, "mention": "toux"}, "n'est pas"),
        ({"text": "ECG normal.", "mention": "ECG", "result": "bon"}, "résultat inconnu"),
        ({"text": "ECG normal.", "mention": "ECG", "negation": "oui"}, "true ou false"),
        ({"text": ""}, "text"),
    ],
)
def test_read_cases_refuses_bad_records(tmp_path: Path, record: dict, reason: str) -> None:
    with pytest.raises(SourceError, match=reason) as err:
        q.read_cases(_write(tmp_path, record))
    assert err.value.path.endswith("#L1")


def test_read_cases_refuses_duplicate_ids(tmp_path: Path) -> None:
    rec = {"id": "a", "text": "ECG normal.", "mention": "ECG"}
    with pytest.raises(SourceError, match="double"):
        q.read_cases(_write(tmp_path, rec, rec))


def test_the_shipped_set() -> None:
    cases = q.read_cases(q.default_set())
    texts = {c.text for c in cases}
    assert len(texts) >= 300  # sentences, some with two target mentions
    # a sentence is in one split only, and the test part was >= 150 sentences when frozen
    split_of: dict[str, set[str]] = defaultdict(set)
    for c in cases:
        split_of[c.text].add(c.split)
    assert all(len(s) == 1 for s in split_of.values())
    per_split = Counter(next(iter(s)) for s in split_of.values())
    assert set(per_split) == {"dev", "test"} and per_split["test"] >= 150
    # every class of finding 2 is there, with ordinary affirmed sentences for precision
    kinds = Counter(c.kind for c in cases)
    for kind in ("pseudo_non", "result", "exam_not_shown", "scope", "affirmed", "negation"):
        assert kinds[kind] >= 20, kinds
    # every qualifier has positives to score
    for name in q.SCORED:
        assert sum(bool(c.gold[name]) for c in cases) >= 10, name
    assert {c.gold["result"] for c in cases} >= q.RESULTS


@pytest.mark.slow
def test_qualify_on_target_mentions() -> None:
    """The full pipeline on two sentences whose target no NER pipe finds as such."""
    import hopia.data.nlp.pipes  # noqa: F401
    from hopia.platform.config import get_settings

    cases = [
        q.Case("a", "Le scanner n'a pas montré d'épanchement.", 3, 10, {**NO, "result": None}),
        q.Case("b", "La sérologie VIH est négative.", 3, 16, {**NO, "result": "negative"}),
        q.Case("c", "Pas d'épanchement pleural.", 6, 17, {**NO, "negation": True, "result": None}),
    ]
    system = q.hopia_qualifier_system(get_settings().cache_dir)
    ev = q.evaluate_qualifiers(cases, [system], "planted")
    assert ev.predictions["hopia"] == [
        pred(),
        pred("negative"),
        pred(negation=True),
    ]

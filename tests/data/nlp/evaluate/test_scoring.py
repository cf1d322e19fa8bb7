"""The scorer on hand-made cases: exact vs overlap, duplicates, nested spans, qualifiers."""

from __future__ import annotations

import pytest

from hopia.data.nlp.evaluate import Mention, Prediction, Score, Tally, micro

#        0         1         2         3         4         5
#        0123456789012345678901234567890123456789012345678901234
TEXT = "Cancer du sein traité par tamoxifène, douleurs chroniques."
CANCER = ((0, 6),)
CANCER_SEIN = ((0, 14),)
TAMOX = ((26, 36),)


def gold(frags: tuple[tuple[int, int], ...], label: str = "DISO", **q: bool) -> Mention:
    flags = None
    if q:
        flags = {k: q.get(k, False) for k in ("negation", "hypothesis", "family", "history")}
    return Mention(frags, label, flags)


def pred(start: int, end: int, label: str = "DISO", **q: bool) -> Prediction:
    return Prediction(start, end, label, dict(q))


def tally(golds: list[Mention], preds: list[Prediction]) -> Tally:
    t = Tally()
    t.add(TEXT, golds, preds)
    return t


def counts(s: Score) -> tuple[int, int, int, int]:
    return s.gold, s.predicted, s.found, s.correct


def test_exact_needs_the_same_bounds_overlap_does_not() -> None:
    t = tally([gold(CANCER_SEIN)], [pred(0, 6)])
    assert counts(t.exact["DISO"]) == (1, 1, 0, 0)
    assert counts(t.overlap["DISO"]) == (1, 1, 1, 1)
    assert t.overlap["DISO"].f1 == 1.0 and t.exact["DISO"].f1 == 0.0


def test_labels_never_match_across_groups() -> None:
    t = tally([gold(TAMOX, "CHEM")], [pred(26, 36, "DISO")])
    assert counts(t.exact["CHEM"]) == (1, 0, 0, 0)
    assert counts(t.overlap["DISO"]) == (0, 1, 0, 0)
    assert t.overlap["DISO"].precision == 0.0 and t.overlap["CHEM"].recall == 0.0


def test_identical_predictions_from_several_pipes_count_once() -> None:
    t = tally([gold(CANCER_SEIN)], [pred(0, 14), pred(0, 14), pred(0, 14)])
    assert counts(t.exact["DISO"]) == (1, 1, 1, 1)
    assert t.raw_predictions == 3


def test_nested_predictions_merge_into_one_in_overlap_but_not_in_exact() -> None:
    # "cancer" and "cancer du sein" both predicted, only the long one in the gold
    t = tally([gold(CANCER_SEIN)], [pred(0, 6), pred(0, 14)])
    assert counts(t.exact["DISO"]) == (1, 2, 1, 1)  # the short one is a false positive
    assert counts(t.overlap["DISO"]) == (1, 1, 1, 1)  # one mention, matched once


def test_nested_gold_is_found_by_one_long_prediction() -> None:
    # QUAERO nests "Cancer" inside "Cancer du sein"
    t = tally([gold(CANCER_SEIN), gold(CANCER)], [pred(0, 14)])
    assert counts(t.overlap["DISO"]) == (2, 1, 2, 1)
    assert counts(t.exact["DISO"]) == (2, 1, 1, 1)


def test_one_prediction_over_two_gold_counts_once_in_precision() -> None:
    t = tally([gold(CANCER_SEIN), gold(((38, 57),))], [pred(0, 57)])
    assert counts(t.overlap["DISO"]) == (2, 1, 2, 1)
    assert t.overlap["DISO"].precision == 1.0


def test_touching_spans_do_not_overlap() -> None:
    t = tally([gold(((0, 6),))], [pred(6, 14)])
    assert counts(t.overlap["DISO"]) == (1, 1, 0, 0)


def test_discontinuous_gold_is_never_exact_but_overlaps_through_any_fragment() -> None:
    douleurs_chroniques = ((38, 46), (47, 57))
    t = tally([gold(douleurs_chroniques)], [pred(47, 57)])
    assert counts(t.exact["DISO"]) == (1, 1, 0, 0)
    assert counts(t.overlap["DISO"]) == (1, 1, 1, 1)
    t = tally([gold(((38, 46), (50, 57)))], [pred(46, 50)])  # only the gap between fragments
    assert counts(t.overlap["DISO"]) == (1, 1, 0, 0)


def test_whitespace_at_the_edges_is_ignored_and_blank_spans_dropped() -> None:
    t = tally([gold(((0, 15),))], [pred(0, 14), pred(14, 15)])  # "Cancer du sein " and " "
    assert counts(t.exact["DISO"]) == (1, 1, 1, 1)


def test_undefined_scores_and_micro_totals() -> None:
    t = tally([gold(CANCER_SEIN), gold(TAMOX, "CHEM")], [pred(0, 14), pred(26, 36, "PROC")])
    assert t.exact["CHEM"].precision is None and t.exact["CHEM"].recall == 0.0
    assert t.exact["PROC"].recall is None and t.exact["PROC"].precision == 0.0
    total = micro(t.exact, ["DISO", "CHEM", "PROC"])
    assert counts(total) == (2, 2, 1, 1)
    assert total.f1 == pytest.approx(0.5)
    assert micro(t.exact, ["LAB"]).f1 is None


def test_qualifier_accuracy_on_matched_mentions_only() -> None:
    golds = [
        gold(CANCER_SEIN, negation=True),
        gold(((38, 57),), history=True),
        gold(TAMOX, "CHEM", negation=False),  # not found: not scored
    ]
    # the best overlapping prediction gives the flags: "cancer du sein" (14 chars) wins
    # over "sein" (4 chars) whatever their order
    preds = [pred(10, 14, negation=False), pred(0, 14, negation=True), pred(38, 46)]
    t = tally(golds, preds)
    neg, hist = t.qualifiers["negation"], t.qualifiers["history"]
    assert (neg.matched, neg.agree, neg.gold_true, neg.both_true) == (2, 2, 1, 1)
    assert (hist.matched, hist.agree, hist.gold_true, hist.both_true) == (2, 1, 1, 0)
    assert hist.accuracy == 0.5 and hist.recall == 0.0 and neg.precision == 1.0


def test_gold_without_qualifiers_scores_none() -> None:
    t = tally([gold(CANCER_SEIN)], [pred(0, 14, negation=True)])
    assert t.qualifiers == {}

"""Mention-level scores: precision, recall and F1 per label, exact and overlap, and qualifier
accuracy on matched mentions.

The rules, applied per document and per label (a mention only ever matches its own label):

- **Normalisation.** Fragments lose their leading and trailing whitespace; an empty one is
  dropped. Gold and predicted mentions are then *deduplicated*: the same fragments and label
  count once however many gold lines or pipes produced them (several Hopia pipes often find
  the same span; they are one prediction).
- **Exact.** A gold mention is found, and a prediction is correct, when a prediction has
  exactly the gold's fragments. A discontinuous gold mention ("douleurs … chroniques") can
  therefore never be matched exactly by a contiguous prediction, as in brateval.
- **Overlap.** A gold mention is found when at least one character of one of its fragments is
  inside a prediction. Predictions that overlap one another (nested or crossing spans of the
  same label, e.g. "cancer" inside "cancer du sein") are first merged into one predicted
  mention: *one prediction matching counts once*, and a second nested span neither earns a
  second true positive nor costs a false positive. A merged prediction is correct when it
  overlaps at least one gold mention. Nested gold mentions (QUAERO annotates "cancers" inside
  "cancers colorectaux") are each found by a prediction over the longer one.
- Precision = correct predictions / predictions, recall = found gold / gold, F1 their harmonic
  mean; micro totals add the counts of the scored labels.
- **Qualifiers.** For each gold mention that carries qualifiers and is found (overlap), the
  prediction of its label with the most characters in common (then the earliest, then the
  shortest) gives the predicted flags; accuracy = agreements / found mentions, per qualifier,
  with the counts of gold and predicted positives.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hopia.data.nlp.evaluate.gold import QUALIFIERS, Fragment, GoldDoc, Mention
from hopia.platform.scores import Score
from hopia.platform.scores import ratio as _ratio


@dataclass(frozen=True)
class Prediction:
    """One predicted mention (contiguous) with its qualifier flags."""

    start: int
    end: int
    label: str
    qualifiers: dict[str, bool] = field(default_factory=dict, compare=False, hash=False)
    pipe: str = field(default="", compare=False, hash=False)


@dataclass(frozen=True)
class QualifierScore:
    """Agreement on one qualifier over the found gold mentions that carry qualifiers."""

    matched: int = 0
    agree: int = 0
    gold_true: int = 0
    predicted_true: int = 0
    both_true: int = 0

    def __add__(self, other: QualifierScore) -> QualifierScore:
        return QualifierScore(
            *(a + b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True))
        )

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        return (self.matched, self.agree, self.gold_true, self.predicted_true, self.both_true)

    @property
    def accuracy(self) -> float | None:
        return _ratio(self.agree, self.matched)

    @property
    def recall(self) -> float | None:
        """Share of the gold positives predicted positive."""
        return _ratio(self.both_true, self.gold_true)

    @property
    def precision(self) -> float | None:
        return _ratio(self.both_true, self.predicted_true)

    def to_dict(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "precision": self.precision,
            "recall": self.recall,
            "matched": self.matched,
            "agree": self.agree,
            "gold_true": self.gold_true,
            "predicted_true": self.predicted_true,
            "both_true": self.both_true,
        }


@dataclass
class Tally:
    """Counts accumulated over documents; :meth:`add` one document at a time."""

    exact: dict[str, Score] = field(default_factory=dict)
    overlap: dict[str, Score] = field(default_factory=dict)
    qualifiers: dict[str, QualifierScore] = field(default_factory=dict)
    documents: int = 0
    raw_predictions: int = 0  # before deduplication, all labels

    def add(self, text: str, gold: Iterable[Mention], predicted: Iterable[Prediction]) -> None:
        gold_list = [g for g in (_strip_mention(text, m) for m in gold) if g is not None]
        pred_list = list(predicted)
        self.documents += 1
        self.raw_predictions += len(pred_list)
        preds = [p for p in (_strip_pred(text, p) for p in pred_list) if p is not None]
        labels = {m.label for m in gold_list} | {p.label for p in preds}
        for label in labels:
            g = _dedup_gold([m for m in gold_list if m.label == label])
            p = _dedup_pred([x for x in preds if x.label == label])
            self._add_label(label, g, p)

    def _add_label(self, label: str, gold: list[Mention], preds: list[Prediction]) -> None:
        gold_keys = {m.fragments for m in gold}
        pred_keys = {((p.start, p.end),) for p in preds}
        hits = len(gold_keys & pred_keys)
        self.exact[label] = self.exact.get(label, Score()) + Score(
            gold=len(gold_keys), found=hits, predicted=len(pred_keys), correct=hits
        )
        merged = _merge([(p.start, p.end) for p in preds])
        starts = [s for s, _ in merged]
        found = 0
        for m in gold:
            if any(_hits(merged, starts, f) for f in m.fragments):
                found += 1
                if m.qualifiers is not None:
                    self._add_qualifiers(m, preds)
        gold_frags = sorted(f for m in gold for f in m.fragments)
        gold_starts = [s for s, _ in gold_frags]
        correct = sum(1 for span in merged if _hits(gold_frags, gold_starts, span))
        self.overlap[label] = self.overlap.get(label, Score()) + Score(
            gold=len(gold), found=found, predicted=len(merged), correct=correct
        )

    def _add_qualifiers(self, mention: Mention, preds: list[Prediction]) -> None:
        best = max(
            preds,
            key=lambda p: (
                sum(max(0, min(p.end, e) - max(p.start, s)) for s, e in mention.fragments),
                -p.start,
                -(p.end - p.start),
            ),
        )
        assert mention.qualifiers is not None
        for name in QUALIFIERS:
            gold_flag = bool(mention.qualifiers.get(name, False))
            pred_flag = bool(best.qualifiers.get(name, False))
            self.qualifiers[name] = self.qualifiers.get(name, QualifierScore()) + QualifierScore(
                1,
                int(gold_flag == pred_flag),
                int(gold_flag),
                int(pred_flag),
                int(gold_flag and pred_flag),
            )


def micro(scores: dict[str, Score], labels: Sequence[str]) -> Score:
    """The sum of the counts of ``labels``."""
    return sum((scores.get(label, Score()) for label in labels), Score())


def score_docs(docs: Sequence[GoldDoc], predictions: Sequence[Sequence[Prediction]]) -> Tally:
    """Score ``predictions[i]`` against ``docs[i]`` for every document."""
    if len(docs) != len(predictions):
        raise ValueError(f"{len(docs)} documents but {len(predictions)} prediction lists")
    tally = Tally()
    for doc, preds in zip(docs, predictions, strict=True):
        tally.add(doc.text, doc.mentions, preds)
    return tally


# --- helpers ---------------------------------------------------------------------------------


def _strip(text: str, start: int, end: int) -> Fragment | None:
    start, end = max(0, start), min(len(text), end)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _strip_mention(text: str, m: Mention) -> Mention | None:
    frags = tuple(f for f in (_strip(text, s, e) for s, e in m.fragments) if f is not None)
    if not frags:
        return None
    return Mention(tuple(sorted(frags)), m.label, m.qualifiers, m.cui)


def _strip_pred(text: str, p: Prediction) -> Prediction | None:
    span = _strip(text, p.start, p.end)
    if span is None:
        return None
    return Prediction(span[0], span[1], p.label, p.qualifiers, p.pipe)


def _dedup_gold(mentions: list[Mention]) -> list[Mention]:
    # the first of identical mentions wins (its qualifiers are kept)
    seen: dict[tuple[Fragment, ...], Mention] = {}
    for m in mentions:
        seen.setdefault(m.fragments, m)
    return list(seen.values())


def _dedup_pred(preds: list[Prediction]) -> list[Prediction]:
    seen: dict[tuple[int, int], Prediction] = {}
    for p in sorted(preds, key=lambda x: (x.start, x.end)):
        seen.setdefault((p.start, p.end), p)
    return list(seen.values())


def _merge(spans: list[Fragment]) -> list[Fragment]:
    """Overlapping spans merged into one (spans that only touch stay apart)."""
    out: list[Fragment] = []
    for start, end in sorted(spans):
        if out and start < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _hits(sorted_spans: list[Fragment], starts: list[int], frag: Fragment) -> bool:
    """Whether ``frag`` shares a character with one of ``sorted_spans`` (sorted by start)."""
    start, end = frag
    # only spans starting before ``end`` can overlap; they are before this index
    i = bisect_left(starts, end)
    return any(sorted_spans[j][1] > start for j in range(i - 1, -1, -1)) if i else False

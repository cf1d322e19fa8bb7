"""Qualifier evaluation on target mentions (``hopia nlp eval-qualifiers``).

The gold is a JSONL of sentences, each with one *target* mention (character offsets) and its
gold qualifiers: negation, hypothesis, family, history and, for a test or examination, its
qualitative result (``negative``, ``positive``, ``normal``, ``abnormal``). The shipped set is
:data:`DEFAULT_SET` (see ``qualifiers_fr.md`` beside it: who wrote it, how, the dev/test split).

**How a system is run.** The qualifiers are scored given the mention, as NegEx-style
evaluations do, so that a mention the NER misses does not hide the qualifier's behaviour: each
sentence goes through the pipeline's pipes up to the first qualifier (sentences, sections, every
NER pipe), the target is added to one of the span groups the qualifiers read (beside whatever
the NER found, which the list and scope rules need), then the qualifier pipes run. Hopia and raw
EDS-NLP (:data:`~hopia.data.nlp.evaluate.systems.EDS_BASELINE`) are run the same way.

**Scores.** Per qualifier, over the target mentions: a true positive is a gold-positive mention
predicted positive; precision = TP / predicted positives, recall = TP / gold positives, F1 their
harmonic mean. For ``result``, a prediction is correct when it names the gold value; precision =
correct / mentions given a result, recall = correct / gold mentions with a result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hopia.platform.exceptions import SourceError
from hopia.platform.files import jsonl_records
from hopia.platform.scores import Score

if TYPE_CHECKING:
    import edsnlp
    from spacy.tokens import Doc, Span

#: The binary qualifiers, as named on :class:`hopia.data.nlp.Entity`.
BINARY: tuple[str, ...] = ("negation", "hypothesis", "family", "history")
#: Every scored qualifier: the binary ones, then the test result.
SCORED: tuple[str, ...] = (*BINARY, "result")
RESULTS: frozenset[str] = frozenset({"negative", "positive", "normal", "abnormal"})
#: French labels for the report.
LABELS: dict[str, str] = {
    "negation": "négation",
    "hypothesis": "hypothèse",
    "family": "famille",
    "history": "antécédent",
    "result": "résultat",
}
#: Pipes that qualify mentions; every pipe before the first of them runs before the target is
#: added.
QUALIFIER_PIPES: frozenset[str] = frozenset(
    {"negation", "hypothesis", "family", "history", "reported_speech", "qualifier_rules"}
)
TARGET_LABEL = "qualifier_target"


def default_set() -> Path:
    """The shipped French qualifier set (``qualifiers_fr.jsonl``)."""
    return Path(str(files("hopia.data.nlp.evaluate").joinpath("qualifiers_fr.jsonl")))


@dataclass(frozen=True)
class Case:
    """One gold sentence and its target mention."""

    id: str
    text: str
    start: int
    end: int
    gold: dict[str, Any]  # BINARY -> bool, "result" -> str | None
    split: str = ""
    kind: str = ""  # the construction exercised ("scope", "result"…)

    @property
    def mention(self) -> str:
        return self.text[self.start : self.end]


def read_cases(path: Path) -> list[Case]:
    """The cases of a qualifier JSONL; a malformed line raises :class:`SourceError` (file, line,
    reason) and nothing is returned."""
    cases: list[Case] = []
    ids: set[str] = set()
    for where, rec in jsonl_records(Path(path)):
        cases.append(_case(where, rec, len(cases)))
        if cases[-1].id in ids:
            raise SourceError(where, f"identifiant en double : {cases[-1].id}")
        ids.add(cases[-1].id)
    if not cases:
        raise SourceError(path, "aucune phrase")
    return cases


def _case(where: str, rec: dict[str, Any], index: int) -> Case:
    text = rec.get("text")
    if not isinstance(text, str) or not text.strip():
        raise SourceError(where, "champ « text » manquant ou vide")
    start, end = rec.get("start"), rec.get("end")
    if start is None and isinstance(rec.get("mention"), str):  # the mention string alone
        start = text.find(rec["mention"])
        end = start + len(rec["mention"]) if start >= 0 else None
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        raise SourceError(where, "mention cible introuvable (start/end ou mention)")
    if isinstance(rec.get("mention"), str) and text[start:end] != rec["mention"]:
        raise SourceError(where, f"le texte en {start}-{end} n'est pas « {rec['mention']} »")
    gold: dict[str, Any] = {}
    for q in BINARY:
        value = rec.get(q, False)
        if not isinstance(value, bool):
            raise SourceError(where, f"« {q} » doit valoir true ou false")
        gold[q] = value
    result = rec.get("result")
    if result is not None and result not in RESULTS:
        raise SourceError(where, f"résultat inconnu « {result} » (attendu : {_results()})")
    gold["result"] = result
    return Case(
        id=str(rec.get("id") or f"L{index + 1}"),
        text=text,
        start=start,
        end=end,
        gold=gold,
        split=str(rec.get("split") or ""),
        kind=str(rec.get("class") or ""),
    )


def _results() -> str:
    return ", ".join(sorted(RESULTS))


# -- scoring -------------------------------------------------------------------------------------


def score_cases(cases: Sequence[Case], predictions: Sequence[dict[str, Any]]) -> dict[str, Score]:
    """Per qualifier, the counts behind precision and recall (module docstring)."""
    if len(cases) != len(predictions):
        raise ValueError("one prediction per case")
    out: dict[str, Score] = {}
    for q in SCORED:
        gold_n = pred_n = correct = 0
        for case, pred in zip(cases, predictions, strict=True):
            g, p = case.gold.get(q), pred.get(q)
            if q != "result":
                g, p = bool(g), bool(p)
            gold_n += bool(g)
            pred_n += bool(p)
            correct += bool(g) and g == p
        out[q] = Score(gold=gold_n, found=correct, predicted=pred_n, correct=correct)
    return out


def errors(
    cases: Sequence[Case], predictions: Sequence[dict[str, Any]], qualifier: str
) -> list[tuple[Case, Any]]:
    """The cases whose predicted ``qualifier`` differs from the gold, with the prediction."""
    out = []
    for case, pred in zip(cases, predictions, strict=True):
        g, p = case.gold.get(qualifier), pred.get(qualifier)
        if qualifier != "result":
            g, p = bool(g), bool(p)
        if g != p:
            out.append((case, p))
    return out


# -- running a pipeline on target mentions -------------------------------------------------------


def qualify(
    nlp: edsnlp.Pipeline,
    cases: Iterable[Case],
    target_group: str,
    on_case: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """The qualifiers ``nlp`` gives each case's target mention (module docstring); the target
    is added to ``target_group``, a span group the pipeline's qualifiers read."""
    pipes = list(nlp.pipeline)
    cut = next((i for i, (name, _) in enumerate(pipes) if name in QUALIFIER_PIPES), len(pipes))
    out = []
    for case in cases:
        doc = nlp.make_doc(case.text) if hasattr(nlp, "make_doc") else nlp.tokenizer(case.text)
        for _, pipe in pipes[:cut]:
            doc = pipe(doc)
        target = _add_target(doc, case, target_group)
        for _, pipe in pipes[cut:]:
            doc = pipe(doc)
        out.append(_flags(target))
        if on_case is not None:
            on_case()
    return out


def _add_target(doc: Doc, case: Case, group: str) -> Span:
    from spacy.tokens import Span

    span = doc.char_span(case.start, case.end, alignment_mode="expand")
    if span is None:  # offsets inside whitespace only: impossible after read_cases' checks
        raise ValueError(f"{case.id}: target does not align with tokens")
    target = Span(doc, span.start, span.end, label=TARGET_LABEL)
    existing = list(doc.spans[group]) if group in doc.spans else []
    doc.spans[group] = [*existing, target]
    return target


def _flags(span: Span) -> dict[str, Any]:
    ext = span._
    flags: dict[str, Any] = {q: bool(getattr(ext, q, False)) for q in BINARY}
    result = getattr(ext, "result", None) if span.has_extension("result") else None
    flags["result"] = result if result in RESULTS else None
    return flags


# -- the two systems -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QualifierSystem:
    key: str  # "hopia", "eds"
    title: str
    load: Callable[[], edsnlp.Pipeline]
    target_group: str


def hopia_qualifier_system(cache_dir: Path, *, cache: bool = True) -> QualifierSystem:
    """Hopia's pipeline; targets join the ``terms`` group (one its qualifiers read)."""

    def load() -> edsnlp.Pipeline:
        from hopia.data.nlp.pipeline import get_nlp

        return get_nlp(cache_dir=cache_dir, cache=cache)

    return QualifierSystem("hopia", "Hopia", load, "terms")


def eds_qualifier_system(cache_dir: Path) -> QualifierSystem:
    """Raw EDS-NLP; targets join its ``cim10`` group."""

    def load() -> edsnlp.Pipeline:
        from hopia.data.nlp.evaluate.systems import eds_pipeline

        return eds_pipeline(cache_dir)

    return QualifierSystem("eds", "EDS-NLP", load, "cim10")


@dataclass(frozen=True)
class QualifierEval:
    """Predictions of every system on the cases, and the scores per split."""

    source: str
    cases: tuple[Case, ...]
    predictions: dict[str, list[dict[str, Any]]]  # system key -> one dict per case
    titles: dict[str, str] = field(default_factory=dict)

    @property
    def splits(self) -> list[str]:
        """The splits of the set in a stable order (dev, test, then others), "" when none."""
        names = {c.split for c in self.cases}
        order = [s for s in ("dev", "test") if s in names]
        return order + sorted(names - set(order))

    def subset(self, split: str | None) -> list[int]:
        return [i for i, c in enumerate(self.cases) if split is None or c.split == split]

    def scores(self, system: str, split: str | None = None) -> dict[str, Score]:
        idx = self.subset(split)
        preds = self.predictions[system]
        return score_cases([self.cases[i] for i in idx], [preds[i] for i in idx])

    def to_dict(self) -> dict[str, Any]:
        splits: list[str | None] = [*self.splits, None]
        return {
            "source": self.source,
            "cases": len(self.cases),
            "sentences": len({c.text for c in self.cases}),
            "splits": {s or "all": len(self.subset(s)) for s in splits},
            "systems": {
                key: {
                    "title": self.titles.get(key, key),
                    "scores": {
                        s or "all": {q: sc.to_dict() for q, sc in self.scores(key, s).items()}
                        for s in splits
                    },
                    "errors": {q: [c.id for c, _ in errors(self.cases, preds, q)] for q in SCORED},
                }
                for key, preds in self.predictions.items()
            },
        }


def evaluate_qualifiers(
    cases: Sequence[Case],
    systems: Sequence[QualifierSystem],
    source: str,
    on_case: Callable[[str], None] | None = None,
) -> QualifierEval:
    """Run every system on the cases; ``on_case(system_key)`` after each case."""
    predictions = {}
    for system in systems:
        tick = (lambda k=system.key: on_case(k)) if on_case is not None else None
        predictions[system.key] = qualify(system.load(), cases, system.target_group, tick)
    return QualifierEval(source, tuple(cases), predictions, {s.key: s.title for s in systems})

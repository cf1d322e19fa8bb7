"""Classifying AI vs generative AI, measured (``hopia assistant eval extraction``): the rules + NER
pipeline and the embedded LLMs (:mod:`hopia.assistant.extraction`) on the same texts, scored by
the same scorers.

- **Mentions**: a fixed sample of QUAERO documents (BRAT gold), micro precision and recall over
  DISO+CHEM+PROC, exact and overlap (:mod:`hopia.data.nlp.evaluate.scoring`).
- **Qualifiers**: the qualifier set's sentences (a fixed sample of a split). Unlike ``hopia nlp
  eval-qualifiers``, which hands the pipeline its target mention, each system here reads the
  sentence *end to end*, as ``hopia nlp extract`` does: the target's qualifiers are those of the
  predicted entity overlapping it most (then the earliest); a target no entity overlaps is
  *missed* and counts as all qualifiers false. Per qualifier precision and recall
  (:func:`hopia.data.nlp.evaluate.qualifiers.score_cases`), and the accuracy: agreements over
  (target, binary qualifier) pairs.
- **Cost**: seconds per document (model loading excluded), and the gateway's footprint estimate
  per document (:func:`hopia.assistant.footprint.estimate`: energy per generated token by model
  size, plus the server's amortised share over the wall time). The rules generate no token:
  their estimate is the server's share alone (the per-token energy model does not apply).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hopia.assistant.extraction import LlmExtractor
from hopia.assistant.footprint import Footprint, estimate
from hopia.data.nlp.evaluate import GoldDoc, Prediction, System, micro, run_system, score_docs
from hopia.data.nlp.evaluate.gold import QUALIFIERS
from hopia.data.nlp.evaluate.qualifiers import BINARY, Case, score_cases
from hopia.platform.config import FootprintSettings
from hopia.platform.scores import Score

LABELS: tuple[str, ...] = ("DISO", "CHEM", "PROC")
T = TypeVar("T")


def llm_system(extractor: LlmExtractor, key: str, title: str) -> System:
    """The LLM extractor as a system of ``hopia nlp eval``'s runner."""

    def predict(texts: list[str]) -> Iterator[list[Prediction]]:
        for text in texts:
            if not text.strip():
                yield []
                continue
            entities, _ = extractor.extract(text)
            yield [
                Prediction(
                    e.start,
                    e.end,
                    e.category or e.label,
                    {q: bool(getattr(e, q)) for q in QUALIFIERS},
                    e.pipe,
                )  # fmt: skip
                for e in entities
            ]

    return System(key, title, predict)


def sample_of(items: Sequence[T], limit: int | None, seed: int) -> list[T]:
    """``limit`` items drawn with ``random.Random(seed)``, in their order; all when ``limit`` is
    None or not smaller."""
    if limit is None or limit >= len(items):
        return list(items)
    return [items[i] for i in sorted(random.Random(seed).sample(range(len(items)), limit))]


def target_flags(case: Case, predictions: Sequence[Prediction]) -> dict[str, Any] | None:
    """The binary qualifiers of the prediction overlapping the case's target most (then the
    earliest); None when none overlaps."""

    def overlap(p: Prediction) -> int:
        return max(0, min(p.end, case.end) - max(p.start, case.start))

    hits = [p for p in predictions if overlap(p) > 0]
    if not hits:
        return None
    best = max(hits, key=lambda p: (overlap(p), -p.start))
    return {q: bool(best.qualifiers.get(q, False)) for q in BINARY}


@dataclass(frozen=True)
class Run:
    """One system on one data set."""

    documents: int
    seconds: float
    footprint: Footprint
    tokens: tuple[int, int] = (0, 0)  # prompt, completion
    dropped: int = 0  # LLM: quoted spans not found in the text
    truncated: int = 0  # LLM: answers cut by the token limit

    def per_document(self) -> dict[str, float]:
        n = max(self.documents, 1)
        f = self.footprint
        return {
            "seconds": self.seconds / n,
            "energy_wh": f.energy_wh / n,
            "co2e_g": f.co2e_g / n,
            "cost_eur": f.cost_eur / n,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "seconds": round(self.seconds, 3),
            "prompt_tokens": self.tokens[0],
            "completion_tokens": self.tokens[1],
            "dropped_spans": self.dropped,
            "truncated_answers": self.truncated,
            "per_document": {k: float(f"{v:.6g}") for k, v in self.per_document().items()},
        }


@dataclass
class SystemFigures:
    key: str
    title: str
    exact: Score
    overlap: Score
    mentions: Run
    qualifiers: dict[str, Score]
    agreement: float
    targets_missed: int
    cases: Run

    def to_dict(self) -> dict[str, Any]:
        def pr(s: Score) -> dict[str, float | None]:
            return {"precision": s.precision, "recall": s.recall, "f1": s.f1}

        return {
            "title": self.title,
            "quaero": {"exact": pr(self.exact), "overlap": pr(self.overlap)}
            | {"run": self.mentions.to_dict()},
            "qualifiers": {q: pr(s) | {"gold": s.gold} for q, s in self.qualifiers.items()}
            | {"accuracy": self.agreement, "targets_missed": self.targets_missed}
            | {"run": self.cases.to_dict()},
        }


@dataclass
class Comparison:
    quaero_source: str
    quaero_documents: int  # in the gold set
    quaero_ids: list[str]
    qualifier_source: str
    qualifier_split: str
    qualifier_ids: list[str]
    seed: int
    systems: list[SystemFigures] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "quaero": {
                "source": self.quaero_source,
                "documents_in_set": self.quaero_documents,
                "sample": len(self.quaero_ids),
                "ids": self.quaero_ids,
            },
            "qualifiers": {
                "source": self.qualifier_source,
                "split": self.qualifier_split,
                "sample": len(self.qualifier_ids),
                "ids": self.qualifier_ids,
            },
            "seed": self.seed,
            "labels": list(LABELS),
            "systems": {s.key: s.to_dict() for s in self.systems},
        }


@dataclass(frozen=True)
class Contender:
    """A system to compare, and how to cost it: ``extractor`` for an LLM (its token counts),
    ``parameters_b`` its size."""

    system: System
    extractor: LlmExtractor | None = None
    parameters_b: float | None = None


def _run(
    contender: Contender,
    texts: list[str],
    settings: FootprintSettings,
    on_doc: Callable[[], None] | None,
) -> tuple[list[list[Prediction]], Run]:
    extractor = contender.extractor
    before = len(extractor.stats.per_call) if extractor else 0
    dropped0 = extractor.stats.dropped if extractor else 0
    truncated0 = extractor.stats.truncated if extractor else 0
    predictions, seconds = run_system(contender.system, texts, on_doc)
    if extractor is None:
        cost = estimate(
            settings, prompt_tokens=0, completion_tokens=0, parameters_b=1.0, seconds=seconds
        )
        return predictions, Run(len(texts), seconds, cost)
    calls = extractor.stats.per_call[before:]
    costs = [
        estimate(settings, prompt_tokens=p, completion_tokens=c,
                 parameters_b=contender.parameters_b, seconds=s)
        for p, c, s in calls
    ]  # fmt: skip
    total = Footprint(
        sum(x.energy_wh for x in costs),
        sum(x.co2e_g for x in costs),
        sum(x.cost_eur for x in costs),
    )
    run = Run(
        len(texts),
        seconds,
        total,
        (sum(p for p, _, _ in calls), sum(c for _, c, _ in calls)),
        extractor.stats.dropped - dropped0,
        extractor.stats.truncated - truncated0,
    )
    return predictions, run


def compare(
    contenders: Sequence[Contender],
    docs: Sequence[GoldDoc],
    cases: Sequence[Case],
    settings: FootprintSettings,
    comparison: Comparison,
    on_step: Callable[[str, str, int, int], None] | None = None,
) -> Comparison:
    """Every contender on the documents and on the cases' sentences (each distinct sentence
    once); ``on_step(system_title, data_set, done, total)`` after each text."""
    doc_texts = [d.text for d in docs]
    sentences = list(dict.fromkeys(c.text for c in cases))
    for contender in contenders:
        title = contender.system.title
        done = {"quaero": 0, "qualifiers": 0}

        def tick(
            name: str, total: int, title: str = title, done: dict = done
        ) -> Callable[[], None]:  # noqa: E501
            def step() -> None:
                done[name] += 1
                if on_step is not None:
                    on_step(title, name, done[name], total)

            return step

        predictions, mentions = _run(contender, doc_texts, settings, tick("quaero", len(doc_texts)))
        tally = score_docs(list(docs), predictions)
        by_sentence, case_run = _run(
            contender, sentences, settings, tick("qualifiers", len(sentences))
        )
        found = dict(zip(sentences, by_sentence, strict=True))
        flags = [target_flags(c, found[c.text]) for c in cases]
        missed = sum(f is None for f in flags)
        predicted = [f or dict.fromkeys(BINARY, False) for f in flags]
        scores = {q: s for q, s in score_cases(cases, predicted).items() if q in BINARY}
        agree = sum(
            bool(c.gold.get(q)) == p[q]
            for c, p in zip(cases, predicted, strict=True)
            for q in BINARY
        )
        comparison.systems.append(
            SystemFigures(
                contender.system.key,
                title,
                micro(tally.exact, LABELS),
                micro(tally.overlap, LABELS),
                mentions,
                scores,
                agree / (len(cases) * len(BINARY)) if cases else 0.0,
                missed,
                case_run,
            )
        )
    return comparison

"""Evaluation of the grounding check on outputs with seeded errors.

A case is a source note and a faithful summary of it. Each seeded error edits one copy of the
pair: a dose or value changed in the summary, a negation flipped in the summary, or a fact
removed from the source. The check runs on the clean pair (every flag there is a false alarm)
and on each edited pair (a flag overlapping the expected span is a hit; any other flag a false
alarm). Precision = hits / flags; recall = seeded errors found / seeded errors.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hopia.assistant.grounding import GroundingReport, SourceText
from hopia.platform.exceptions import InvalidRequestError

Check = Callable[[str, list[SourceText]], GroundingReport]


@dataclass(frozen=True)
class SeededError:
    type: str  # dose, negation, removed
    old: str
    new: str
    flag: str


@dataclass(frozen=True)
class Case:
    id: str
    source: str
    summary: str
    errors: tuple[SeededError, ...]


@dataclass
class GroundingEval:
    cases: int = 0
    seeded: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    flags: int = 0
    hits: int = 0
    clean_flags: int = 0  # false alarms on the faithful summaries
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def precision(self) -> float:
        return self.hits / self.flags if self.flags else 0.0

    @property
    def recall(self) -> float:
        total = sum(self.seeded.values())
        return sum(self.found.values()) / total if total else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "seeded": dict(self.seeded),
            "found": dict(self.found),
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
            "recall_by_type": {
                t: round(self.found[t] / n, 3) for t, n in sorted(self.seeded.items()) if n
            },
            "flags": self.flags,
            "hits": self.hits,
            "clean_false_alarms": self.clean_flags,
            "seconds": round(self.seconds, 2),
            "misses": self.misses,
            "false_alarms": self.false_alarms,
        }


def load_cases(path: Path) -> list[Case]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidRequestError(f"{path} : cas illisibles ({exc})", fields=("cases",)) from exc
    cases = []
    for item in raw or []:
        errors = tuple(SeededError(**e) for e in item.get("errors", []))
        cases.append(Case(str(item["id"]), item["source"], item["summary"], errors))
    return cases


def _apply(case: Case, error: SeededError) -> tuple[str, str]:
    """The (source, summary) pair with ``error`` seeded; raises when the edit does not apply."""
    where = case.source if error.type == "removed" else case.summary
    if error.old not in where:
        raise InvalidRequestError(f"cas {case.id} : « {error.old} » introuvable", fields=("cases",))
    edited = where.replace(error.old, error.new, 1)
    return (edited, case.summary) if error.type == "removed" else (case.source, edited)


def evaluate(cases: list[Case], check: Check) -> GroundingEval:
    result = GroundingEval(cases=len(cases))
    started = time.perf_counter()
    for case in cases:
        clean = check(case.summary, [SourceText(case.id, case.source)])
        result.flags += len(clean.flags)
        result.clean_flags += len(clean.flags)
        result.false_alarms += [f"{case.id} (sans erreur) : {f.text}" for f in clean.flags]
        for error in case.errors:
            source, summary = _apply(case, error)
            at = summary.find(error.flag)
            if at < 0:
                raise InvalidRequestError(
                    f"cas {case.id} : « {error.flag} » absent du résumé", fields=("cases",)
                )
            span = (at, at + len(error.flag))
            report = check(summary, [SourceText(case.id, source)])
            result.seeded[error.type] += 1
            hit = [f for f in report.flags if f.start < span[1] and span[0] < f.end]
            result.flags += len(report.flags)
            result.hits += len(hit)
            if hit:
                result.found[error.type] += 1
            else:
                result.misses.append(f"{case.id} {error.type} : {error.flag}")
            result.false_alarms += [
                f"{case.id} {error.type} : {f.text}" for f in report.flags if f not in hit
            ]
    result.seconds = time.perf_counter() - started
    return result

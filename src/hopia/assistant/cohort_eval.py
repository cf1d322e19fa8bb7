"""Evaluation of cohort-from-question: the model's definition against the expected one, by
exact match of their members (same person ids) on one warehouse.

Both definitions run with the same reference date (without an index event, age is computed on
it): a question says "plus de 65 ans", not on which day."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import Connection

from hopia.platform.exceptions import HopiaError, InvalidRequestError

REFERENCE_DATE = date(2025, 1, 1)

Answer = Callable[[str], tuple[str, str | None]]
"""question -> (definition YAML, or the model's raw text, and an error in French or None)."""
Progress = Callable[[int, int, dict[str, Any]], None]
"""(questions done, questions in all, the detail row of the last one): a run of the 1.5B model
takes tens of minutes on a loaded machine, and the front end shows where it is."""


@dataclass(frozen=True)
class Question:
    question: str
    expected: dict[str, Any]


@dataclass
class CohortEval:
    questions: int = 0
    valid: int = 0
    exact: int = 0
    seconds: float = 0.0
    details: list[dict[str, Any]] = field(default_factory=list)
    prompt: str | None = None  # the prompt version that wrote the answers

    def to_json(self) -> dict[str, Any]:
        n = self.questions or 1
        return {
            "prompt": self.prompt,
            "questions": self.questions,
            "valid_definitions": self.valid,
            "exact_match": self.exact,
            "exact_match_rate": round(self.exact / n, 3),
            "valid_rate": round(self.valid / n, 3),
            "seconds": round(self.seconds, 1),
            "details": self.details,
        }


def load_questions(path: Path) -> list[Question]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidRequestError(
            f"{path} : questions illisibles ({exc})", fields=("questions",)
        ) from exc
    # the set names each expected definition; its title is the question
    return [
        Question(str(q["question"]), {"title": str(q["question"]), **q["expected"]})
        for q in raw or []
    ]


def members(conn: Connection, definition: Any) -> frozenset[int]:
    """Person ids of a definition's members, on ``REFERENCE_DATE``."""
    from hopia.data.cohorts.compile import compile_cohort

    compiled = compile_cohort(definition, REFERENCE_DATE)
    return frozenset(int(r.person_id) for r in conn.execute(compiled.members_query()))


def evaluate(
    questions: list[Question],
    answer: Answer,
    conn: Connection,
    progress: Progress | None = None,
) -> CohortEval:
    from hopia.assistant.tasks.cohort_question import validate
    from hopia.data.cohorts.load import parse_definition

    result = CohortEval(questions=len(questions))
    started = time.perf_counter()
    for q in questions:
        expected = members(conn, parse_definition(q.expected, q.expected["name"]))
        text, error = answer(q.question)
        row: dict[str, Any] = {"question": q.question, "expected": len(expected), "answer": text}
        if error is None:
            try:
                definition, _ = validate(text)
                got = members(conn, definition)
            except HopiaError as exc:
                error = exc.message
            else:
                result.valid += 1
                row["got"] = len(got)
                if got == expected:
                    result.exact += 1
                    row["exact"] = True
        row.setdefault("exact", False)
        if error is not None:
            row["error"] = error[:200]
        result.details.append(row)
        if progress is not None:
            progress(len(result.details), len(questions), row)
    result.seconds = time.perf_counter() - started
    return result

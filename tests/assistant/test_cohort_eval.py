"""The cohort-from-question evaluation set and its scorer on the sample warehouse: the expected
definitions are valid and select patients, an exact answer scores, a near miss does not."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hopia.assistant import cohort_eval
from hopia.data.cohorts.load import parse_definition
from hopia.platform.warehouse import Warehouse
from tests.conftest import REPO

QUESTIONS = REPO / "bench" / "assistant" / "cohort_questions.yaml"
HELD_OUT = REPO / "bench" / "assistant" / "cohort_questions_heldout.yaml"


@pytest.mark.parametrize("path", [QUESTIONS, HELD_OUT], ids=["tuned", "held-out"])
def test_the_set_has_30_questions_that_select_patients(sample: Warehouse, path: Path) -> None:
    questions = cohort_eval.load_questions(path)
    assert len(questions) >= 30
    with sample.engine.connect() as conn:
        sizes = [
            len(cohort_eval.members(conn, parse_definition(q.expected, q.question)))
            for q in questions
        ]
    assert all(n > 0 for n in sizes), sizes  # no empty expected cohort: a match means something
    assert len(set(sizes)) > 5  # and not all the same population


def test_the_held_out_questions_are_new() -> None:
    tuned = {q.question.lower() for q in cohort_eval.load_questions(QUESTIONS)}
    held_out = [q.question.lower() for q in cohort_eval.load_questions(HELD_OUT)]
    assert len(set(held_out)) == len(held_out) and not tuned & set(held_out)


def test_exact_answers_score_and_near_misses_do_not(sample: Warehouse) -> None:
    questions = cohort_eval.load_questions(QUESTIONS)[:6]
    by_question = {q.question: q.expected for q in questions}

    def exact(question: str) -> tuple[str, str | None]:
        return "```yaml\n" + yaml.safe_dump(by_question[question]) + "```", None

    def near_miss(question: str) -> tuple[str, str | None]:
        wrong = dict(by_question[question], inclusion=[{"demographics": {"age_min": 18}}])
        return yaml.safe_dump(wrong), None

    def invalid(question: str) -> tuple[str, str | None]:
        return "name: [", None

    with sample.engine.connect() as conn:
        seen: list[tuple[int, int, bool]] = []
        scored = cohort_eval.evaluate(
            questions,
            exact,
            conn,
            lambda done, total, row: seen.append((done, total, row["exact"])),
        )
        assert scored.exact == 6
        assert seen == [(i, 6, True) for i in range(1, 7)]  # one progress call per question
        missed = cohort_eval.evaluate(questions, near_miss, conn)
        assert missed.valid == 6 and missed.exact < 6
        broken = cohort_eval.evaluate(questions, invalid, conn)
        assert (broken.valid, broken.exact) == (0, 0)
        assert "YAML invalide" in broken.details[0]["error"]

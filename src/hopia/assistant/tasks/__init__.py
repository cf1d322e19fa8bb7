"""The assistant's tasks (issue 13 item 6): a registry of named tasks, each with its versioned
French prompt, its inputs schema, the role action that allows it and its checks.

>>> from hopia.assistant.tasks import get, run  # doctest: +SKIP
>>> result = run(get("minutes"), inputs, sources, generate=None)  # says: no model
"""

from __future__ import annotations

from hopia.assistant.tasks.article import ARTICLE_DRAFT
from hopia.assistant.tasks.base import NO_MODEL, Generate, Task, TaskResult, run
from hopia.assistant.tasks.clinical import DISCHARGE_LETTER, PATIENT_SUMMARY
from hopia.assistant.tasks.cohort_question import COHORT_FROM_QUESTION
from hopia.assistant.tasks.teaching import MINUTES, QUIZ
from hopia.platform.exceptions import NotFoundError

TASKS: dict[str, Task] = {
    t.name: t
    for t in (PATIENT_SUMMARY, DISCHARGE_LETTER, COHORT_FROM_QUESTION, ARTICLE_DRAFT, QUIZ, MINUTES)
}


def get(name: str) -> Task:
    if name not in TASKS:
        raise NotFoundError(
            f"tâche inconnue : « {name} » (tâches : {', '.join(TASKS)})", fields=("task",)
        )
    return TASKS[name]


__all__ = ["NO_MODEL", "TASKS", "Generate", "Task", "TaskResult", "get", "run"]

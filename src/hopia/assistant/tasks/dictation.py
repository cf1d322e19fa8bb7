"""Putting a dictated section into written form (issue 14 item 4): the model may smooth the
spoken text of one section; it may neither add nor drop a fact. The grounding check of
:func:`hopia.assistant.tasks.base.run` flags what it added; the dictation's own check
(:mod:`hopia.care.dictation.reformulate`) also flags what it dropped and keeps the dictated text
whenever either is found.

It is not in the registry of the task forms (:data:`hopia.assistant.tasks.TASKS`): run alone, a
rewrite would be checked for what it added, not for what it dropped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from hopia.assistant.grounding import SourceText
from hopia.assistant.tasks.base import Post, Task

MAX_SECTION = 8_000


class SectionInputs(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_SECTION)
    title: str | None = Field(None, max_length=120)  # the section's title


def _variables(
    inputs: SectionInputs, sources: Sequence[SourceText], data: dict[str, Any]
) -> dict[str, str]:
    return {"section": inputs.title or "(sans titre)", "text": inputs.text.strip()}


def _strip_title(
    text: str, inputs: SectionInputs, sources: Sequence[SourceText], data: dict[str, Any]
) -> Post:
    """Small models often repeat the section's title as a first line: it is not the section's
    text (the note keeps its titles apart)."""
    lines = text.strip().splitlines()
    title = (inputs.title or "").strip().lower().rstrip(" :")
    if lines and title and lines[0].strip().lower().strip("#* ").rstrip(" :") == title:
        lines = lines[1:]
    return Post("\n".join(lines).strip())


DICTATION_SECTION = Task(
    name="dictation_section",
    title="Mise en forme d'une section dictée",
    action="task.dictation_section",
    inputs=SectionInputs,
    variables=_variables,
    postprocess=_strip_title,
    max_tokens=600,
    needs="text",
)

"""Tasks for every staff member: a training quiz (QCM) from a protocol, each question citing
its passage by offsets, and meeting minutes from a transcript."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from hopia.assistant.grounding import Flag, SourceText
from hopia.assistant.tasks.base import Post, Task

MAX_TEXT = 20_000


class TextInputs(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    title: str | None = None


class QuizInputs(TextInputs):
    count: int = Field(5, ge=1, le=20)


def _norm(text: str) -> tuple[str, list[int]]:
    """Lower case, no accents, runs of spaces as one, no typographic quotes; with the index in
    ``text`` of each character kept, so a match maps back to offsets."""
    out: list[str] = []
    where: list[int] = []
    space = False
    for i, ch in enumerate(text):
        base = unicodedata.normalize("NFKD", ch.lower())
        base = "".join(c for c in base if not unicodedata.combining(c))
        base = base.replace("’", "'").replace("«", '"').replace("»", '"')
        if not base:
            continue
        if base.isspace():
            if space or not out:
                continue
            base, space = " ", True
        else:
            space = False
        for c in base:
            out.append(c)
            where.append(i)
    return "".join(out), where


def locate(passage: str, text: str) -> tuple[int, int] | None:
    """Offsets of ``passage`` in ``text``, compared without case, accents or spacing."""
    needle, _ = _norm(passage.strip().strip('"').rstrip("."))
    if len(needle) < 8:
        return None  # too short to cite anything
    hay, where = _norm(text)
    i = hay.find(needle)
    if i < 0:
        return None
    return where[i], where[i + len(needle) - 1] + 1


def _json_list(text: str) -> list[Any] | None:
    start, end = text.find("["), text.rfind("]")
    if start < 0 or end <= start:
        return None
    try:
        value = json.loads(text[start : end + 1])
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) else None


def _quiz_variables(
    inputs: QuizInputs, sources: Sequence[SourceText], data: dict[str, Any]
) -> dict[str, str]:
    return {"protocol": inputs.text.strip(), "count": str(inputs.count)}


def _quiz_post(
    text: str, inputs: QuizInputs, sources: Sequence[SourceText], data: dict[str, Any]
) -> Post:
    items = _json_list(text)
    if items is None:
        return Post(
            text.strip(), {"questions": []}, error="réponse du modèle illisible (JSON attendu)"
        )
    protocol = sources[0].text if sources else inputs.text
    questions: list[dict[str, Any]] = []
    flags: list[Flag] = []
    lines: list[str] = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            continue
        choices = [str(c) for c in item.get("choix") or item.get("choices") or []]
        answer = item.get("reponse", item.get("answer"))
        passage = str(item.get("passage") or "")
        where = locate(passage, protocol)
        questions.append(
            {
                "question": item["question"],
                "choices": choices,
                "answer": answer
                if isinstance(answer, int) and 0 <= answer < len(choices)
                else None,
                "passage": passage,
                "start": where[0] if where else None,
                "end": where[1] if where else None,
            }
        )
        cite = f"[passage {where[0]}–{where[1]}]" if where else "[passage introuvable]"
        lines.append(f"{n}. {item['question']} {cite}")
        lines += [f"   {chr(65 + k)}. {c}" for k, c in enumerate(choices)]
        if where is None:
            flags.append(
                Flag(
                    0,
                    0,
                    passage[:80],
                    "passage",
                    "passage",
                    f"question {n} : passage cité introuvable dans le protocole",
                )
            )
    return Post("\n".join(lines), {"questions": questions}, tuple(flags))


def _minutes_variables(
    inputs: TextInputs, sources: Sequence[SourceText], data: dict[str, Any]
) -> dict[str, str]:
    return {"transcript": inputs.text.strip()}


QUIZ = Task(
    name="quiz",
    title="Questionnaire de formation (QCM)",
    action="task.quiz",
    inputs=QuizInputs,
    variables=_quiz_variables,
    postprocess=_quiz_post,
    grounded=False,  # each question is checked by its cited passage instead
    max_tokens=900,
    needs="text",
)

MINUTES = Task(
    name="minutes",
    title="Compte rendu de réunion",
    action="task.minutes",
    inputs=TextInputs,
    variables=_minutes_variables,
    max_tokens=700,
    needs="text",
)

"""The assistant's history per user: every question asked over collections and every task run,
kept for the one who asked (``hopia_meta.assistant_history``, migration 13).

What is kept follows the gateway's audit: the inputs a user typed to name what they asked about
(a question, a patient or stay id, a cohort, a collection document), the answer shown, its
citations (document ids and offsets, never the documents' text) and its grounding flags. A pasted
text (a transcript, a protocol) is kept only when ``assistant.audit_prompts`` asks for prompts.

Rules:

- a user lists, reads and deletes their own entries only (``assistant.history``); someone
  else's entry reads as unknown, for an administrator too: nobody reads another's text;
- an entry that cites a patient's documents (``person_id``) is a patient-level read: reading it
  again asks the same perimeter rule as the documents (``document.identified`` on that
  patient) and is audited (``assistant.history.read``, the patient as target);
- a deletion is audited (``assistant.history.delete``); the run's own audit entry stays.

The services that answer (:mod:`hopia.services.ask`, :mod:`hopia.services.tasks`) write the
entry with :func:`record`, in the transaction of their audit entry.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import Connection, delete, select

from hopia.platform import audit
from hopia.platform.exceptions import NotFoundError
from hopia.platform.warehouse import schema
from hopia.services.context import Context, Request

Kind = Literal["question", "task"]
ACTION = "assistant.history"
TITLE_CHARS = 160

TASK_TITLES = {
    "patient_summary": "Synthèse du dossier patient",
    "discharge_letter": "Brouillon de lettre de liaison",
    "cohort_from_question": "Cohorte à partir d'une question",
    "article_draft": "Brouillon d'article",
    "quiz": "Questionnaire de formation (QCM)",
    "minutes": "Compte rendu de réunion",
}


class ListRequest(Request):
    limit: int = Field(50, ge=1, le=500)


class EntryRequest(Request):
    entry_id: str = Field(min_length=32, max_length=32, pattern=r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class EntrySummary:
    """One line of the history: what was asked, when, with what, no answer text."""

    entry_id: str
    at: datetime
    kind: Kind
    name: str
    title: str
    """French: the question, or the task and what it was run on."""
    generated: bool
    model: str | None
    flags: int
    person_id: int | None


@dataclass(frozen=True)
class Entry:
    summary: EntrySummary
    inputs: dict[str, Any]
    answer: str
    citations: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    structured: dict[str, Any]
    prompt_version: str | None
    prompt: str | None
    """The pasted text, when the settings kept prompts."""
    audit_id: int


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def record(
    conn: Connection,
    ctx: Context,
    *,
    kind: Kind,
    name: str,
    inputs: dict[str, Any],
    answer: str,
    citations: list[dict[str, Any]],
    flags: list[dict[str, Any]],
    generated: bool,
    model: str | None,
    audit_id: int,
    structured: dict[str, Any] | None = None,
    prompt_version: str | None = None,
    person_id: int | None = None,
    pasted: str | None = None,
) -> str:
    """Keep one entry for ``ctx``'s user, in the caller's transaction; its id. ``pasted`` (a
    text the user gave) is kept only when ``assistant.audit_prompts`` is on."""
    entry_id = uuid.uuid4().hex
    keep = pasted if pasted is not None and ctx.settings.assistant.audit_prompts else None
    conn.execute(
        schema.assistant_history.insert().values(
            entry_id=entry_id,
            username=ctx.actor,
            at=_utcnow(),
            kind=kind,
            name=name,
            inputs=_json(inputs),
            answer=answer,
            citations=_json(citations),
            flags=_json(flags),
            structured=_json(structured or {}),
            generated=generated,
            model=model[:200] if model else None,
            prompt_version=prompt_version,
            person_id=person_id,
            prompt=keep,
            audit_id=audit_id,
        )
    )
    return entry_id


def _title(kind: str, name: str, inputs: dict[str, Any]) -> str:
    if kind == "question":
        text = str(inputs.get("question", ""))
    else:
        on = [
            f"patient n° {inputs['person_id']}" if inputs.get("person_id") is not None else "",
            f"séjour n° {inputs['visit_id']}" if inputs.get("visit_id") is not None else "",
            f"cohorte « {inputs['cohort']} »" if inputs.get("cohort") else "",
            f"« {inputs['question']} »" if inputs.get("question") else "",
            f"« {inputs['title']} »" if inputs.get("title") else "",
        ]
        what = ", ".join(x for x in on if x)
        text = TASK_TITLES.get(name, name) + (f" : {what}" if what else "")
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"


def _summary(row: Any) -> EntrySummary:
    inputs = json.loads(row.inputs)
    return EntrySummary(
        entry_id=row.entry_id,
        at=row.at,
        kind=row.kind,
        name=row.name,
        title=_title(row.kind, row.name, inputs),
        generated=bool(row.generated),
        model=row.model,
        flags=len(json.loads(row.flags)),
        person_id=row.person_id,
    )


def list_entries(ctx: Context, request: ListRequest) -> list[EntrySummary]:
    """The user's own entries, newest first; no answer text (nothing of a patient is read)."""
    ctx.authorize(ACTION, "history:own")
    h = schema.assistant_history
    with ctx.warehouse().engine.connect() as conn:
        rows = conn.execute(
            select(h)
            .where(h.c.username == ctx.actor)
            .order_by(h.c.at.desc(), h.c.entry_id)
            .limit(request.limit)
        ).all()
    return [_summary(r) for r in rows]


def _own(conn: Connection, ctx: Context, entry_id: str) -> Any:
    h = schema.assistant_history
    row = conn.execute(select(h).where(h.c.entry_id == entry_id, h.c.username == ctx.actor)).first()
    if row is None:  # someone else's entry reads as unknown: nothing tells it exists
        raise NotFoundError("entrée d'historique introuvable", fields=("entry_id",))
    return row


def get_entry(ctx: Context, request: EntryRequest) -> Entry:
    """One of the user's entries, whole. Citing a patient's documents, it is read as they
    are: within the perimeter (``document.identified``), audited before it is returned."""
    ctx.authorize(ACTION, "history:own")
    # One transaction: the entry, the perimeter check on its patient and the audit entry.
    with ctx.warehouse().begin(reads_first=True) as conn:
        row = _own(conn, ctx, request.entry_id)
        if row.person_id is not None:
            resource = f"person:{row.person_id}"
            ctx.authorize("document.identified", resource, conn=conn)
            audit.record(
                conn,
                ctx.actor,
                "assistant.history.read",
                resource,
                None,
                {"entry_id": row.entry_id, "task": row.name, "person_id": row.person_id},
            )
    return Entry(
        summary=_summary(row),
        inputs=json.loads(row.inputs),
        answer=row.answer,
        citations=json.loads(row.citations),
        flags=json.loads(row.flags),
        structured=json.loads(row.structured),
        prompt_version=row.prompt_version,
        prompt=row.prompt,
        audit_id=row.audit_id,
    )


def delete_entry(ctx: Context, request: EntryRequest) -> EntrySummary:
    """Remove one of the user's entries (audited; the run's own audit entry stays)."""
    ctx.authorize(ACTION, "history:own")
    h = schema.assistant_history
    with ctx.warehouse().begin() as conn:
        row = _own(conn, ctx, request.entry_id)
        conn.execute(delete(h).where(h.c.entry_id == row.entry_id))
        audit.record(
            conn,
            ctx.actor,
            "assistant.history.delete",
            f"history:{row.entry_id}",
            None,
            {"entry_id": row.entry_id, "kind": row.kind, "name": row.name},
        )
    return _summary(row)

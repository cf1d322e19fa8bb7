"""``/api/v1/documents``: list and search notes, view one with its entities and qualifiers;
re-identify one (DIM). The space is the role's: research (pseudonymised) or identified (a
clinician's perimeter); the service judges and audits every read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hopia.services import documents, reidentify
from hopia.web.deps import ContextDep
from hopia.web.roles import Allow
from hopia.web.schemas.notes import ReasonBody, Reidentified
from hopia.web.schemas.problem import PROBLEMS

router = APIRouter(
    responses=PROBLEMS,
    prefix="/documents",
    tags=["documents"],
    dependencies=[Allow("document.research", "document.identified", "pseudo.reidentify")],
)


@router.get("", summary="List or search the notes the user may see (newest first)")
def list_documents(
    ctx: ContextDep,
    q: Annotated[str | None, Query(max_length=200, description="Words, all in the text")] = None,
    space: documents.Space | None = None,
    person_id: int | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int | None, Query(ge=1, le=500)] = None,
) -> documents.DocumentPage:
    return documents.list_documents(
        ctx,
        documents.DocumentListRequest.of(
            space=space,
            query=q,
            person_id=person_id,
            page=page,
            size=size or ctx.settings.web.page_size,
        ),
    )


@router.get("/{note_id}", summary="One note: text, entities, qualifiers (audited)")
def view_document(
    note_id: int, ctx: ContextDep, space: documents.Space | None = None
) -> documents.DocumentView:
    return documents.view_document(
        ctx, documents.DocumentViewRequest.of(note_id=note_id, space=space)
    )


@router.post(
    "/{note_id}/break-glass",
    summary="An identified note outside the perimeter, with a reason (flagged in the audit)",
)
def break_glass(note_id: int, body: ReasonBody, ctx: ContextDep) -> documents.DocumentView:
    return documents.view_document(
        ctx,
        documents.DocumentViewRequest.of(
            note_id=note_id, space="identified", break_glass_reason=body.reason
        ),
    )


@router.post(
    "/{note_id}/reidentify",
    summary="The pseudonymised note with its originals restored, with a reason (DIM)",
)
def reidentify_note(note_id: int, body: ReasonBody, ctx: ContextDep) -> Reidentified:
    result = reidentify.reidentify_note(
        ctx, reidentify.ReidentifyNoteRequest.of(note_id=note_id, reason=body.reason)
    )
    return Reidentified(
        note_id=note_id,
        person_id=result.person_id,
        text=result.text,
        restored=len(result.restored),
        missing=len(result.missing),
        audit_id=result.audit.audit_id,
    )

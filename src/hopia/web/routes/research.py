"""``/api/v1/research``: the research space as researchers read it — pseudonymised notes and
their NLP results (entities with their qualifiers: negated, hypothetical, family, history).

The same service as ``/documents`` (:mod:`hopia.services.documents`), pinned to the research
space whatever the caller's roles: a DIM who may also see identified data gets the
pseudonymised text here. Every view is audited (``document.view``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hopia.services import documents
from hopia.web.deps import ContextDep
from hopia.web.roles import Allow
from hopia.web.schemas.problem import PROBLEMS

router = APIRouter(
    responses=PROBLEMS,
    prefix="/research",
    tags=["research"],
    dependencies=[Allow("document.research")],
)


@router.get("/notes", summary="Pseudonymised notes, searched by words (newest first)")
def list_notes(
    ctx: ContextDep,
    q: Annotated[str | None, Query(max_length=200, description="Words, all in the text")] = None,
    person_id: int | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int | None, Query(ge=1, le=500)] = None,
) -> documents.DocumentPage:
    return documents.list_documents(
        ctx,
        documents.DocumentListRequest.of(
            space="research",
            query=q,
            person_id=person_id,
            page=page,
            size=size or ctx.settings.web.page_size,
        ),
    )


@router.get(
    "/notes/{note_id}",
    summary="A pseudonymised note with its entities and qualifiers (NLP results, audited)",
)
def view_note(note_id: int, ctx: ContextDep) -> documents.DocumentView:
    return documents.view_document(
        ctx, documents.DocumentViewRequest.of(note_id=note_id, space="research")
    )

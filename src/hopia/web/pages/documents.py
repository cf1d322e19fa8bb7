"""``/documents``: full-text search over the notes of the user's space, and one note with its
entities highlighted (the same services as ``/api/v1/documents``, which judge and audit)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from hopia.platform.exceptions import AccessDeniedError
from hopia.services import documents
from hopia.web.pages import csrf, highlight
from hopia.web.pages.common import Viewer, outside_perimeter, show, to_login, viewer

router = APIRouter(include_in_schema=False)
SPACE_LABELS = {"identified": "identifié", "research": "pseudonymisé (recherche)"}


@router.get("/documents")
def search(
    request: Request,
    q: Annotated[str | None, Query(max_length=200)] = None,
    espace: documents.Space | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    found = documents.list_documents(
        who.ctx,
        documents.DocumentListRequest.of(
            space=espace, query=q or None, page=page, size=who.ctx.settings.web.page_size
        ),
    )
    last = max(1, -(-found.total // found.size))
    return show(
        request,
        who,
        "documents/search.html",
        "/documents",
        found=found,
        q=q or "",
        space_label=SPACE_LABELS[found.space],
        spaces=_spaces(who),
        last=last,
        patient_link=who.may("patient.identified") and found.space == "identified",
    )


@router.get("/documents/{note_id}")
def view(request: Request, note_id: int, espace: documents.Space | None = None) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    return _view(request, who, documents.DocumentViewRequest.of(note_id=note_id, space=espace))


@router.post("/documents/{note_id}/bris-de-glace")
def break_glass(
    request: Request,
    note_id: int,
    motif: Annotated[str, Form(max_length=500)] = "",
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    asked = documents.DocumentViewRequest.of(
        note_id=note_id, space="identified", break_glass_reason=motif
    )
    return _view(request, who, asked)


def _view(request: Request, who: Viewer, asked: documents.DocumentViewRequest) -> Response:
    try:
        note = documents.view_document(who.ctx, asked)
    except AccessDeniedError as exc:
        glass_action = f"/documents/{asked.note_id}/bris-de-glace"
        return outside_perimeter(request, who, exc, glass_action, "le document")
    legend = sorted({e.label for e in note.entities if e.label})
    return show(
        request,
        who,
        "documents/view.html",
        "/documents",
        note=note,
        marked=highlight.marked_text(note.text, note.entities),
        entities=sorted(note.entities, key=lambda e: e.start),
        legend=[(label, highlight.label_class(label)) for label in legend],
        qualifiers=highlight.qualifiers,
        codes=highlight.codes_text,
        space_label=SPACE_LABELS[note.space],
        spaces=_spaces(who),
        patient_link=who.may("patient.identified") and note.space == "identified",
    )


def _spaces(who: Viewer) -> list[tuple[str, str]]:
    """The spaces the role may read: the toggle is shown when there are two."""
    return [(space, label) for space, label in SPACE_LABELS.items() if who.may(f"document.{space}")]

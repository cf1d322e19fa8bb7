"""``/assistant``: questions over the knowledge collections one may read, answers with
clickable citations; ``/assistant/source/...`` opens a cited document with the passage
highlighted (its character offsets) and scrolled to (an anchor: no script).

Not yet here: the per-user history of questions, and streamed answers (the answer comes whole).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from hopia.platform.exceptions import HopiaError
from hopia.services import ask as ask_service
from hopia.services import collections as svc
from hopia.web.pages import csrf
from hopia.web.pages.common import show, to_login, viewer

router = APIRouter(include_in_schema=False)


@router.get("/assistant")
def assistant(request: Request) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    found = svc.list_visible(who.ctx)
    return show(request, who, "assistant/ask.html", "/assistant", collections=found, chosen=set())


@router.post("/assistant")
def ask(
    request: Request,
    question: Annotated[str, Form(max_length=2000)] = "",
    collection: Annotated[list[str] | None, Form()] = None,
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    chosen = list(collection or [])
    answer, error = None, None
    try:
        answer = ask_service.ask(
            who.ctx, ask_service.AskRequest.of(question=question, collections=chosen)
        )
    except HopiaError as exc:  # shown beside the form, which keeps what was typed
        error = exc.message
    found = svc.list_visible(who.ctx)
    return show(
        request,
        who,
        "assistant/ask.html",
        "/assistant",
        422 if error else 200,
        collections=found,
        chosen=set(chosen),
        question=question,
        answer=answer,
        error=error,
    )


@router.get("/assistant/source/{name}/{document_id}")
def source(request: Request, name: str, document_id: str, start: int = 0, end: int = 0) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    found = svc.source(
        who.ctx,
        svc.PassageRequest.of(collection=name, document_id=document_id, start=start, end=end),
    )
    text = found.text
    return show(
        request,
        who,
        "assistant/source.html",
        "/assistant",
        source=found,
        before=text[: found.start],
        passage=text[found.start : found.end],
        after=text[found.end :],
    )

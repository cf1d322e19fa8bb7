"""``/assistant``: questions over the knowledge collections one may read, answers with
clickable citations; ``/assistant/source/...`` opens a cited document with the passage
highlighted (its character offsets) and scrolled to (an anchor: no script).

The answer is streamed: ``/static/assistant.js`` (served by Hopia: the pages' CSP forbids inline
scripts) posts the form to ``POST /assistant/flux`` and shows the text as the model writes it,
read from server-sent events (:func:`hopia.services.ask.ask_stream`, through the application's
gateway: quotas, PHI guard, usage, audit); the citations become links when the answer ends.
Without JavaScript, or when the stream cannot start, the form posts to ``POST /assistant`` and
the page comes back with the whole answer, as before. Every answer is kept in the user's history.

The page also adds a document to a collection the user manages (``POST /assistant/documents``):
a background job (``collection_add``), whose page (``/jobs/<id>``) the browser is sent to.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from hopia.platform.exceptions import HopiaError, InvalidRequestError
from hopia.services import ask as ask_service
from hopia.services import collection_jobs
from hopia.services import collections as svc
from hopia.web.deps import job_runner
from hopia.web.pages import csrf
from hopia.web.pages.common import show, to_login, viewer
from hopia.web.routes.gateway import gateway_of

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
            who.ctx,
            ask_service.AskRequest.of(question=question, collections=chosen),
            gateway=gateway_of(request),
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


def source_link(c: ask_service.Citation) -> str:
    """Where a citation opens: the document, the passage highlighted and scrolled to."""
    path = f"/assistant/source/{quote(c.collection, safe='')}/{quote(c.document_id, safe='')}"
    return f"{path}?start={c.start}&end={c.end}#passage"


def _event(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def _label(c: ask_service.Citation) -> str:
    where = [c.document, c.section, f"page {c.page}" if c.page is not None else ""]
    return ", ".join(x for x in where if x)


def _events(stream: ask_service.AnswerStream) -> Iterator[str]:
    """``piece`` events as the text comes, then ``end`` with the final answer and its
    citations (links, labels, offsets); a failure after the first byte is an ``error`` event
    (its French message: a HopiaError says nothing it should not)."""
    try:
        for piece in stream.pieces:
            yield _event({"type": "piece", "text": piece})
    except HopiaError as exc:
        yield _event({"type": "error", "message": exc.message})
        return
    answer = stream.answer
    assert answer is not None  # set once the pieces are exhausted
    yield _event(
        {
            "type": "end",
            "text": answer.text,
            "generated": answer.generated,
            "relevant": answer.relevant,
            "model": answer.model,
            "history": f"/assistant/historique/{answer.history_id}",
            "citations": [
                {
                    **asdict(c),
                    "href": source_link(c),
                    "label": _label(c),
                    "passage": None if answer.generated else answer.sources[c.n - 1].text,
                }
                for c in answer.citations
            ],
        }
    )


DOCUMENT_FORM = "/assistant/documents"
"""The form that adds a document to a collection: it has the documents' body limit."""


@router.post(DOCUMENT_FORM)
def add_document(
    request: Request,
    collection: Annotated[str, Form(max_length=80)] = "",
    file: Annotated[UploadFile | None, File()] = None,
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
) -> Response:
    """Queue the adding of a document to a collection the user manages (a job: reading and
    indexing take a while); the job's page follows it."""
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    try:
        if file is None or not file.filename:
            raise InvalidRequestError("choisissez un document à ajouter", fields=("file",))
        limit = who.ctx.settings.assistant.knowledge.max_document_bytes
        added = svc.AddRequest.of(collection=collection, filename=file.filename)
        data = file.file.read(limit + 1)
        job = collection_jobs.submit_add(who.ctx, added, data, job_runner(request))
    except HopiaError as exc:  # shown beside the forms
        found = svc.list_visible(who.ctx)
        return show(
            request,
            who,
            "assistant/ask.html",
            "/assistant",
            exc.http_status,
            collections=found,
            chosen=set(),
            document_error=exc.message,
        )
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.post("/assistant/flux")
def ask_streamed(
    request: Request,
    question: Annotated[str, Form(max_length=2000)] = "",
    collection: Annotated[list[str] | None, Form()] = None,
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
) -> Response:
    """The answer as server-sent events. A refusal before the first byte (form expired, no
    session, a field to correct, a quota) is the application's French error page: the script
    then posts the form the ordinary way, and the page shows the message beside the form."""
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    stream = ask_service.ask_stream(
        who.ctx,
        ask_service.AskRequest.of(question=question, collections=list(collection or [])),
        gateway=gateway_of(request),
    )
    return StreamingResponse(
        _events(stream),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
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

"""``/assistant/taches``: the assistant's tasks as forms, one per task the user's roles allow
(:func:`hopia.services.tasks.list_tasks`), with pickers from :func:`hopia.services.tasks.choices`
(the stays of the clinician's perimeter, the saved cohorts, the readable collections' documents);
``POST /assistant/taches/{name}`` runs one and shows its text with the grounding flags marked,
its sources, what it computed beside the text, and whether a model wrote it. With no model
configured, the page says so and shows the sources: never a made-up text.

A task runs in the request, not as a background job: without a model it is immediate; with one,
its length is bounded by the task's ``max_tokens`` (700 to 900), and its result holds text that
the job rows must not (a patient summary is identified data): a job would have to keep its result
elsewhere. The run is kept in the user's history, where the result can be read again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from hopia.platform.exceptions import InvalidRequestError, NotFoundError
from hopia.services import tasks
from hopia.web.pages import csrf
from hopia.web.pages.common import Viewer, show, to_login, viewer
from hopia.web.pages.flags import flagged_text, reason_fr
from hopia.web.routes.gateway import gateway_of

router = APIRouter(include_in_schema=False)
SECTION = "/assistant"
_REFUSED = (InvalidRequestError, NotFoundError)


def _form_page(
    request: Request,
    who: Viewer,
    *,
    status: int = 200,
    error: str | None = None,
    failed: str | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    allowed = [t for t in tasks.list_tasks(who.ctx) if t.allowed]
    return show(
        request,
        who,
        "assistant/tasks.html",
        SECTION,
        status,
        tasks=allowed,
        choices=tasks.choices(who.ctx),
        error=error,
        failed=failed,
        values=values or {},
        has_model=bool(gateway_of(request).backends),
    )


@router.get("/assistant/taches")
def task_forms(request: Request) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    return _form_page(request, who)


def _number(value: str, field: str) -> int | None:
    if not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidRequestError(f"« {field} » : un numéro est attendu", fields=(field,)) from None


@router.post("/assistant/taches/{name}")
def run_task(
    request: Request,
    name: str,
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
    person_id: Annotated[str, Form(max_length=20)] = "",
    visit_id: Annotated[str, Form(max_length=20)] = "",
    cohort: Annotated[str, Form(max_length=200)] = "",
    question: Annotated[str, Form(max_length=1000)] = "",
    text: Annotated[str, Form(max_length=20_000)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
    document: Annotated[str, Form(max_length=130)] = "",
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    collection, _, document_id = document.partition("/")
    values = {"person_id": person_id, "visit_id": visit_id, "cohort": cohort}
    values |= {"question": question, "text": text, "title": title, "document": document}
    try:
        task_request = tasks.TaskRequest.of(
            task=name,
            person_id=_number(person_id, "person_id"),
            visit_id=_number(visit_id, "visit_id"),
            cohort=cohort or None,
            question=question or None,
            text=text or None,
            title=title or None,
            collection=collection or None,
            document_id=document_id or None,
        )
        generate = tasks.gateway_generate(who.ctx, name, gateway=gateway_of(request))
        run = tasks.run_task(who.ctx, task_request, generate)
    except _REFUSED as exc:  # a request to correct: shown beside the forms, what was typed kept
        status = exc.http_status
        return _form_page(
            request, who, status=status, error=exc.message, failed=name, values=values
        )
    result = run.result
    flags = [f.to_json() for f in result.flags]
    cells = None
    if result.structured.get("results") and not result.generated:
        cells = tasks.table_cells(result.structured["results"])
    return show(
        request,
        who,
        "assistant/task_result.html",
        SECTION,
        result=result,
        text=flagged_text(result.text, flags),
        flags=flags,
        reason_fr=reason_fr,
        cells=cells,
        title=next((t.title for t in tasks.list_tasks(who.ctx) if t.name == result.task), name),
        history_id=run.history_id,
    )

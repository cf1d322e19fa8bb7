"""``/assistant/historique``: the user's own questions and task runs
(:mod:`hopia.services.history`), newest first; an entry's page shows its answer again, with its
citations and flags; a button deletes it. Someone else's entry reads as unknown (404), an
administrator's view included. An entry that cites a patient's documents is read within the
perimeter, and the read is audited, by the service."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hopia.services import history
from hopia.web.pages import csrf
from hopia.web.pages.common import show, to_login, viewer
from hopia.web.pages.flags import flagged_text, reason_fr

router = APIRouter(include_in_schema=False)
SECTION = "/assistant"
LIST = "/assistant/historique"


@router.get(LIST)
def entries(request: Request) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    found = history.list_entries(who.ctx, history.ListRequest.of())
    return show(request, who, "assistant/history.html", SECTION, entries=found)


def _task_result(entry: history.Entry) -> SimpleNamespace:
    """The shape the task output template reads, from a kept entry."""
    s = entry.summary
    return SimpleNamespace(
        task=s.name,
        text=entry.answer if s.generated else "",
        message=None if s.generated else entry.answer,
        error=entry.inputs.get("error"),
        generated=s.generated,
        model=s.model,
        prompt_version=entry.prompt_version,
        structured=entry.structured,
        sources=[SimpleNamespace(**c) for c in entry.citations],
    )


@router.get(LIST + "/{entry_id}")
def entry(request: Request, entry_id: str) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    found = history.get_entry(who.ctx, history.EntryRequest.of(entry_id=entry_id))
    values: dict[str, Any] = {"entry": found, "reason_fr": reason_fr, "flags": found.flags}
    if found.summary.kind == "task":
        values["result"] = _task_result(found)
        values["text"] = flagged_text(entry_text(found), found.flags)
        values["cells"] = None
    return show(request, who, "assistant/history_entry.html", SECTION, **values)


def entry_text(found: history.Entry) -> str:
    return found.answer if found.summary.generated else ""


@router.post(LIST + "/{entry_id}/supprimer")
def delete(
    request: Request, entry_id: str, token: Annotated[str, Form(alias=csrf.FIELD)] = ""
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    history.delete_entry(who.ctx, history.EntryRequest.of(entry_id=entry_id))
    return RedirectResponse(LIST, status_code=303)

"""``/quality``: the data-quality runs of the warehouse (DIM), newest first, with their
passed / failed / not applicable counts and a bar of the share that passed, from
:func:`hopia.services.quality.history` (which asks ``quality.history``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hopia.services import quality
from hopia.web.pages.common import show, to_login, viewer

router = APIRouter(include_in_schema=False)
RUNS = 50


@router.get("/quality")
def runs(request: Request) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    found = quality.history(who.ctx, quality.HistoryRequest.of(limit=RUNS))
    return show(request, who, "quality/runs.html", "/quality", runs=list(reversed(found)))

"""``/pilotage/planning``: the nurse roster of a service as a calendar (nurse × day, shift codes
coloured by shift), its coverage row, the hours, nights and weekends per nurse, or the rules in
conflict; CSV and XLSX downloads of every table. The roster is solved on the synthetic example
from the page's form, synchronously (time limit 30 s at most): ``management.plan``; reading the
last roster is ``management.read`` (:mod:`hopia.services.roster`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hopia.services import roster
from hopia.web.pages import csrf
from hopia.web.pages.common import show, to_login, viewer

router = APIRouter(include_in_schema=False)
PATH = "/pilotage/planning"
WEEKDAYS = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")


@router.get(PATH)
def planning(request: Request) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    result = roster.last(who.ctx)
    coverage: dict[str, list] = {}
    if result is not None and result.solved:
        by_key = {(r.date, r.shift): r for r in result.coverage}
        for shift in result.shifts:
            if any(k[1] == shift.code for k in by_key):
                coverage[shift.code] = [by_key.get((d, shift.code)) for d in result.days]
    return show(
        request,
        who,
        "management/roster.html",
        PATH,
        result=result,
        coverage=coverage,
        weekdays=WEEKDAYS,
        tables=roster.TABLES_FR,
        may_plan=who.may("management.plan"),
    )


@router.post(PATH + "/calculer")
def compute(
    request: Request,
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
    infirmiers: Annotated[int, Form(ge=4, le=60)] = 30,
    semaines: Annotated[int, Form(ge=1, le=6)] = 6,
    limite: Annotated[int, Form(ge=2, le=30)] = 20,
) -> Response:
    """Solve the example service now (the page waits for the solver: 30 s at most)."""
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    roster.solve_example(
        who.ctx,
        roster.ExampleSolveRequest.of(nurses=infirmiers, weeks=semaines, time_limit_s=limite),
    )
    return RedirectResponse(PATH, status_code=303)


@router.get(PATH + "/telecharger/{table}.{fmt}")
def download(request: Request, table: str, fmt: str) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    chosen = "xlsx" if fmt == "xlsx" else "csv"
    data, media, name = roster.download(who.ctx, table, chosen)
    return Response(
        data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )

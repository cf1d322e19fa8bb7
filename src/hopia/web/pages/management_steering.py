"""``/pilotage/activite``: the steering indicators of :mod:`hopia.services.steering` (managers),
tables per service and month with their trends in words, and each table as CSV or XLSX
(``/pilotage/activite/{table}.csv``, ``.xlsx``; ``/pilotage/activite.xlsx``: all of them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from hopia.services import steering
from hopia.web.pages.common import show, to_login, viewer

router = APIRouter(include_in_schema=False)
MONTH = r"^\d{4}-\d{2}$"
Month = Annotated[str | None, Query(pattern=MONTH)]


def _month(value: str | None) -> date | None:
    return datetime.strptime(value, "%Y-%m").date() if value else None


def _request(du: str | None, au: str | None, service: int | None) -> steering.IndicatorsRequest:
    return steering.IndicatorsRequest.of(first=_month(du), last=_month(au), site=service)


def _query(du: str | None, au: str | None, service: int | None) -> str:
    parts = [f"{k}={v}" for k, v in (("du", du), ("au", au), ("service", service)) if v]
    return ("?" + "&".join(parts)) if parts else ""


@router.get("/pilotage/activite")
def activity(
    request: Request,
    du: Month = None,
    au: Month = None,
    service: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    result = steering.indicators(who.ctx, _request(du, au, service))
    return show(
        request,
        who,
        "management/steering.html",
        "/pilotage/activite",
        result=result,
        query=_query(du, au, service),
        chosen={"du": du or f"{result.first:%Y-%m}", "au": au or f"{result.last:%Y-%m}"},
        service=service,
    )


@router.get("/pilotage/activite.xlsx")
def all_tables(
    request: Request,
    du: Month = None,
    au: Month = None,
    service: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    return _download(request, None, "xlsx", du, au, service)


@router.get("/pilotage/activite/{table}.{fmt}")
def one_table(
    request: Request,
    table: str,
    fmt: str,
    du: Month = None,
    au: Month = None,
    service: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    return _download(request, table, fmt, du, au, service)


def _download(
    request: Request,
    table: str | None,
    fmt: str,
    du: str | None,
    au: str | None,
    service: int | None,
) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    if fmt not in ("csv", "xlsx"):
        return Response("format inconnu (csv ou xlsx)", status_code=404, media_type="text/plain")
    result = steering.indicators(who.ctx, _request(du, au, service))
    content = steering.download(result, table, fmt)  # type: ignore[arg-type]
    name = f"pilotage-{table or 'activite'}-{result.first:%Y-%m}-{result.last:%Y-%m}.{fmt}"
    return Response(
        content,
        media_type=steering.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )

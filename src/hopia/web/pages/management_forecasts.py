"""``/pilotage/previsions``: daily admissions of a service (or the whole hospital) forecast by
:func:`hopia.services.forecasts.admissions` — a server-side SVG fan (the last 90 days observed,
then the P5–P95 and P25–P75 bands and the median), the quantiles per day and the observed
admissions as tables, each as CSV or XLSX (``/pilotage/previsions.csv|xlsx``, ``tableau=``)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from hopia.platform.exceptions import InvalidRequestError
from hopia.services import forecasts
from hopia.web.pages.common import Viewer, show, to_login, viewer
from hopia.web.pages.plots import FanDay, fan_svg

router = APIRouter(include_in_schema=False)
SECTION = "/pilotage/previsions"
# "" (the select's "whole hospital") or a care_site_id; -1: admissions without a care site
Service = Annotated[str | None, Query(max_length=20)]
Days = Annotated[int, Query(ge=1, le=90)]
Model = Annotated[str, Query(min_length=1, max_length=64)]
Table = Annotated[Literal["previsions", "observe"], Query()]


def _service(value: str | None) -> int | None:
    """The select's value: empty for the whole hospital, else a care-site identifier."""
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidRequestError(
            f"service : identifiant de service attendu (nombre entier), reçu « {value} »",
            fields=["service"],
        ) from None


def _forecast(
    request: Request, service: str | None, jours: int, modele: str
) -> tuple[Viewer, forecasts.AdmissionsForecast] | None:
    who = viewer(request)
    if who is None:
        return None
    request_ = forecasts.AdmissionsRequest.of(service=_service(service), days=jours, model=modele)
    return who, forecasts.admissions(who.ctx, request_)


def _query(service: int | None, jours: int, modele: str) -> str:
    pairs = [("service", service), ("jours", jours), ("modele", modele)]
    return "?" + urlencode([(k, v) for k, v in pairs if v is not None])


def chart(result: forecasts.AdmissionsForecast) -> Markup:
    """The fan of one forecast, its actuals drawn as published (small cells masked)."""
    actuals = [
        (a.day, a.admissions if isinstance(a.admissions, int) else None) for a in result.actuals
    ]
    fan = [FanDay(f.day, f.p05, f.p25, f.p50, f.p75, f.p95) for f in result.forecast]
    return fan_svg(f"Entrées, {result.service}", actuals, fan, result.small_cell)


@router.get(SECTION)
def admissions(
    request: Request,
    service: Service = None,
    jours: Days = 28,
    modele: Model = "negbin",
) -> Response:
    found = _forecast(request, service, jours, modele)
    if found is None:
        return to_login()
    who, result = found
    return show(
        request,
        who,
        "management/forecasts.html",
        SECTION,
        result=result,
        svg=chart(result),
        models=forecasts.models(),
        query=_query(result.care_site_id, jours, modele),
        service=result.care_site_id,
        jours=jours,
        modele=modele,
    )


@router.get(SECTION + ".{fmt}")
def download(
    request: Request,
    fmt: str,
    service: Service = None,
    jours: Days = 28,
    modele: Model = "negbin",
    tableau: Table = "previsions",
) -> Response:
    if fmt not in forecasts.MEDIA_TYPES:
        if viewer(request) is None:
            return to_login()
        return Response("format inconnu (csv ou xlsx)", status_code=404, media_type="text/plain")
    found = _forecast(request, service, jours, modele)
    if found is None:
        return to_login()
    _, result = found
    kind = "previsions-entrees" if tableau == "previsions" else "entrees-observees"
    name = f"{kind}-{result.origin:%Y-%m-%d}.{fmt}"
    return Response(
        forecasts.download(result, fmt, tableau),  # type: ignore[arg-type]
        media_type=forecasts.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )

"""``/patients/{id}``: one patient's timeline (identified space): identity, stays, documents,
conditions, drugs, and lab values as trend plots with their reference ranges. The patients
service judges the perimeter and audits the read; outside it, a clinician allowed to break the
glass gets the form that asks the reason (``POST /patients/{id}/bris-de-glace``)."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from hopia.platform.exceptions import AccessDeniedError
from hopia.services import patients
from hopia.web.pages import csrf
from hopia.web.pages.common import Viewer, outside_perimeter, show, to_login, viewer
from hopia.web.pages.plots import Point, trend_svg

router = APIRouter(include_in_schema=False)
KIND_LABELS = {
    "document": "Document",
    "condition": "Diagnostic",
    "drug": "Médicament",
    "measurement": "Biologie",
}


@router.get("/patients/{person_id}")
def timeline(
    request: Request, person_id: int, nature: patients.EventKind | None = None
) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    return _timeline(request, who, patients.PatientRequest.of(person_id=person_id), nature)


@router.post("/patients/{person_id}/bris-de-glace")
def break_glass(
    request: Request,
    person_id: int,
    motif: Annotated[str, Form(max_length=500)] = "",
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    asked = patients.PatientRequest.of(person_id=person_id, break_glass_reason=motif)
    return _timeline(request, who, asked)


def _timeline(
    request: Request,
    who: Viewer,
    asked: patients.PatientRequest,
    nature: patients.EventKind | None = None,
) -> Response:
    try:
        view = patients.view_patient(who.ctx, asked)
    except AccessDeniedError as exc:
        glass_action = f"/patients/{asked.person_id}/bris-de-glace"
        return outside_perimeter(request, who, exc, glass_action, "le dossier")
    plots = []
    labs: dict[tuple[str, str | None], list[Point]] = defaultdict(list)
    for event in view.timeline:
        if event.kind == "measurement" and event.value is not None and event.date is not None:
            point = Point(event.date, event.value, event.range_low, event.range_high)
            name = f"{event.concept_name} ({event.label})" if event.concept_name else event.label
            labs[(name, event.unit)].append(point)
    for (label, unit), points in sorted(labs.items()):
        plots.append({"label": label, "unit": unit, "svg": trend_svg(label, unit, points)})
    # The chronology holds hundreds of lines for a long stay: the page filters it by kind.
    others = [
        e for e in view.timeline if e.kind != "measurement" and (nature is None or e.kind == nature)
    ]
    return show(
        request,
        who,
        "patients/timeline.html",
        "/documents",
        view=view,
        plots=plots,
        events=others,
        kinds=KIND_LABELS,
        nature=nature,
    )

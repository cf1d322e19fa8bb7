"""``/exports``: the DIM's k-anonymous export of a saved cohort, as a background job. The form
carries what ``POST /api/v1/exports`` takes (a saved definition by name, never a server path;
a reason; k, age bands, quasi-identifiers to drop); the jobs service checks the reason and the
rights (a refusal is audited) and the export service decides k-anonymity when the job runs: a
refusal is the job's French error, on its page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hopia.platform.exceptions import InvalidRequestError
from hopia.services import cohort_library as library
from hopia.services import jobs
from hopia.services.sharing import DROP_NAMES, ExportFormat
from hopia.web.deps import job_runner
from hopia.web.pages import csrf
from hopia.web.pages.common import Viewer, show, to_login, viewer

router = APIRouter(include_in_schema=False)
FORMATS: dict[str, str] = {
    "omop-csv": "OMOP CDM, CSV",
    "omop-parquet": "OMOP CDM, Parquet",
    "fhir": "FHIR R4 (bundles)",
}
AGE_BANDS = (5, 10, 20)


@router.get("/exports")
def export_form(request: Request) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    who.ctx.authorize("share.export", "exports")  # the form is the DIM's (French 403 else)
    return _form(request, who)


@router.post("/exports")
def export_submit(
    request: Request,
    cohort: Annotated[str, Form(max_length=80)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    format: Annotated[ExportFormat, Form()] = "omop-csv",  # noqa: A002 - the API's name
    k: Annotated[int | None, Form(ge=1, le=1000)] = None,
    age_band: Annotated[int | None, Form()] = None,
    drop: Annotated[list[str] | None, Form()] = None,
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    asked: dict[str, Any] = {"cohort": cohort, "reason": reason, "format": format, "k": k}
    try:
        path = library.definition_file(who.ctx, library.NamedRequest.of(name=cohort))
        parameters: dict[str, Any] = {"format": format, "reason": reason, "cohort": str(path)}
        if k is not None:
            parameters["k"] = k
        if age_band in AGE_BANDS:
            parameters["age_band"] = age_band
        if drop:
            parameters["drop"] = [d for d in drop if d in DROP_NAMES]
        request_ = jobs.JobRequest.of(kind="share_export", parameters=parameters)
        job = jobs.submit(who.ctx, request_, job_runner(request))
    except InvalidRequestError as exc:  # no such cohort, a reason that says nothing, a bad k
        return _form(request, who, error=exc.message, asked=asked, status=422)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


def _form(
    request: Request,
    who: Viewer,
    *,
    error: str | None = None,
    asked: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    return show(
        request,
        who,
        "exports/form.html",
        "/exports",
        status,
        saved=library.list_definitions(who.ctx),
        formats=FORMATS,
        age_bands=AGE_BANDS,
        drops=sorted(DROP_NAMES),
        error=error,
        asked=asked or {},
    )

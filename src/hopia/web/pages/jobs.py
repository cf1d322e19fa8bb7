"""``/jobs``: the user's background jobs (all of them for the admin), read from the warehouse
where each job keeps its status, progress, result and error: a reload shows the same job, and
while one is unfinished the page refreshes itself every few seconds (a ``<meta>`` refresh,
no script).

The page also starts and stops jobs, through the jobs service (rights asked, audited): an
"Annuler" button on each unfinished job the user may cancel (``jobs.cancel``: their own; the
admin's, everyone's), a data-quality run for who may run one (``quality.run``) and an upload
form for who may ingest (``ingest.run``), stored and queued as ``/api/v1/ingest/uploads`` does.
A refusal the user can correct is shown on the page (422, 409), never a trace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from hopia.platform.exceptions import ConflictError, InvalidRequestError, SourceError
from hopia.services import jobs
from hopia.web.deps import job_runner
from hopia.web.pages import csrf
from hopia.web.pages.common import Viewer, show, to_login, viewer
from hopia.web.routes.ingest import store_and_submit

router = APIRouter(include_in_schema=False)
REFRESH_S = 5
INGEST_FORM = "/jobs/ingest"
"""The upload form's address: it has the uploads' body limit (``jobs.max_upload_bytes``)."""
_REFUSED = (InvalidRequestError, ConflictError, SourceError)


@router.get("/jobs")
def job_list(request: Request) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    return _list(request, who)


@router.get("/jobs/{job_id}")
def job_view(request: Request, job_id: str) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    return _view(request, who, jobs.get(who.ctx, job_id))


@router.post("/jobs/{job_id}/cancel")
def job_cancel(
    request: Request, job_id: str, token: Annotated[str, Form(alias=csrf.FIELD)] = ""
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    try:
        jobs.cancel(who.ctx, job_id)
    except ConflictError as exc:  # over meanwhile: the page says so, with its outcome
        return _view(request, who, jobs.get(who.ctx, job_id), error=exc.message, status=409)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@router.post("/jobs/quality")
def start_quality(
    request: Request,
    history: Annotated[bool, Form()] = False,
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    parameters = {"history": history}
    try:
        job = jobs.submit(
            who.ctx, jobs.JobRequest.of(kind="quality", parameters=parameters), job_runner(request)
        )
    except _REFUSED as exc:
        return _list(request, who, error=exc.message, status=exc.http_status)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.post(INGEST_FORM)
def start_ingest(
    request: Request,
    files: Annotated[list[UploadFile] | None, File()] = None,
    patients: Annotated[UploadFile | None, File()] = None,
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    # A browser sends an empty part for a file field left empty.
    chosen = [f for f in files or [] if f.filename]
    registry = patients if patients is not None and patients.filename else None
    try:
        job, _ = store_and_submit(who.ctx, job_runner(request), chosen, registry)
    except _REFUSED as exc:
        return _list(request, who, error=exc.message, status=exc.http_status)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


def _list(
    request: Request, who: Viewer, *, error: str | None = None, status: int = 200
) -> Response:
    found = jobs.list_jobs(who.ctx, jobs.ListRequest.of(limit=100))
    refresh = REFRESH_S if any(not j.finished for j in found) and error is None else None
    return show(
        request,
        who,
        "jobs/list.html",
        "/jobs",
        status,
        jobs=found,
        refresh=refresh,
        error=error,
        may_cancel=who.may("jobs.cancel"),
        may_quality=who.may("quality.run") and who.may("jobs.submit"),
        may_ingest=who.may("ingest.run") and who.may("jobs.submit"),
    )


def _view(
    request: Request,
    who: Viewer,
    job: jobs.JobView,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    refresh = None if job.finished or error else REFRESH_S
    return show(
        request,
        who,
        "jobs/view.html",
        "/jobs",
        status,
        job=job,
        refresh=refresh,
        error=error,
        may_cancel=who.may("jobs.cancel"),
    )

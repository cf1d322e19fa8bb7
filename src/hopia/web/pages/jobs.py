"""``/jobs``: the user's background jobs (all of them for the admin), read from the warehouse
where each job keeps its status, progress, result and error: a reload shows the same job, and
while one is unfinished the page refreshes itself every few seconds (a ``<meta>`` refresh,
no script)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hopia.services import jobs
from hopia.web.pages.common import show, to_login, viewer

router = APIRouter(include_in_schema=False)
REFRESH_S = 5


@router.get("/jobs")
def job_list(request: Request) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    found = jobs.list_jobs(who.ctx, jobs.ListRequest.of(limit=100))
    refresh = REFRESH_S if any(not j.finished for j in found) else None
    return show(request, who, "jobs/list.html", "/jobs", jobs=found, refresh=refresh)


@router.get("/jobs/{job_id}")
def job_view(request: Request, job_id: str) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    job = jobs.get(who.ctx, job_id)
    refresh = None if job.finished else REFRESH_S
    return show(request, who, "jobs/view.html", "/jobs", job=job, refresh=refresh)

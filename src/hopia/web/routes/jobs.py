"""``/api/v1/jobs``: background jobs (``hopia.services.jobs``): a user follows and cancels
their own; the admin sees everyone's. Jobs are submitted by the routes of their work:
``/ingest/uploads``, ``/quality/runs``, ``/exports``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hopia.services import jobs
from hopia.web.deps import ContextDep
from hopia.web.roles import Allow
from hopia.web.schemas.problem import PROBLEMS

router = APIRouter(
    responses=PROBLEMS,
    prefix="/jobs",
    tags=["jobs"],
    dependencies=[Allow("jobs.read")],
)


@router.get("", summary="The latest jobs, newest first (the caller's; all for the admin)")
def list_jobs(
    ctx: ContextDep,
    status: Annotated[list[jobs.StatusName] | None, Query()] = None,
    kind: Annotated[list[jobs.JobKind] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    mine: bool = False,
) -> list[jobs.JobView]:
    request = jobs.ListRequest.of(
        status=tuple(status or ()), kind=tuple(kind or ()), limit=limit, mine=mine
    )
    return jobs.list_jobs(ctx, request)


@router.get("/{job_id}", summary="One job: status, progress, result or error")
def get_job(job_id: str, ctx: ContextDep) -> jobs.JobView:
    return jobs.get(ctx, job_id)


@router.post("/{job_id}/cancel", summary="Cancel a job (at once when queued)")
def cancel_job(job_id: str, ctx: ContextDep) -> jobs.JobView:
    return jobs.cancel(ctx, job_id)

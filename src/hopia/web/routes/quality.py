"""``/api/v1/quality``: data-quality runs (as background jobs), the latest results, the history
(DIM)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hopia.services import jobs, quality
from hopia.web.deps import ContextDep, RunnerDep
from hopia.web.roles import Allow
from hopia.web.schemas.jobs import QualityRunIn
from hopia.web.schemas.notes import QualityRun
from hopia.web.schemas.problem import PROBLEMS

router = APIRouter(
    responses=PROBLEMS, prefix="/quality", tags=["quality"], dependencies=[Allow("quality.history")]
)


@router.get("/runs", summary="The last data-quality runs, oldest first")
def history(ctx: ContextDep, limit: int = 20) -> list[QualityRun]:
    runs = quality.history(ctx, quality.HistoryRequest.of(limit=limit))
    return [QualityRun.model_validate(r.model_dump()) for r in runs]


@router.post(
    "/runs", status_code=202, summary="Run the checks as a background job (follow it in /jobs)"
)
def run(body: QualityRunIn, ctx: ContextDep, runner: RunnerDep) -> jobs.JobView:
    request = jobs.JobRequest.of(kind="quality", parameters=body.model_dump())
    return jobs.submit(ctx, request, runner)


@router.get(
    "/latest",
    summary="The last recorded run and one page of its checks: failed ones only unless "
    "failed_only=false or status is given; filters by status, table, Kahn category",
)
def latest(
    ctx: ContextDep,
    failed_only: bool = True,
    status: Annotated[list[quality.Status] | None, Query(description="only these states")] = None,
    table: Annotated[list[str] | None, Query(description="only these tables")] = None,
    category: Annotated[
        list[quality.KahnCategory] | None, Query(description="only these Kahn categories")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=quality.MAX_PAGE_SIZE)] = quality.PAGE_SIZE,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> quality.LatestQuality:
    request = quality.LatestRequest.of(
        failed_only=failed_only,
        statuses=status or (),
        tables=table or (),
        categories=category or (),
        limit=limit,
        offset=offset,
    )
    return quality.latest(ctx, request)

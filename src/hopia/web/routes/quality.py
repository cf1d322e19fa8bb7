"""``/api/v1/quality``: data-quality runs (as background jobs), the latest results, the history
(DIM)."""

from __future__ import annotations

from fastapi import APIRouter

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
    "/latest", summary="The last recorded run and its failed checks (all with failed_only=false)"
)
def latest(ctx: ContextDep, failed_only: bool = True) -> quality.LatestQuality:
    return quality.latest(ctx, quality.LatestRequest.of(failed_only=failed_only))

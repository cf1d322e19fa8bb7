"""``/api/v1/quality``: the data-quality run history (DIM)."""

from __future__ import annotations

from fastapi import APIRouter

from hopia.services import quality
from hopia.web.deps import ContextDep
from hopia.web.roles import Allow
from hopia.web.schemas.notes import QualityRun
from hopia.web.schemas.problem import PROBLEMS

router = APIRouter(
    responses=PROBLEMS, prefix="/quality", tags=["quality"], dependencies=[Allow("quality.history")]
)


@router.get("/runs", summary="The last data-quality runs, oldest first")
def history(ctx: ContextDep, limit: int = 20) -> list[QualityRun]:
    runs = quality.history(ctx, quality.HistoryRequest.of(limit=limit))
    return [QualityRun.model_validate(r.model_dump()) for r in runs]

"""``/api/v1/activity``: aggregate activity (managers, DIM), small cells suppressed."""

from __future__ import annotations

from fastapi import APIRouter

from hopia.services import activity
from hopia.web.deps import ContextDep
from hopia.web.roles import Allow
from hopia.web.schemas.problem import PROBLEMS

router = APIRouter(
    responses=PROBLEMS,
    prefix="/activity",
    tags=["activity"],
    dependencies=[Allow("activity.aggregates")],
)


@router.get("", summary="Stays and patients per care site, stays and documents per month")
def aggregates(ctx: ContextDep) -> activity.Activity:
    return activity.activity(ctx)

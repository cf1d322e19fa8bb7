"""``/api/v1/steering``: steering indicators per service and month (managers), every count
protected (small cells and their complementary cells hidden)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from hopia.services import steering
from hopia.web.deps import ContextDep
from hopia.web.roles import Allow
from hopia.web.schemas.problem import PROBLEMS

router = APIRouter(
    responses=PROBLEMS,
    prefix="/steering",
    tags=["management"],
    dependencies=[Allow("management.read")],
)


@router.get("/indicators", summary="Admissions, discharges, LOS, readmissions, case mix")
def indicators(
    ctx: ContextDep,
    first: Annotated[date | None, Query(description="Any day of the first month")] = None,
    last: Annotated[date | None, Query(description="Any day of the last month")] = None,
    site: Annotated[int | None, Query(ge=0, description="One care_site_id")] = None,
) -> steering.Indicators:
    return steering.indicators(
        ctx, steering.IndicatorsRequest.of(first=first, last=last, site=site)
    )

"""``/api/v1/forecasts``: daily admissions of a service (or the whole hospital) forecast for
the next days with their quantiles, and the recent actuals (managers)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from hopia.services import forecasts
from hopia.web.deps import ContextDep
from hopia.web.roles import Allow
from hopia.web.schemas.problem import PROBLEMS

router = APIRouter(
    responses=PROBLEMS,
    prefix="/forecasts",
    tags=["management"],
    dependencies=[Allow("management.read")],
)


@router.get("/admissions", summary="Daily admissions forecast (quantiles 0.05…0.95)")
def admissions(
    ctx: ContextDep,
    service: Annotated[
        int | None, Query(ge=-1, description="care_site_id (-1: none); absent: whole hospital")
    ] = None,
    days: Annotated[int, Query(ge=1, le=90)] = 28,
    model: Annotated[str, Query(min_length=1, max_length=64)] = "negbin",
    origin: Annotated[date | None, Query(description="First forecast day")] = None,
) -> forecasts.AdmissionsForecast:
    return forecasts.admissions(
        ctx,
        forecasts.AdmissionsRequest.of(service=service, days=days, model=model, origin=origin),
    )

"""``/api/v1/beds``: bed needs per service for the next days (P50/P80/P95), and their backtest
(managers)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from hopia.services import beds
from hopia.web.deps import ContextDep
from hopia.web.roles import Allow
from hopia.web.schemas.problem import PROBLEMS

router = APIRouter(
    responses=PROBLEMS,
    prefix="/beds",
    tags=["management"],
    dependencies=[Allow("management.read")],
)


@router.get("/forecast", summary="Midnight census forecast per service, P50/P80/P95")
def forecast(
    ctx: ContextDep,
    site: Annotated[int | None, Query(ge=0)] = None,
    days: Annotated[int, Query(ge=1, le=60)] = 14,
    origin: Annotated[date | None, Query(description="First forecast day")] = None,
    paths: Annotated[int, Query(ge=100, le=5000)] = 1000,
) -> beds.BedForecast:
    return beds.forecast(
        ctx, beds.ForecastRequest.of(site=site, days=days, origin=origin, paths=paths)
    )


@router.get("/backtest", summary="Rolling-origin backtest against a seasonal naive benchmark")
def backtest(
    ctx: ContextDep,
    site: Annotated[int | None, Query(ge=0)] = None,
    # Bounded tighter than the CLI: a web request runs while the manager waits.
    days: Annotated[int, Query(ge=1, le=28)] = 14,
    span: Annotated[int, Query(ge=7, le=365)] = 365,
    step: Annotated[int, Query(ge=7, le=90)] = 7,
    paths: Annotated[int, Query(ge=100, le=500)] = 500,
) -> beds.BedBacktest:
    return beds.backtest(
        ctx, beds.BacktestRequest.of(site=site, days=days, span=span, step=step, paths=paths)
    )

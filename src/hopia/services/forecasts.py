"""Forecast service: backtests and forecasts of a CSV series (``hopia forecast``), and the
daily admissions per care site read from the warehouse (the manager's page).

The file commands read only the file they are given and write next to it
(``management.plan``); the warehouse read counts stays per day and care site
(``management.read``), audited in the transaction that reads (``forecast.admissions``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from hopia.services.context import Context, Request

DEFAULT_QUANTILES = "0.05:0.95:0.05"


class ScorePublic(BaseModel):
    model: str
    pinball: float
    coverage_50: float | None
    coverage_90: float | None
    seconds: float
    fits: int


class BacktestRequest(Request):
    data: Path
    ds: str
    y: str
    origins_start: str
    origins_end: str
    every: str = "12h"
    horizon: int = Field(48, ge=1)
    quantiles: str = DEFAULT_QUANTILES
    output: Path
    model: str = "negbin"
    exog: list[str] = Field(default_factory=list)
    country: str | None = "FR"
    school_holidays: Path | None = None
    benchmark_weeks: int = Field(8, ge=1)
    refit_every: str | None = "7D"
    freq: str | None = None


class BacktestPublic(BaseModel):
    data: str
    output: str
    metrics_file: str
    step: str
    rows: int
    missing_steps: int
    origins: int
    first_origin: str
    last_origin: str
    horizon: int
    quantiles: list[float]
    points: int
    model: ScorePublic
    benchmark: ScorePublic
    benchmark_weeks: int
    ratio: float
    seconds: float
    refit_every: str | None
    sweep: dict[str, float]


class PredictRequest(Request):
    data: Path
    ds: str
    y: str
    horizon: int = Field(48, ge=1)
    quantiles: str = DEFAULT_QUANTILES
    output: Path
    model: str = "negbin"
    exog: list[str] = Field(default_factory=list)
    country: str | None = "FR"
    school_holidays: Path | None = None
    freq: str | None = None


class PredictPublic(BaseModel):
    output: str
    origin: str
    horizon: int
    step: str
    rows: int
    seconds: float


def _params(model: str, country: str | None, school: Path | None) -> dict[str, Any]:
    """Calendar parameters for the models that take them (the count regressions)."""
    from hopia.management.forecast import read_school_periods

    if model not in ("poisson", "negbin", "ensemble"):
        return {}
    params: dict[str, Any] = {"country": country or None}
    if school is not None:
        params["school_periods"] = read_school_periods(school)
    return params


def backtest(ctx: Context, request: BacktestRequest) -> BacktestPublic:
    """Rolling-origin backtest of a CSV series; writes the predictions and their metrics."""
    from hopia.management.forecast import run_backtest

    ctx.authorize("management.plan", "forecast")
    report = run_backtest(
        request.data,
        ds=request.ds,
        y=request.y,
        origins_start=request.origins_start,
        origins_end=request.origins_end,
        every=request.every,
        horizon=request.horizon,
        quantiles=request.quantiles,
        output=request.output,
        model=request.model,
        exog=tuple(request.exog),
        params=_params(request.model, request.country, request.school_holidays),
        benchmark_weeks=request.benchmark_weeks,
        refit_every=request.refit_every,
        freq=request.freq,
    )
    return BacktestPublic.model_validate(report.as_dict())


def predict(ctx: Context, request: PredictRequest) -> PredictPublic:
    """Forecast of a CSV series from its last value; writes the predictions."""
    from hopia.management.forecast import run_predict

    ctx.authorize("management.plan", "forecast")
    report = run_predict(
        request.data,
        ds=request.ds,
        y=request.y,
        horizon=request.horizon,
        quantiles=request.quantiles,
        output=request.output,
        model=request.model,
        exog=tuple(request.exog),
        params=_params(request.model, request.country, request.school_holidays),
        freq=request.freq,
    )
    return PredictPublic(**report.__dict__)


def models() -> list[str]:
    """The forecasters' names."""
    from hopia.management.forecast import FORECASTERS

    return FORECASTERS.names()

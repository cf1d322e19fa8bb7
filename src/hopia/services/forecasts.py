"""Forecast service: backtests and forecasts of a CSV series (``hopia forecast``), and the
daily admissions per care site read from the warehouse (the manager's page).

The file commands read only the file they are given and write next to it
(``management.plan``); the warehouse read counts stays per day and care site
(``management.read``), audited in the transaction that reads (``forecast.admissions``).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, Field
from sqlalchemy import Connection, func, select

from hopia.management.export import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE
from hopia.platform import audit
from hopia.platform.exceptions import InvalidRequestError, NotFoundError
from hopia.platform.warehouse import schema
from hopia.services.context import Context, Request
from hopia.services.warehouse import existing_warehouse

DEFAULT_QUANTILES = "0.05:0.95:0.05"
MEDIA_TYPES = {"csv": CSV_MEDIA_TYPE, "xlsx": XLSX_MEDIA_TYPE}


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


# -- daily admissions from the warehouse (the manager's page) ---------------------------------

#: days of history read before the origin: the count regressions fit on a 3-year window.
HISTORY_DAYS = 3 * 365 + 7
#: days of actuals returned with the forecast (the page's line and table)
ACTUAL_DAYS = 90
#: shortest history a forecast is made from (four weeks: each day of the week seen four times)
MIN_HISTORY_DAYS = 28
#: the levels returned (0.05 … 0.95) and the five the page's table shows
TABLE_LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)
UNKNOWN_SITE = -1
WHOLE_HOSPITAL = "Tout l'hôpital"

Cell = int | str


class AdmissionsRequest(Request):
    """``service``: a ``care_site_id`` (``-1``: admissions without a care site), ``None`` for
    the whole hospital; ``origin``: the first forecast day (default: the day of the latest
    admission, whose count may be incomplete, so it is forecast, not used)."""

    service: int | None = Field(None, ge=UNKNOWN_SITE)
    days: int = Field(28, ge=1, le=90)
    model: str = Field("negbin", min_length=1, max_length=64)
    origin: date | None = Field(None, ge=date(1900, 1, 1), le=date(2199, 12, 31))


class ServiceOption(BaseModel):
    care_site_id: int | None  # None: the whole hospital
    name: str


class ForecastDay(BaseModel):
    day: date
    p05: float
    p25: float
    p50: float
    p75: float
    p95: float
    values: list[float]  # one per level of AdmissionsForecast.levels


class ActualDay(BaseModel):
    day: date
    admissions: Cell  # "<N" below the small-cell threshold


class AdmissionsForecast(BaseModel):
    care_site_id: int | None
    service: str
    origin: date
    days: int
    model: str
    levels: list[float]
    small_cell: int
    history_first: date
    history_days: int
    forecast: list[ForecastDay]
    actuals: list[ActualDay]
    services: list[ServiceOption]

    def frame(self, table: Literal["previsions", "observe"] = "previsions") -> pd.DataFrame:
        """The page's tables: the quantiles per day, or the actuals (small cells as ``<N``)."""
        if table == "observe":
            return pd.DataFrame(
                {
                    "service": self.service,
                    "jour": [a.day.isoformat() for a in self.actuals],
                    "entrées": [a.admissions for a in self.actuals],
                },
                columns=["service", "jour", "entrées"],
            )
        return pd.DataFrame.from_records(
            [
                {
                    "service": self.service,
                    "jour": f.day.isoformat(),
                    "P5": f.p05,
                    "P25": f.p25,
                    "P50": f.p50,
                    "P75": f.p75,
                    "P95": f.p95,
                }
                for f in self.forecast
            ],
            columns=["service", "jour", "P5", "P25", "P50", "P75", "P95"],
        )


def _cell(count: int, threshold: int) -> Cell:
    return f"<{threshold}" if 0 < count < threshold else count


def _daily_counts(conn: Connection, first: date, last: date) -> pd.DataFrame:
    """Inpatient admissions per day and care site in ``[first, last]``: ``day, site, n``
    (``site`` -1 for a stay without a care site); days without admissions are absent."""
    from hopia.management.steering.stays import INPATIENT_CONCEPTS

    v = schema.CDM["visit_occurrence"]
    site = func.coalesce(v.c.care_site_id, UNKNOWN_SITE)
    rows = conn.execute(
        select(v.c.visit_start_date, site.label("site"), func.count().label("n"))
        .where(
            v.c.visit_concept_id.in_(list(INPATIENT_CONCEPTS)),
            v.c.visit_start_date.is_not(None),
            v.c.visit_start_date >= first,
            v.c.visit_start_date <= last,
        )
        .group_by(v.c.visit_start_date, site)
    ).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["day", "site", "n"])
    frame["day"] = pd.to_datetime(frame["day"])
    return frame.astype({"site": "int64", "n": "int64"})


def _services(conn: Connection) -> tuple[dict[int, str], date | None, bool]:
    """Care-site names, the day of the latest inpatient admission, whether some inpatient
    stays have no care site."""
    from hopia.management.steering.stays import INPATIENT_CONCEPTS

    cs, v = schema.CDM["care_site"], schema.CDM["visit_occurrence"]
    names = {
        int(r.care_site_id): r.care_site_name or f"Service {r.care_site_id}"
        for r in conn.execute(
            select(cs.c.care_site_id, cs.c.care_site_name).order_by(cs.c.care_site_id)
        )
    }
    inpatient = v.c.visit_concept_id.in_(list(INPATIENT_CONCEPTS))
    latest = conn.execute(select(func.max(v.c.visit_start_date)).where(inpatient)).scalar()
    unsited = conn.execute(
        select(func.count()).where(inpatient, v.c.care_site_id.is_(None))
    ).scalar()
    return names, (pd.Timestamp(latest).date() if latest is not None else None), bool(unsited)


def admissions(ctx: Context, request: AdmissionsRequest) -> AdmissionsForecast:
    """Daily inpatient admissions of one service (or the whole hospital): a quantile forecast
    of the ``days`` days from the origin and the actuals of the 90 days before it.

    Reads only admissions dated before the origin (at most :data:`HISTORY_DAYS` days back);
    one audit entry (``forecast.admissions``) in the transaction of the read.
    """
    from hopia.management.forecast import DEFAULT_QUANTILES, FORECASTERS, make_forecaster

    ctx.authorize("management.read", "warehouse")
    if request.model not in FORECASTERS.names():
        raise InvalidRequestError(
            f"modèle inconnu : « {request.model} » (disponibles : "
            f"{', '.join(FORECASTERS.names())})",
            fields=["model"],
        )
    k = ctx.settings.web.small_cell
    with existing_warehouse(ctx).begin() as conn:
        names, latest, unsited = _services(conn)
        if unsited:
            names[UNKNOWN_SITE] = "Service non renseigné"
        if request.service is not None and request.service not in names:
            raise NotFoundError(f"service inconnu : {request.service}", fields=["service"])
        if latest is None:
            raise NotFoundError("aucun séjour d'hospitalisation dans l'entrepôt")
        origin = request.origin or latest
        last = origin - timedelta(days=1)
        counts = _daily_counts(conn, origin - timedelta(days=HISTORY_DAYS), last)
        audit.record(
            conn,
            ctx.actor,
            "forecast.admissions",
            "warehouse",
            None,
            {
                "origin": origin.isoformat(),
                "days": request.days,
                "service": request.service,
                "model": request.model,
                "window_days": HISTORY_DAYS,
            },
        )
    if counts.empty:
        raise NotFoundError("aucune entrée avant l'origine de la prévision", fields=["origin"])
    # The series starts with the hospital's first admission in the window (not before: days
    # before the data begin are unknown, not zero).
    grid = pd.date_range(counts["day"].min(), pd.Timestamp(last), freq="D")
    if len(grid) < MIN_HISTORY_DAYS:
        raise NotFoundError(
            f"historique trop court : {len(grid)} jour(s) d'entrées avant l'origine, "
            f"{MIN_HISTORY_DAYS} au moins",
            fields=["origin"],
        )
    chosen = counts if request.service is None else counts[counts["site"] == request.service]
    y = chosen.groupby("day")["n"].sum().reindex(grid, fill_value=0).astype("int64")
    forecaster = make_forecaster(request.model, **_params(request.model, "FR", None))
    fitted = forecaster.fit(
        pd.DataFrame({"unique_id": "admissions", "ds": grid, "y": y.to_numpy(float)}),
        freq=pd.Timedelta(days=1),
    )
    levels = list(DEFAULT_QUANTILES)
    out = fitted.predict(request.days, quantiles=levels)
    wide = out.pivot(index="ds", columns="quantile", values="value").sort_index()
    col = {round(float(c), 2): c for c in wide.columns}
    forecast = [
        ForecastDay(
            day=ds.date(),
            **{
                f"p{round(q * 100):02d}": round(max(0.0, float(row[col[q]])), 2)
                for q in TABLE_LEVELS
            },
            values=[round(max(0.0, float(row[col[q]])), 2) for q in levels],
        )
        for ds, row in wide.iterrows()
    ]
    recent = y[y.index >= pd.Timestamp(origin - timedelta(days=ACTUAL_DAYS))]
    options = [ServiceOption(care_site_id=None, name=WHOLE_HOSPITAL)] + [
        ServiceOption(care_site_id=i, name=n) for i, n in names.items()
    ]
    return AdmissionsForecast(
        care_site_id=request.service,
        service=WHOLE_HOSPITAL if request.service is None else names[request.service],
        origin=origin,
        days=request.days,
        model=request.model,
        levels=levels,
        small_cell=k,
        history_first=grid[0].date(),
        history_days=len(grid),
        forecast=forecast,
        actuals=[ActualDay(day=d.date(), admissions=_cell(int(n), k)) for d, n in recent.items()],
        services=options,
    )


def download(
    result: AdmissionsForecast,
    fmt: Literal["csv", "xlsx"],
    table: Literal["previsions", "observe"] = "previsions",
) -> bytes:
    """One table of the page as CSV or XLSX."""
    from hopia.management.export import to_csv, to_xlsx

    if fmt not in MEDIA_TYPES:
        raise InvalidRequestError("format : csv ou xlsx", fields=["format"])
    frame = result.frame(table)
    if fmt == "csv":
        return to_csv(frame)
    return to_xlsx({"Prévisions" if table == "previsions" else "Entrées observées": frame})

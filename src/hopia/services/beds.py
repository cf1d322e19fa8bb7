"""Bed-needs service: midnight census forecasts per service (P50/P80/P95) and their backtest.

Reads the inpatient stays of the research space (only those admitted before the forecast
origin), runs :mod:`hopia.management.beds` and returns the table of bed needs per service and
day. Asks ``management.read`` (nothing is written but the audit entry); the read is audited
(``beds.forecast`` / ``beds.backtest``: origin, horizon, services, paths; no figure).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

import pandas as pd
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from hopia.management.export import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE
from hopia.platform import audit
from hopia.platform.exceptions import InvalidRequestError, NotFoundError
from hopia.platform.warehouse import schema
from hopia.services.context import Context, Request
from hopia.services.warehouse import existing_warehouse

MEDIA_TYPES = {"csv": CSV_MEDIA_TYPE, "xlsx": XLSX_MEDIA_TYPE}
HISTORY_DAYS = 760  # two years of admissions and lengths of stay, and the stays still in bed


class ForecastRequest(Request):
    """``origin``: the first forecast day (default: the day of the latest admission, the last
    day of the data: a stay whose recorded discharge is on or after it counts as in bed);
    ``capacity``: beds per ``care_site_id`` when known (OMOP has no bed count)."""

    site: int | None = Field(None, ge=0)
    days: int = Field(14, ge=1, le=60)
    origin: date | None = Field(None, ge=date(1900, 1, 1), le=date(2199, 12, 31))
    paths: int = Field(1000, ge=100, le=20_000)
    seed: int = 0
    capacity: dict[int, int] = Field(default_factory=dict)


class BacktestRequest(Request):
    site: int | None = Field(None, ge=0)
    days: int = Field(14, ge=1, le=60)
    step: int = Field(7, ge=1, le=90)
    span: int = Field(365, ge=7, le=1100)
    paths: int = Field(500, ge=100, le=20_000)
    seed: int = 0


class BedNeed(BaseModel):
    care_site_id: int
    service: str
    day: date
    p50: int
    p80: int
    p95: int
    capacity: int | None = None


class ServiceState(BaseModel):
    care_site_id: int
    service: str
    in_bed: int  # the midnight census of the day before the origin


class BedForecast(BaseModel):
    origin: date
    days: int
    paths: int
    services: list[ServiceState]
    needs: list[BedNeed]

    def frame(self) -> pd.DataFrame:
        rows = [
            {
                "service": n.service,
                "jour": n.day.isoformat(),
                "P50": n.p50,
                "P80": n.p80,
                "P95": n.p95,
                "capacité": n.capacity if n.capacity is not None else "",
                "dépassement P95": ("oui" if n.p95 > n.capacity else "non")
                if n.capacity is not None
                else "",
            }
            for n in self.needs
        ]
        return pd.DataFrame.from_records(rows)


class BacktestScore(BaseModel):
    method: str
    service: str
    pinball_p50: float
    pinball_p80: float
    pinball_p95: float
    pinball_mean: float
    coverage_p80: float
    coverage_p95: float
    days: int


class BedBacktest(BaseModel):
    first_origin: date
    last_origin: date
    origins: int
    days: int
    paths: int
    scores: list[BacktestScore]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame.from_records(
            [
                {
                    "méthode": s.method,
                    "service": s.service,
                    "pinball P50": round(s.pinball_p50, 3),
                    "pinball P80": round(s.pinball_p80, 3),
                    "pinball P95": round(s.pinball_p95, 3),
                    "pinball moyen": round(s.pinball_mean, 3),
                    "couverture P80": round(s.coverage_p80, 3),
                    "couverture P95": round(s.coverage_p95, 3),
                    "jours": s.days,
                }
                for s in self.scores
            ]
        )


def _stays(conn, first: date, last: date) -> pd.DataFrame:
    from hopia.management.steering.stays import read_stays

    raw = read_stays(conn, first, last, lookback_days=0)
    raw = raw[raw["start"] <= pd.Timestamp(last)]
    return pd.DataFrame(
        {
            "site": raw["care_site_id"].fillna(-1).astype("int64"),
            "start": raw["start"],
            "end": raw["end"].fillna(raw["start"]),
        }
    )


def _context(conn, site: int | None) -> tuple[dict[int, str], date | None]:
    from hopia.management.steering.stays import INPATIENT_CONCEPTS

    cs, v = schema.CDM["care_site"], schema.CDM["visit_occurrence"]
    names = {
        int(r.care_site_id): r.care_site_name or f"Service {r.care_site_id}"
        for r in conn.execute(select(cs.c.care_site_id, cs.c.care_site_name))
    }
    names[-1] = "Service non renseigné"
    if site is not None and site not in names:
        raise NotFoundError(f"service inconnu : {site}", fields=["site"])
    latest = conn.execute(
        select(func.max(v.c.visit_start_date)).where(
            v.c.visit_concept_id.in_(list(INPATIENT_CONCEPTS))
        )
    ).scalar()
    if latest is None:
        raise NotFoundError("aucun séjour d'hospitalisation dans l'entrepôt")
    return names, pd.Timestamp(latest).date()


def forecast(ctx: Context, request: ForecastRequest) -> BedForecast:
    """Bed needs of the ``days`` days from the origin, per service (or one)."""
    from hopia.management import beds

    ctx.authorize("management.read", "warehouse")
    with existing_warehouse(ctx).begin() as conn:
        names, latest = _context(conn, request.site)
        origin = request.origin or latest
        stays = _stays(conn, origin - timedelta(days=HISTORY_DAYS), origin - timedelta(days=1))
        audit.record(
            conn,
            ctx.actor,
            "beds.forecast",
            "warehouse",
            None,
            {
                "origin": origin.isoformat(),
                "days": request.days,
                "site": request.site,
                "paths": request.paths,
                "stays": len(stays),
            },
        )
    if stays.empty:
        raise NotFoundError("aucun séjour avant l'origine de la prévision", fields=["origin"])
    sites = [request.site] if request.site is not None else None
    found = beds.forecast(
        stays, pd.Timestamp(origin), request.days, request.paths, request.seed, sites
    )
    needs = [
        BedNeed(
            care_site_id=f.site,
            service=names.get(f.site, str(f.site)),
            day=d.date(),
            p50=int(f.quantiles[0.5][i]),
            p80=int(f.quantiles[0.8][i]),
            p95=int(f.quantiles[0.95][i]),
            capacity=request.capacity.get(f.site),
        )
        for f in found
        for i, d in enumerate(f.days)
    ]
    states = [
        ServiceState(care_site_id=f.site, service=names.get(f.site, str(f.site)), in_bed=f.present)
        for f in found
    ]
    return BedForecast(
        origin=origin, days=request.days, paths=request.paths, services=states, needs=needs
    )


def backtest(ctx: Context, request: BacktestRequest) -> BedBacktest:
    """Rolling-origin backtest over the last ``span`` days of the data (see
    :mod:`hopia.management.beds.backtest`)."""
    from hopia.management import beds

    ctx.authorize("management.read", "warehouse")
    with existing_warehouse(ctx).begin() as conn:
        names, latest = _context(conn, request.site)
        # The last day's census is incomplete (stays in progress end on it): judged up to the
        # day before.
        end = latest - timedelta(days=1)
        first = end - timedelta(days=request.span + request.days + HISTORY_DAYS)
        stays = _stays(conn, first, end)
        audit.record(
            conn,
            ctx.actor,
            "beds.backtest",
            "warehouse",
            None,
            {
                "end": end.isoformat(),
                "span": request.span,
                "days": request.days,
                "site": request.site,
                "paths": request.paths,
            },
        )
    if stays.empty:
        raise NotFoundError("aucun séjour d'hospitalisation dans l'entrepôt")
    sites = [request.site] if request.site is not None else None
    result = beds.backtest(
        stays,
        pd.Timestamp(end),
        horizon=request.days,
        step=request.step,
        span=request.span,
        paths=request.paths,
        seed=request.seed,
        sites=sites,
    )
    scores = [
        BacktestScore(
            method=str(r["method"]),
            service="Total" if r["site"] == "Total" else names.get(int(r["site"]), str(r["site"])),
            pinball_p50=r["pinball P50"],
            pinball_p80=r["pinball P80"],
            pinball_p95=r["pinball P95"],
            pinball_mean=r["pinball moyen"],
            coverage_p80=r["couverture P80"],
            coverage_p95=r["couverture P95"],
            days=int(r["jours"]),
        )
        for r in result.scores.to_dict("records")
    ]
    return BedBacktest(
        first_origin=result.origins[0].date(),
        last_origin=result.origins[-1].date(),
        origins=len(result.origins),
        days=request.days,
        paths=request.paths,
        scores=scores,
    )


def download(result: BedForecast | BedBacktest, fmt: Literal["csv", "xlsx"]) -> bytes:
    from hopia.management.export import to_csv, to_xlsx

    if fmt not in MEDIA_TYPES:
        raise InvalidRequestError("format : csv ou xlsx", fields=["format"])
    frame = result.frame()
    if fmt == "csv":
        return to_csv(frame)
    title = "Besoins en lits" if isinstance(result, BedForecast) else "Backtest lits"
    return to_xlsx({title: frame})

"""Steering service (*pilotage*): activity indicators per service and month for managers.

Reads the research space (inpatient stays, their main diagnosis), computes the indicators of
:mod:`hopia.management.steering` and returns them as published: every count below the
installation's threshold (``web.small_cell``) hidden, with the complementary cells that keep it
hidden from the totals. Asks ``management.read``; the read is audited
(``steering.indicators``: the window, the service, the threshold and the number of stays; no
figure) in the transaction that reads.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import pandas as pd
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import func, select

from hopia.management.export import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE
from hopia.platform import audit
from hopia.platform.exceptions import InvalidRequestError, NotFoundError
from hopia.platform.warehouse import schema
from hopia.services.context import Context, Request
from hopia.services.warehouse import existing_warehouse

MAX_MONTHS = 60
EARLIEST, LATEST = date(1900, 1, 1), date(2199, 12, 31)  # what the date arithmetic can hold
MEDIA_TYPES = {"csv": CSV_MEDIA_TYPE, "xlsx": XLSX_MEDIA_TYPE}
Value = int | float | str | None


class IndicatorsRequest(Request):
    """The window (whole months: any day of the first and of the last month) and one service
    (``site``, a ``care_site_id``) or all. Without a window: the 24 months up to the latest
    admission in the warehouse."""

    first: date | None = Field(None, ge=EARLIEST, le=LATEST)
    last: date | None = Field(None, ge=EARLIEST, le=LATEST)
    site: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _order(self) -> IndicatorsRequest:
        if self.first and self.last and self.first > self.last:
            raise ValueError("le début de la période est après sa fin")
        return self


class PublishedTable(BaseModel):
    name: str
    title: str
    columns: list[str]
    rows: list[list[Value]]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=self.columns)


class Site(BaseModel):
    care_site_id: int
    name: str


class Indicators(BaseModel):
    first: date
    last: date
    months: list[str]
    small_cell: int
    site: int | None
    sites: list[Site]
    tables: list[PublishedTable]

    def table(self, name: str) -> PublishedTable:
        for t in self.tables:
            if t.name == name:
                return t
        raise NotFoundError(f"tableau inconnu : {name} (tableaux : {', '.join(self.names)})")

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tables]


def _window(conn, request: IndicatorsRequest) -> tuple[date, date] | None:
    from hopia.management.steering import INPATIENT_CONCEPTS, default_window

    first, last = request.first, request.last
    if first is None or last is None:
        v = schema.CDM["visit_occurrence"]
        latest = conn.execute(
            select(func.max(v.c.visit_start_date)).where(
                v.c.visit_concept_id.in_(list(INPATIENT_CONCEPTS))
            )
        ).scalar()
        if latest is None and last is None:
            return None
        last = last or (pd.Timestamp(latest) + pd.offsets.MonthEnd(0)).date()
        if first is None:
            first, _ = default_window((pd.Timestamp(last) + pd.offsets.MonthBegin(1)).date())
    first = first.replace(day=1)
    last = (pd.Timestamp(last) + pd.offsets.MonthEnd(0)).date()
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    if months > MAX_MONTHS:
        raise InvalidRequestError(
            f"période trop longue : {months} mois (au plus {MAX_MONTHS})", fields=["first", "last"]
        )
    return first, last


def indicators(ctx: Context, request: IndicatorsRequest) -> Indicators:
    """The protected indicator tables of the window (see :mod:`hopia.management.steering`)."""
    from hopia.management.steering import compute, main_chapters, read_stays

    ctx.authorize("management.read", "warehouse")
    k = ctx.settings.web.small_cell
    cs = schema.CDM["care_site"]
    with existing_warehouse(ctx).begin() as conn:
        sites = {
            int(r.care_site_id): r.care_site_name or f"Service {r.care_site_id}"
            for r in conn.execute(select(cs.c.care_site_id, cs.c.care_site_name))
        }
        if request.site is not None and request.site not in sites:
            raise NotFoundError(f"service inconnu : {request.site}", fields=["site"])
        window = _window(conn, request)
        if window is None:
            raise NotFoundError("aucun séjour d'hospitalisation dans l'entrepôt")
        first, last = window
        stays = read_stays(conn, first, last)
        mains = main_chapters(conn, first, last)
        audit.record(
            conn,
            ctx.actor,
            "steering.indicators",
            "warehouse",
            None,
            {
                "first": first.isoformat(),
                "last": last.isoformat(),
                "site": request.site,
                "small_cell": k,
                "stays": len(stays),
            },
        )
    result = compute(stays, mains, first, last, k, site=request.site)
    return Indicators(
        first=result.first,
        last=result.last,
        months=result.months,
        small_cell=k,
        site=request.site,
        sites=[Site(care_site_id=i, name=n) for i, n in sorted(sites.items())],
        tables=[_published(name, result.titles[name], f) for name, f in result.tables.items()],
    )


def _published(name: str, title: str, frame: pd.DataFrame) -> PublishedTable:
    def value(v: object) -> Value:
        if v is None or isinstance(v, str):
            return v
        if isinstance(v, bool):
            return str(v)
        if float(v).is_integer() and not isinstance(v, float):
            return int(v)
        return float(v)

    return PublishedTable(
        name=name,
        title=title,
        columns=[str(c) for c in frame.columns],
        rows=[[value(v) for v in row] for row in frame.itertuples(index=False)],
    )


def download(result: Indicators, name: str | None, fmt: Literal["csv", "xlsx"]) -> bytes:
    """One table (``name``) as CSV, or one table or all of them (``name=None``) as XLSX."""
    from hopia.management.export import to_csv, to_xlsx

    if fmt == "csv":
        if name is None:
            raise InvalidRequestError(
                "le CSV contient un seul tableau : nommez-le", fields=["table"]
            )
        return to_csv(result.table(name).frame())
    chosen = [result.table(name)] if name else result.tables
    return to_xlsx({t.title: t.frame() for t in chosen})

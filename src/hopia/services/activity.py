"""Activity service: aggregate figures for managers (``activity.aggregates``).

Counts only, from the research space: stays per care site and per month, documents per
month. A count below the installation's threshold (``web.small_cell``) is shown as
``"<N"``: a manager sees activity, never a patient. The read is audited with its figures' shape
(``activity.aggregates``), in the transaction that reads.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import extract, func, select

from hopia.platform import audit
from hopia.platform.warehouse import schema
from hopia.services.context import Context

Cell = int | str


class SiteCount(BaseModel):
    care_site_id: int | None
    care_site: str | None
    stays: Cell
    patients: Cell


class MonthCount(BaseModel):
    month: str
    stays: Cell
    documents: Cell


class Activity(BaseModel):
    small_cell: int
    sites: list[SiteCount]
    months: list[MonthCount]


def _cell(count: int, threshold: int) -> Cell:
    return f"<{threshold}" if 0 < count < threshold else count


def activity(ctx: Context) -> Activity:
    """Stays and patients per care site, stays and documents per month (research dates)."""
    ctx.authorize("activity.aggregates", "warehouse")
    k = ctx.settings.web.small_cell
    v, cs, note = schema.CDM["visit_occurrence"], schema.CDM["care_site"], schema.CDM["note"]
    with ctx.warehouse().begin() as conn:
        sites = conn.execute(
            select(
                v.c.care_site_id,
                cs.c.care_site_name,
                func.count().label("stays"),
                func.count(v.c.person_id.distinct()).label("patients"),
            )
            .join(cs, cs.c.care_site_id == v.c.care_site_id, isouter=True)
            .group_by(v.c.care_site_id, cs.c.care_site_name)
            .order_by(v.c.care_site_id)
        ).all()
        stays: dict[str, int] = {}
        docs: dict[str, int] = {}
        for table, column, into in (
            (v, v.c.visit_start_date, stays),
            (note, note.c.note_date, docs),
        ):
            year, month = extract("year", column), extract("month", column)
            for r in conn.execute(
                select(year.label("y"), month.label("m"), func.count().label("n"))
                .select_from(table)
                .where(column.is_not(None))
                .group_by(year, month)
            ):
                into[f"{int(r.y):04d}-{int(r.m):02d}"] = int(r.n)
        audit.record(
            conn,
            ctx.actor,
            "activity.aggregates",
            "warehouse",
            None,
            {"sites": len(sites), "months": len(set(stays) | set(docs)), "small_cell": k},
        )
    return Activity(
        small_cell=k,
        sites=[
            SiteCount(
                care_site_id=r.care_site_id,
                care_site=r.care_site_name,
                stays=_cell(r.stays, k),
                patients=_cell(r.patients, k),
            )
            for r in sites
        ],
        months=[
            MonthCount(month=m, stays=_cell(stays.get(m, 0), k), documents=_cell(docs.get(m, 0), k))
            for m in sorted(set(stays) | set(docs))
        ],
    )

"""Quality run history, kept in the warehouse it describes (``hopia_meta.quality_*``).

In the warehouse rather than in a results folder: the history follows the data through
backups and restores, every user of a shared PostgreSQL warehouse sees the same trend, and a
run is recorded in one transaction (all its results or none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import case, func, select

from hopia.data.quality.model import QualityRun, Status
from hopia.platform.warehouse import Warehouse, schema


class RunSummary(BaseModel):
    run_id: int
    started_at: datetime
    catalogue_version: str
    checks: int
    passed: int
    failed: int
    not_applicable: int
    errors: int

    @property
    def pass_rate(self) -> float:
        executed = self.passed + self.failed
        return 100.0 * self.passed / executed if executed else 100.0


def save_run(wh: Warehouse, run: QualityRun) -> int:
    """Record ``run`` and its results in one transaction; returns its run_id."""
    with wh.begin() as conn:
        run_id = wh.next_id(conn, schema.quality_run, "run_id")
        conn.execute(
            schema.quality_run.insert().values(
                run_id=run_id,
                started_at=run.started_at,
                finished_at=run.finished_at,
                catalogue_version=run.catalogue_version,
                checks=len(run.results),
                passed=run.count(Status.PASSED),
                failed=run.count(Status.FAILED),
                not_applicable=run.count(Status.NOT_APPLICABLE),
                errors=run.count(Status.ERROR),
            )
        )
        wh.insert_rows(
            conn,
            schema.quality_result,
            [
                {
                    "run_id": run_id,
                    "check_id": r.check_id,
                    "check_type": r.check_type,
                    "level": r.level.value,
                    "table_name": r.table,
                    "field_name": r.field,
                    "kahn_context": r.kahn_context,
                    "kahn_category": r.kahn_category,
                    "kahn_subcategory": r.kahn_subcategory,
                    "status": r.status.value,
                    "num_violated": r.num_violated,
                    "num_denominator": r.num_denominator,
                    "pct_violated": r.pct_violated,
                    "threshold": r.threshold,
                    "detail": r.detail,
                }
                for r in run.results
            ],
        )
    run.run_id = run_id
    return run_id


def run_history(wh: Warehouse, limit: int = 20) -> list[RunSummary]:
    """The last ``limit`` runs, oldest first."""
    t = schema.quality_run
    with wh.engine.connect() as conn:
        rows = conn.execute(select(t).order_by(t.c.run_id.desc()).limit(limit)).mappings().all()
    return [RunSummary(**row) for row in reversed(rows)]


def find_run(wh: Warehouse, run_id: int) -> RunSummary | None:
    """The summary of run ``run_id``, or None when no such run was recorded."""
    t = schema.quality_run
    with wh.engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.run_id == run_id)).mappings().first()
    return RunSummary(**row) if row is not None else None


def previous_results(wh: Warehouse, before_run_id: int | None) -> dict[str, tuple[str, float]]:
    """check_id -> (status, % violated) in the run before ``before_run_id`` (or the last run)."""
    t, r = schema.quality_run, schema.quality_result
    with wh.engine.connect() as conn:
        query = select(t.c.run_id).order_by(t.c.run_id.desc()).limit(1)
        if before_run_id is not None:
            query = query.where(t.c.run_id < before_run_id)
        previous = conn.execute(query).scalar()
        if previous is None:
            return {}
        rows = conn.execute(
            select(r.c.check_id, r.c.status, r.c.pct_violated).where(r.c.run_id == previous)
        ).all()
    return {check_id: (status, float(pct)) for check_id, status, pct in rows}


class CheckOutcome(BaseModel):
    """One check of a recorded run (counts of rows, never a row)."""

    check_id: str
    check_type: str
    level: str
    table_name: str
    field_name: str | None
    kahn_category: str
    status: str
    num_violated: int
    num_denominator: int
    pct_violated: float
    threshold: float
    detail: str | None


@dataclass(frozen=True)
class ResultFilter:
    """Which results of a run to read: only these states, tables, Kahn categories (each: all
    when empty)."""

    statuses: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


# "report": the order a reader acts in: the (category, table) groups holding a failed or broken
# check first, then by category and table; in a group failed first, the worst share first.
# "check": by check id (stable, for scripts).
ResultOrder = Literal["check", "report"]
_STATUS_RANK = {Status.FAILED.value: 0, Status.ERROR.value: 1, Status.PASSED.value: 2}


@dataclass(frozen=True)
class ResultPage:
    total: int
    """Results of the run that pass the filter (all pages)."""
    results: list[CheckOutcome]
    tables: list[str]
    """Every table the run checked (whatever the filter), for a front end's filter."""


def run_results_page(
    wh: Warehouse,
    run_id: int,
    where: ResultFilter,
    *,
    limit: int,
    offset: int = 0,
    order: ResultOrder = "check",
) -> ResultPage:
    """One page of the results of run ``run_id`` that pass ``where``, with their total: a full
    catalogue run holds thousands of checks, more than a screen or an answer should carry."""
    r = schema.quality_result
    conditions = [r.c.run_id == run_id]
    if where.statuses:
        conditions.append(r.c.status.in_(where.statuses))
    if where.tables:
        conditions.append(r.c.table_name.in_(where.tables))
    if where.categories:
        conditions.append(r.c.kahn_category.in_(where.categories))
    columns = [r.c[name] for name in CheckOutcome.model_fields]
    if order == "report":
        broken = case((r.c.status.in_(("failed", "error")), 1), else_=0)
        group_broken = func.max(broken).over(partition_by=(r.c.kahn_category, r.c.table_name))
        inner = select(*columns, group_broken.label("group_broken")).where(*conditions).subquery()
        rank = case(_STATUS_RANK, value=inner.c.status, else_=3)
        query = select(*(inner.c[name] for name in CheckOutcome.model_fields)).order_by(
            inner.c.group_broken.desc(),
            inner.c.kahn_category,
            inner.c.table_name,
            rank,
            inner.c.pct_violated.desc(),
            inner.c.check_id,
        )
    else:
        query = select(*columns).where(*conditions).order_by(r.c.check_id)
    with wh.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(r).where(*conditions)).scalar_one()
        rows = conn.execute(query.limit(limit).offset(offset)).mappings().all()
        tables = conn.execute(
            select(r.c.table_name).where(r.c.run_id == run_id).distinct().order_by(r.c.table_name)
        ).scalars()
        return ResultPage(total, [CheckOutcome(**row) for row in rows], list(tables))


def run_results(wh: Warehouse, run_id: int, statuses: tuple[str, ...] = ()) -> list[CheckOutcome]:
    """The results of run ``run_id`` (only those of ``statuses`` when given), by check id."""
    r = schema.quality_result
    query = select(*(r.c[name] for name in CheckOutcome.model_fields)).where(r.c.run_id == run_id)
    if statuses:
        query = query.where(r.c.status.in_(statuses))
    with wh.engine.connect() as conn:
        rows = conn.execute(query.order_by(r.c.check_id)).mappings().all()
    return [CheckOutcome(**row) for row in rows]

"""Data-quality service: run the checks and write the reports, list the catalogue, the history.

The rules, for every front end:

- the selection (tables, check types) is checked against the catalogue, and every check type
  to run against the registry of query builders (plug-ins included), before any query;
- the access policy is asked next (``quality.run``, ``quality.catalogue``, ``quality.history``,
  ``quality.latest``);
- a run counts rows per check over whole tables and returns no row of a patient: it is not
  written to the audit log; with ``history``, the run and its results are recorded in the
  warehouse it describes (``hopia_meta.quality_*``);
- the reports (JSON and HTML) go to ``output``, by default ``<home>/quality``, each file
  written whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from hopia.data.quality import (
    Catalogue,
    QualityRun,
    load_catalogue,
    previous_results,
    run_checks,
    run_history,
    save_run,
)
from hopia.data.quality.history import (
    CheckOutcome,
    ResultFilter,
    ResultOrder,
    RunSummary,
    find_run,
    run_results_page,
)
from hopia.data.quality.model import COVERAGE_FR, KAHN_FR, STATUS_FR, Status  # noqa: F401 - front ends
from hopia.data.quality.runner import builders
from hopia.platform.exceptions import NotFoundError
from hopia.services.context import Context, Request
from hopia.services.warehouse import existing_warehouse

if TYPE_CHECKING:
    from hopia.data.quality.report import QualityReport  # Jinja2: imported when a run reports
    from hopia.platform.warehouse import Warehouse


class RunRequest(Request):
    output: Path | None = None
    """Folder of the JSON and HTML reports; default ``<home>/quality``."""
    tables: tuple[str, ...] = ()
    """Only the checks of these OMOP tables (all when empty)."""
    check_types: tuple[str, ...] = ()
    """Only these DQD check types (all when empty)."""
    history: bool = True
    """Record the run in the warehouse, for the trend."""
    enrichment: bool = True
    """Add the NLP enrichment report."""


class HistoryRequest(Request):
    limit: int = Field(20, ge=1)


@dataclass(frozen=True)
class QualityOutcome:
    report: QualityReport
    run: QualityRun
    json_path: Path
    html_path: Path


def run(
    ctx: Context,
    request: RunRequest,
    *,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> QualityOutcome:
    """Run the selected checks, record them (``history``), write the reports.

    ``on_start`` receives the number of checks to run, ``on_progress`` each one done."""
    from hopia.data.quality.enrichment import enrichment_report
    from hopia.data.quality.report import build_report, write_reports

    catalogue = load_catalogue().select(request.tables, request.check_types)
    builders(catalogue)  # an unknown check type fails here, before any query
    ctx.authorize("quality.run", "warehouse")
    wh = existing_warehouse(ctx)
    if on_start:
        on_start(len(catalogue.checks))
    result = run_checks(wh, catalogue, on_progress=on_progress)
    if request.history:
        save_run(wh, result)
    report = build_report(
        result,
        catalogue,
        run_history(wh) if request.history else [],
        previous_results(wh, result.run_id) if request.history else {},
        enrichment_report(wh) if request.enrichment else None,
    )
    folder = request.output or ctx.settings.home / "quality"
    stem = f"qualite-{result.started_at:%Y%m%d-%H%M%S}"
    if result.run_id is not None:  # two runs in the same second must not overwrite
        stem += f"-n{result.run_id}"
    json_path, html_path = write_reports(report, folder, stem)
    return QualityOutcome(report, result, json_path, html_path)


def catalogue(ctx: Context) -> Catalogue:
    """Hopia's check catalogue: the 27 DQD check types and the checks generated from them."""
    ctx.authorize("quality.catalogue", "catalogue")
    return load_catalogue()


def history(ctx: Context, request: HistoryRequest) -> list[RunSummary]:
    """The last recorded runs, oldest first."""
    ctx.authorize("quality.history", "warehouse")
    return run_history(existing_warehouse(ctx), request.limit)


# The Kahn categories of the catalogue's checks (a filter of the results).
KahnCategory = Literal["Conformance", "Completeness", "Plausibility"]
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class ResultsQuery(Request):
    """Which results of a run, one page at a time: a full catalogue run holds thousands."""

    statuses: tuple[Status, ...] = ()
    """Only the checks in these states (all when empty)."""
    tables: tuple[str, ...] = Field((), max_length=50)
    """Only the checks of these tables (all when empty)."""
    categories: tuple[KahnCategory, ...] = ()
    """Only the checks of these Kahn categories (all when empty)."""
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(0, ge=0)
    order: ResultOrder = "check"
    """``check``: by check id; ``report``: the groups (category, table) with a failed or
    broken check first, failed first in each."""

    def result_filter(self, statuses: tuple[str, ...] | None = None) -> ResultFilter:
        return ResultFilter(
            statuses=statuses if statuses is not None else tuple(s.value for s in self.statuses),
            tables=self.tables,
            categories=self.categories,
        )


class LatestRequest(ResultsQuery):
    failed_only: bool = True
    """Only the checks that failed or could not run (the ones to act on), unless ``statuses``
    names others."""


class LatestQuality(BaseModel):
    run: RunSummary
    pass_rate: float
    total: int
    """How many results pass the filter, all pages together."""
    limit: int
    offset: int
    results: list[CheckOutcome]
    """This page of them."""
    tables: list[str]
    """Every table the run checked, whatever the filter."""


def _page(
    wh: Warehouse, run: RunSummary, request: ResultsQuery, where: ResultFilter
) -> LatestQuality:
    found = run_results_page(
        wh, run.run_id, where, limit=request.limit, offset=request.offset, order=request.order
    )
    return LatestQuality(
        run=run,
        pass_rate=round(run.pass_rate, 2),
        total=found.total,
        limit=request.limit,
        offset=request.offset,
        results=found.results,
        tables=found.tables,
    )


def latest(ctx: Context, request: LatestRequest) -> LatestQuality:
    """The last recorded run and one page of its results (:class:`NotFoundError` before the
    first)."""
    ctx.authorize("quality.latest", "warehouse")
    wh = existing_warehouse(ctx)
    runs = run_history(wh, 1)
    if not runs:
        raise NotFoundError(
            "aucun contrôle de qualité enregistré : lancez-en un (POST /api/v1/quality/runs ou "
            "hopia quality run)"
        )
    to_act_on = (Status.FAILED.value, Status.ERROR.value)
    statuses = to_act_on if request.failed_only and not request.statuses else None
    return _page(wh, runs[-1], request, request.result_filter(statuses))


class ReportRequest(ResultsQuery):
    run_id: int = Field(ge=1)


def report(ctx: Context, request: ReportRequest) -> LatestQuality:
    """One recorded run and one page of its results (counts of rows, never a row; not audited,
    like the history it is part of): :class:`NotFoundError` for a run never recorded."""
    ctx.authorize("quality.history", f"quality-run:{request.run_id}")
    wh = existing_warehouse(ctx)
    found = find_run(wh, request.run_id)
    if found is None:
        raise NotFoundError(
            f"contrôle de qualité n° {request.run_id} introuvable", fields=("run_id",)
        )
    return _page(wh, found, request, request.result_filter())

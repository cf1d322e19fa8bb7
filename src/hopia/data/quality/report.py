"""The quality report: one object, written as JSON and as a self-contained French HTML page."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel

from hopia.data.quality.catalogue import Catalogue
from hopia.data.quality.enrichment import EnrichmentReport
from hopia.data.quality.history import RunSummary
from hopia.data.quality.model import (
    COVERAGE_FR,
    KAHN_FR,
    STATUS_FR,
    CheckResult,
    QualityRun,
    Status,
)
from hopia.platform.files import write_text_atomic


class Totals(BaseModel):
    checks: int = 0
    passed: int = 0
    failed: int = 0
    not_applicable: int = 0
    errors: int = 0

    def add(self, status: Status) -> None:
        self.checks += 1
        field = {Status.ERROR: "errors"}.get(status, status.value)
        setattr(self, field, getattr(self, field) + 1)

    @property
    def pass_rate(self) -> float | None:
        """Share of executed checks that passed, in percent; None when none ran."""
        executed = self.passed + self.failed
        return 100.0 * self.passed / executed if executed else None


class CategoryTotals(Totals):
    kahn_category: str
    kahn_subcategory: str | None


class TypeCoverage(Totals):
    check_type: str
    level: str
    kahn_context: str
    kahn_category: str
    kahn_subcategory: str | None
    severity: str
    coverage: str
    note: str | None
    na_reasons: dict[str, int] = {}


class ResultWithTrend(CheckResult):
    previous_status: str | None = None
    previous_pct: float | None = None


class QualityReport(BaseModel):
    run_id: int | None
    started_at: str
    duration_s: float
    dialect: str
    catalogue_version: str
    totals: Totals
    categories: list[CategoryTotals]
    coverage: list[TypeCoverage]
    results: list[ResultWithTrend]
    history: list[RunSummary]
    enrichment: EnrichmentReport | None


def build_report(
    run: QualityRun,
    catalogue: Catalogue,
    history: list[RunSummary] | None = None,
    previous: dict[str, tuple[str, float]] | None = None,
    enrichment: EnrichmentReport | None = None,
) -> QualityReport:
    totals = Totals()
    categories: dict[tuple[str, str | None], CategoryTotals] = {}
    coverage = {
        name: TypeCoverage(
            check_type=name,
            level=kind.level.value,
            kahn_context=kind.kahn_context,
            kahn_category=kind.kahn_category,
            kahn_subcategory=kind.kahn_subcategory,
            severity=kind.severity,
            coverage=kind.coverage,
            note=kind.note,
        )
        for name, kind in catalogue.types.items()
    }
    reasons: dict[str, Counter[str]] = {name: Counter() for name in coverage}
    previous = previous or {}
    results = []
    for r in run.results:
        totals.add(r.status)
        key = (r.kahn_category, r.kahn_subcategory)
        categories.setdefault(
            key, CategoryTotals(kahn_category=key[0], kahn_subcategory=key[1])
        ).add(r.status)
        coverage[r.check_type].add(r.status)
        if r.status == Status.NOT_APPLICABLE and r.detail:
            reasons[r.check_type][r.detail] += 1
        before = previous.get(r.check_id)
        results.append(
            ResultWithTrend(
                **r.model_dump(),
                previous_status=before[0] if before else None,
                previous_pct=before[1] if before else None,
            )
        )
    for name, counter in reasons.items():
        coverage[name].na_reasons = dict(counter.most_common())
    order = {"Conformance": 0, "Completeness": 1, "Plausibility": 2}
    return QualityReport(
        run_id=run.run_id,
        started_at=run.started_at.isoformat(timespec="seconds"),
        duration_s=round((run.finished_at - run.started_at).total_seconds(), 2),
        dialect=run.dialect,
        catalogue_version=run.catalogue_version,
        totals=totals,
        categories=sorted(
            categories.values(),
            key=lambda c: (order.get(c.kahn_category, 9), c.kahn_subcategory or ""),
        ),
        coverage=list(coverage.values()),
        results=results,
        history=history or [],
        enrichment=enrichment,
    )


# -- writing ------------------------------------------------------------------------------------


def report_json(report: QualityReport) -> str:
    data = report.model_dump(mode="json")
    rate = report.totals.pass_rate
    data["totals"]["pass_rate"] = round(rate, 2) if rate is not None else None
    for run, summary in zip(data["history"], report.history, strict=True):
        run["pass_rate"] = round(summary.pass_rate, 2)
    return json.dumps(data, ensure_ascii=False, indent=1)


def _number(value: float | int) -> str:
    # French typography: narrow no-break space between thousands, comma for decimals.
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}".replace(",", "\u202f")
    return f"{value:,.1f}".replace(",", "\u202f").replace(".", ",")


def _percent(value: float | None) -> str:
    if value is None:
        return "—"
    digits = 0 if value in (0, 100) else (2 if value < 0.1 else 1)
    return f"{value:.{digits}f}".replace(".", ",") + "\u00a0%"


def _kahn(value: str | None) -> str:
    return KAHN_FR.get(value or "", value or "")


def _trend(history: list[RunSummary], width: int = 640, height: int = 160) -> dict:
    """SVG coordinates of each run's pass rate, oldest on the left. The axis starts a little
    below the lowest rate (5 % steps): pass rates sit near 100 % and would look flat on 0–100."""
    if not history:
        return {"points": [], "low": 0, "mid": 50}
    lowest = min(run.pass_rate for run in history)
    low = max(0, min(90, int((lowest - 1) // 5 * 5)))
    step = (width - 40) / max(len(history) - 1, 1)
    points = [
        {
            "x": round(20 + i * step, 1),
            "y": round(10 + (height - 20) * (100 - run.pass_rate) / (100 - low), 1),
            "run": run,
        }
        for i, run in enumerate(history)
    ]
    return {"points": points, "low": low, "mid": (low + 100) / 2}


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("hopia.data.quality", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(number=_number, percent=_percent, kahn=_kahn)
    env.globals.update(status_fr={s.value: label for s, label in STATUS_FR.items()})
    env.globals.update(coverage_fr=COVERAGE_FR)
    return env


def render_html(report: QualityReport) -> str:
    """The report as one HTML page: inline CSS and SVG, no script, nothing fetched."""
    failed = [r for r in report.results if r.status == Status.FAILED]
    failed.sort(key=lambda r: (r.kahn_category, -r.pct_violated))
    errors = [r for r in report.results if r.status == Status.ERROR]
    executed = [r for r in report.results if r.status in {Status.PASSED, Status.FAILED}]
    template = _environment().get_template("report.html.j2")
    return template.render(
        report=report,
        failed=failed,
        errors=errors,
        executed=executed,
        trend=_trend(report.history),
    )


def write_reports(report: QualityReport, folder: Path, stem: str) -> tuple[Path, Path]:
    """``<stem>.json`` and ``<stem>.html`` in ``folder``; returns both paths."""
    json_path, html_path = folder / f"{stem}.json", folder / f"{stem}.html"
    html = render_html(report)  # rendered first: a template error writes nothing
    write_text_atomic(json_path, report_json(report))
    write_text_atomic(html_path, html)
    return json_path, html_path

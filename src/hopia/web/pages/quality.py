"""``/quality``: the data-quality runs of the warehouse (DIM), newest first, with their
passed / failed / not applicable counts and a bar of the share that passed, from
:func:`hopia.services.quality.history` (which asks ``quality.history``); one run's report
(``/quality/{run_id}``: its checks grouped by Kahn category and table, failed first, filtered
by state), and the form that starts a run as a background job (``quality.run``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from hopia.services import jobs, quality
from hopia.web.deps import job_runner
from hopia.web.pages import csrf
from hopia.web.pages.common import Viewer, show, to_login, viewer

router = APIRouter(include_in_schema=False)
RUNS = 50
# The state filter of the query string (French, as the user reads it) -> the recorded status.
STATES: dict[str, quality.Status] = {
    "echoue": quality.Status.FAILED,
    "erreur": quality.Status.ERROR,
    "reussi": quality.Status.PASSED,
    "sans-objet": quality.Status.NOT_APPLICABLE,
}
# Failed first, then the checks that could not run, then the rest.
_ORDER = {"failed": 0, "error": 1, "passed": 2, "not_applicable": 3}


@dataclass
class Group:
    """The checks of one Kahn category on one table."""

    category: str
    table: str
    checks: list[quality.CheckOutcome] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(1 for c in self.checks if c.status in ("failed", "error"))


def _may_run(who: Viewer) -> bool:
    return who.may("quality.run") and who.may("jobs.submit")


@router.get("/quality")
def runs(request: Request) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    found = quality.history(who.ctx, quality.HistoryRequest.of(limit=RUNS))
    return show(
        request,
        who,
        "quality/runs.html",
        "/quality",
        runs=list(reversed(found)),
        may_run=_may_run(who),
    )


@router.get("/quality/{run_id}")
def run_report(
    request: Request, run_id: int, etat: Annotated[str | None, Query(max_length=20)] = None
) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    chosen = etat if etat in STATES else None
    statuses = (STATES[chosen],) if chosen else ()
    found = quality.report(who.ctx, quality.ReportRequest.of(run_id=run_id, statuses=statuses))
    return show(
        request,
        who,
        "quality/report.html",
        "/quality",
        report=found,
        groups=group_checks(found.results),
        state=chosen,
        states={k: quality.STATUS_FR[v] for k, v in STATES.items()},
        status_fr={s.value: label for s, label in quality.STATUS_FR.items()},
        may_run=_may_run(who),
    )


def group_checks(results: list[quality.CheckOutcome]) -> list[Group]:
    """Checks by (Kahn category, table): the groups with failures first, each failed first."""
    groups: dict[tuple[str, str], Group] = {}
    for check in results:
        category = quality.KAHN_FR.get(check.kahn_category, check.kahn_category)
        key = (category, check.table_name)
        groups.setdefault(key, Group(*key)).checks.append(check)
    for group in groups.values():
        group.checks.sort(key=lambda c: (_ORDER.get(c.status, 9), -c.pct_violated, c.check_id))
    return sorted(groups.values(), key=lambda g: (g.failed == 0, g.category, g.table))


@router.post("/quality/lancer")
def start_run(request: Request, token: Annotated[str, Form(alias=csrf.FIELD)] = "") -> Response:
    """A run of the whole catalogue as a background job; its page shows the progress."""
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    parameters = {"tables": [], "check_types": [], "history": True, "enrichment": True}
    job = jobs.submit(
        who.ctx, jobs.JobRequest.of(kind="quality", parameters=parameters), job_runner(request)
    )
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)

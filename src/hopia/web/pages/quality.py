"""``/quality``: the data-quality runs of the warehouse (DIM), newest first, with their
passed / failed / not applicable counts and a bar of the share that passed, from
:func:`hopia.services.quality.history` (which asks ``quality.history``); one run's report
(``/quality/{run_id}``: its checks grouped by Kahn category and table, failed first, filtered
by state, table and category, a hundred per page), and the form that starts a run as a
background job (``quality.run``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlencode

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
# The category filter (French, as the user reads it) -> the recorded Kahn category.
CATEGORIES: dict[str, quality.KahnCategory] = {
    "conformite": "Conformance",
    "completude": "Completeness",
    "plausibilite": "Plausibility",
}
PAGE = 100  # checks per page of a report (a full catalogue run holds thousands)
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
    request: Request,
    run_id: int,
    etat: Annotated[str | None, Query(max_length=20)] = None,
    table: Annotated[str | None, Query(max_length=50)] = None,
    categorie: Annotated[str | None, Query(max_length=20)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    # An unknown value of a filter is no filter (a hand-edited address reads as "all").
    state = etat if etat in STATES else None
    category = categorie if categorie in CATEGORIES else None
    found = quality.report(
        who.ctx,
        quality.ReportRequest.of(
            run_id=run_id,
            statuses=(STATES[state],) if state else (),
            tables=(table,) if table else (),
            categories=(CATEGORIES[category],) if category else (),
            limit=PAGE,
            offset=(page - 1) * PAGE,
            order="report",
        ),
    )
    chosen = {"etat": state, "table": table or None, "categorie": category}
    return show(
        request,
        who,
        "quality/report.html",
        "/quality",
        report=found,
        groups=group_checks(found.results),
        state=state,
        chosen=chosen,
        states={k: quality.STATUS_FR[v] for k, v in STATES.items()},
        categories={k: quality.KAHN_FR[v] for k, v in CATEGORIES.items()},
        status_fr={s.value: label for s, label in quality.STATUS_FR.items()},
        pages=_pages(run_id, chosen, page, found.total),
        first=found.offset + 1,
        last=found.offset + len(found.results),
        may_run=_may_run(who),
    )


@dataclass(frozen=True)
class Pages:
    """The page links of a report: the filter kept in each address."""

    current: int
    count: int
    previous: str | None
    next: str | None
    all_states: str
    """The address of the same filter without the state (the "tous" link)."""

    def with_state(self, state: str) -> str:
        return self.all_states + ("&" if "?" in self.all_states else "?") + f"etat={state}"


def _pages(run_id: int, chosen: dict[str, str | None], page: int, total: int) -> Pages:
    count = max(1, -(-total // PAGE))

    def address(number: int, keep_state: bool = True) -> str:
        params = {k: v for k, v in chosen.items() if v and (keep_state or k != "etat")}
        if number > 1:
            params["page"] = str(number)
        return f"/quality/{run_id}" + (f"?{urlencode(params)}" if params else "")

    return Pages(
        current=page,
        count=count,
        previous=address(page - 1) if page > 1 else None,
        next=address(page + 1) if page < count else None,
        all_states=address(1, keep_state=False),
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

"""``/api/v1/management/roster``: solve a nurse roster (``management.plan``) from tables sent
as JSON (synchronous, 30 s at most), and read the last one solved (``management.read``)."""

from __future__ import annotations

from fastapi import APIRouter

from hopia.services import roster
from hopia.web.deps import ContextDep
from hopia.web.roles import Allow
from hopia.web.schemas.problem import PROBLEMS

router = APIRouter(responses=PROBLEMS, prefix="/management/roster", tags=["management"])


@router.post(
    "/solve",
    summary="Solve a roster from staff and demand tables (synchronous, time-limited)",
    dependencies=[Allow("management.plan")],
)
def solve(ctx: ContextDep, body: roster.SolveTablesRequest) -> roster.RosterResult:
    return roster.solve_tables(ctx, body)


@router.get("", summary="The last roster this user solved", dependencies=[Allow("management.read")])
def last(ctx: ContextDep) -> roster.RosterResult | None:
    return roster.last(ctx)

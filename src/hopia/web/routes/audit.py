"""``/api/v1/audit``: browse, filter and verify the hash-chained audit log (admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from hopia.services import audit
from hopia.web.deps import ContextDep
from hopia.web.roles import Allow
from hopia.web.schemas.audit import VerifyOut
from hopia.web.schemas.problem import PROBLEMS

router = APIRouter(
    responses=PROBLEMS, prefix="/audit", tags=["audit"], dependencies=[Allow("audit.browse")]
)


@router.get("", summary="Entries, newest first; filters combine")
def browse(
    ctx: ContextDep,
    action: Annotated[str | None, Query(description='An action, or a prefix ending "."')] = None,
    actor: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    break_glass: bool | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> audit.AuditPage:
    return audit.browse(
        ctx,
        audit.BrowseRequest.of(
            action=action,
            actor=actor,
            target=target,
            since=since,
            until=until,
            break_glass=break_glass,
            page=page,
            size=size,
        ),
    )


@router.get("/verify", summary="Check the chain and its head checkpoint")
def verify(ctx: ContextDep) -> VerifyOut:
    result = audit.verify(ctx, audit.VerifyRequest.of())
    return VerifyOut(
        ok=result.ok,
        entries=result.entries,
        head_id=result.head_id,
        broken_at=result.broken_at,
        problem=result.problem,
    )

"""Audit service: check the tamper-evident log (``hopia audit verify``) and browse it (the
web's audit view).

Writing entries is not a service of its own: each service writes its entry in the same
transaction as the access it records (:func:`hopia.platform.audit.record`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select

from hopia.platform import audit
from hopia.platform.times import UtcDatetime
from hopia.platform.warehouse import schema
from hopia.services.context import Context, Request
from hopia.services.warehouse import existing_warehouse


class VerifyRequest(Request):
    expected_head: str | None = None
    """A head hash noted earlier, outside the warehouse: also proves no entry was removed from
    the end since (the head checkpoint beside the keys already does, on every check)."""


def verify(ctx: Context, request: VerifyRequest) -> audit.VerifyResult:
    """Walk the keyed chain and compare its head with the checkpoint kept outside the
    warehouse; the result says where it breaks, if it does: an entry changed, removed or
    inserted, the last entries (or all) deleted, the log rewritten, the checkpoint missing or
    forged. Reading the log is allowed by the policy (``audit.verify``) but not recorded: it
    holds no patient data."""
    ctx.authorize("audit.verify", "audit_log")
    with existing_warehouse(ctx).engine.connect() as conn:
        return audit.verify(conn, request.expected_head)


class BrowseRequest(Request):
    action: str | None = Field(None, max_length=50)
    """An action, or a prefix ending with "." (``auth.``)."""
    actor: str | None = Field(None, max_length=100)
    target: str | None = Field(None, max_length=255)
    since: datetime | None = None
    until: datetime | None = None
    break_glass: bool | None = None
    """Only the accesses made by breaking the glass (True)."""
    page: int = Field(1, ge=1, le=1_000_000)
    size: int = Field(50, ge=1, le=500)


class AuditRow(BaseModel):
    audit_id: int
    at: UtcDatetime
    actor: str
    action: str
    target: str
    reason: str | None
    details: dict[str, Any]
    break_glass: bool


class AuditPage(BaseModel):
    page: int
    size: int
    total: int
    items: list[AuditRow]


def browse(ctx: Context, request: BrowseRequest) -> AuditPage:
    """Entries of the log, newest first, filtered. The admin's (``audit.browse``); the log holds
    identifiers and counts, no patient data, so reading it is not itself recorded."""
    ctx.authorize("audit.browse", "audit_log")
    t = schema.audit_log
    query = select(t)
    if request.action:
        if request.action.endswith("."):
            query = query.where(t.c.action.startswith(request.action, autoescape=True))
        else:
            query = query.where(t.c.action == request.action)
    if request.actor:
        query = query.where(t.c.actor == request.actor)
    if request.target:
        query = query.where(t.c.target == request.target)
    if request.since:
        query = query.where(t.c["at"] >= request.since)
    if request.until:
        query = query.where(t.c["at"] < request.until)
    if request.break_glass is not None:
        flag = '"break_glass":true'
        query = query.where(
            t.c.details.contains(flag) if request.break_glass else ~t.c.details.contains(flag)
        )
    with ctx.warehouse().engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = conn.execute(
            query.order_by(t.c.audit_id.desc())
            .limit(request.size)
            .offset((request.page - 1) * request.size)
        ).all()
    items = []
    for r in rows:
        details = json.loads(r.details or "{}")
        items.append(
            AuditRow(
                audit_id=r.audit_id,
                at=r.at,
                actor=r.actor,
                action=r.action,
                target=r.target,
                reason=r.reason,
                details=details,
                break_glass=details.get("break_glass") is True,
            )
        )
    return AuditPage(page=request.page, size=request.size, total=total, items=items)

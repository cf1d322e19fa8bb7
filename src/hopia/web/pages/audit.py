"""``/audit``: the admin's view of the hash-chained audit log: filters (action or prefix,
actor, target, dates, break-glass accesses only), pages, and the chain's verification, all from
:mod:`hopia.services.audit` (which asks ``audit.browse`` / ``audit.verify``)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from hopia.platform.exceptions import InvalidRequestError
from hopia.services import audit
from hopia.web.pages.common import show, to_login, viewer

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/audit")
def browse(
    request: Request,
    action: Annotated[str | None, Query(max_length=50)] = None,
    acteur: Annotated[str | None, Query(max_length=100)] = None,
    cible: Annotated[str | None, Query(max_length=255)] = None,
    du: Annotated[str, Query(max_length=10)] = "",
    au: Annotated[str, Query(max_length=10)] = "",
    bris_de_glace: bool = False,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    since, until = _day(du, "du"), _day(au, "au")
    found = audit.browse(
        who.ctx,
        audit.BrowseRequest.of(
            action=action or None,
            actor=acteur or None,
            target=cible or None,
            since=datetime.combine(since, time.min) if since else None,
            until=datetime.combine(until, time.max) if until else None,
            break_glass=True if bris_de_glace else None,
            page=page,
            size=PAGE_SIZE,
        ),
    )
    checked = audit.verify(who.ctx, audit.VerifyRequest.of())
    filters = {
        "action": action or "",
        "acteur": acteur or "",
        "cible": cible or "",
        "du": since.isoformat() if since else "",
        "au": until.isoformat() if until else "",
    }
    kept = {k: v for k, v in filters.items() if v}
    if bris_de_glace:
        kept["bris_de_glace"] = "true"
    return show(
        request,
        who,
        "audit/list.html",
        "/audit",
        found=found,
        checked=checked,
        filters=filters,
        glass_only=bris_de_glace,
        last=max(1, -(-found.total // found.size)),
        query=urlencode(kept),
        shown=_shown,
    )


LIST_ITEMS = 12


def _shown(value: object) -> str:
    """A detail of an entry in French words: yes/no, a long list cut (the count stays)."""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        head = ", ".join(map(str, value[:LIST_ITEMS]))
        return head + (f"… ({len(value)} en tout)" if len(value) > LIST_ITEMS else "")
    if value is None:
        return "—"
    return str(value)


def _day(value: str, field: str) -> date | None:
    """A date field of the filter form: empty (the browser sends it so) or ``AAAA-MM-JJ``."""
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidRequestError(
            f"{field} : date attendue au format AAAA-MM-JJ", fields=(field,)
        ) from None

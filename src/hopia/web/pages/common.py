"""What every page of a signed-in user shares: the session's account (or the way to the login
page), the service context, the navigation the role allows, and the form token.

The navigation is read from the one rule table (:func:`hopia.platform.identity.roles.may`):
a link is shown when one of the user's roles may do its action; the service behind the page
still judges every read, so a hidden link is a convenience, never the protection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from hopia.platform.exceptions import AccessDeniedError, AuthenticationError
from hopia.platform.identity.roles import ROLE_LABELS, Role, may
from hopia.platform.identity.store import Account
from hopia.services.context import Context
from hopia.web.deps import context_for, current_account
from hopia.web.pages import csrf
from hopia.web.pages.render import page

# (address, label, actions: shown when the user may do one of them)
NAVIGATION: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("/", "Accueil", ()),
    ("/documents", "Documents", ("document.identified", "document.research")),
    ("/cohorts", "Cohortes", ("cohort.run",)),
    ("/exports", "Exports", ("share.export",)),
    ("/quality", "Qualité", ("quality.history",)),
    ("/jobs", "Tâches", ("jobs.read",)),
    ("/audit", "Journal d'audit", ("audit.browse",)),
    ("/admin/accounts", "Comptes", ("account.list",)),
    ("/assistant", "Assistant", ("assistant.ask",)),
    ("/dictee", "Dictée", ("dictation.draft",)),
    # axis 4: one entry, the dashboards are cards of /pilotage
    ("/pilotage", "Pilotage", ("management.read",)),
)


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of a page request."""

    account: Account
    ctx: Context

    def may(self, action: str) -> bool:
        return may(self.account.principal(), action)

    def role_labels(self) -> list[str]:
        return [ROLE_LABELS.get(Role(r), r) for r in self.account.roles if r in set(Role)]


def viewer(request: Request) -> Viewer | None:
    """The session's user, or None (the page then sends the browser to the login page)."""
    try:
        account = current_account(request)
    except AuthenticationError:
        return None
    return Viewer(account, context_for(request, account.principal()))


def to_login() -> Response:
    return RedirectResponse("/login", status_code=303)


def navigation(who: Viewer, current: str) -> list[dict[str, Any]]:
    return [
        {
            "href": href,
            "label": label,
            # a section's own pages too ("/pilotage/carbone" is under "Pilotage")
            "current": href == current or (href != "/" and current.startswith(href + "/")),
        }
        for href, label, actions in NAVIGATION
        if not actions or any(who.may(a) for a in actions)
    ]


def show(
    request: Request, who: Viewer, template: str, section: str, status: int = 200, **values: Any
) -> Response:
    """``template`` for ``who``: the navigation of their role, their name and the form token
    (every page has the logout form)."""
    token = csrf.token_for(request)
    response = page(
        request,
        template,
        status,
        who=who,
        nav=navigation(who, section),
        csrf=token,
        **values,
    )
    csrf.set_token(response, request, token)
    return response


def outside_perimeter(
    request: Request, who: Viewer, exc: AccessDeniedError, glass_action: str, what: str
) -> Response:
    """The French 403 page of a record outside the clinician's perimeter, with the form that
    asks a break-glass reason when the role may break the glass; any other refusal is raised
    again (the application's error page)."""
    if not exc.details.get("outside_perimeter"):
        raise exc
    return show(
        request,
        who,
        "patients/refused.html",
        "/documents",
        403,
        glass_action=glass_action,
        what=what,
        message=exc.message,
        glass=bool(exc.details.get("break_glass")),
    )

"""``/admin/accounts``: the administrator's account pages. Every change goes through
:mod:`hopia.services.accounts`, which asks the rules (``account.*``, the admin's), checks the
password policy and the perimeter, keeps the last active administrator, closes the sessions of
a changed account and audits the change; a refusal it explains is shown in the form (422),
with what was typed (never the password)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hopia.platform.exceptions import ConflictError, InvalidRequestError
from hopia.platform.identity.roles import ROLE_LABELS, Role
from hopia.platform.identity.store import Account, utcnow
from hopia.services import accounts
from hopia.web.pages import csrf
from hopia.web.pages.common import Viewer, show, to_login, viewer

router = APIRouter(include_in_schema=False)
SECTION = "/admin/accounts"
# What a redirect after a change says (a code in the address, never free text from it).
DONE = {
    "cree": "Compte créé.",
    "modifie": "Compte modifié.",
    "mot-de-passe": "Mot de passe défini ; le compte est déverrouillé et ses sessions fermées.",
}
FORM_ERRORS = (InvalidRequestError, ConflictError)


def role_choices() -> list[tuple[str, str]]:
    return [(r.value, ROLE_LABELS.get(r, r.value)) for r in Role]


def state_of(account: Account, now: datetime) -> str:
    if not account.active:
        return "désactivé"
    return "verrouillé" if account.locked(now) else "actif"


@router.get("/admin/accounts")
def account_list(request: Request, fait: str = "") -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    return _list(request, who, done=DONE.get(fait))


@router.post("/admin/accounts")
def account_create(
    request: Request,
    username: Annotated[str, Form(max_length=100)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    care_sites: Annotated[list[int] | None, Form()] = None,
    password: Annotated[str, Form(max_length=256)] = "",
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    asked = {
        "username": username,
        "display_name": display_name,
        "roles": roles or [],
        "care_sites": care_sites or [],
    }
    try:
        request_ = accounts.CreateAccountRequest.of(
            username=username.strip(),
            display_name=display_name.strip() or None,
            roles=roles or [],
            care_sites=care_sites or [],
            password=password or None,
        )
        created = accounts.create_account(who.ctx, request_)
    except FORM_ERRORS as exc:
        return _list(request, who, error=exc.message, asked=asked, status=422)
    return RedirectResponse(f"{_address(created.username)}?fait=cree", status_code=303)


@router.get("/admin/accounts/{username}")
def account_edit(request: Request, username: str, fait: str = "") -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    found = accounts.account_details(who.ctx, accounts.UsernameRequest.of(username=username))
    return _edit(request, who, found, done=DONE.get(fait))


@router.post("/admin/accounts/{username}")
def account_update(
    request: Request,
    username: str,
    display_name: Annotated[str, Form(max_length=200)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    care_sites: Annotated[list[int] | None, Form()] = None,
    disabled: Annotated[bool, Form()] = False,
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    # The form shows every field: what is not checked is meant to be off.
    asked = {
        "display_name": display_name,
        "roles": roles or [],
        "care_sites": care_sites or [],
        "disabled": disabled,
    }
    try:
        request_ = accounts.UpdateAccountRequest.of(
            username=username,
            display_name=display_name.strip(),
            roles=roles or [],
            care_sites=care_sites or [],
            active=not disabled,
        )
        accounts.update_account(who.ctx, request_)
    except FORM_ERRORS as exc:
        current = accounts.account_details(who.ctx, accounts.UsernameRequest.of(username=username))
        return _edit(request, who, current, error=exc.message, asked=asked, status=422)
    return RedirectResponse(f"{_address(username)}?fait=modifie", status_code=303)


@router.post("/admin/accounts/{username}/password")
def account_password(
    request: Request,
    username: str,
    password: Annotated[str, Form(max_length=256)] = "",
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    try:
        request_ = accounts.PasswordRequest.of(username=username, password=password)
        accounts.set_password(who.ctx, request_)
    except FORM_ERRORS as exc:
        current = accounts.account_details(who.ctx, accounts.UsernameRequest.of(username=username))
        return _edit(request, who, current, password_error=exc.message, status=422)
    return RedirectResponse(f"{_address(username)}?fait=mot-de-passe", status_code=303)


def _address(username: str) -> str:
    return f"/admin/accounts/{quote(username, safe='')}"


def _list(
    request: Request,
    who: Viewer,
    *,
    done: str | None = None,
    error: str | None = None,
    asked: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    found = accounts.account_overview(who.ctx)  # the admin's (a French 403 for anyone else)
    sites = accounts.list_care_sites(who.ctx)
    now = utcnow()
    return show(
        request,
        who,
        "admin/accounts.html",
        SECTION,
        status,
        rows=[(o, state_of(o.account, now)) for o in found],
        role_labels=dict(role_choices()),
        role_choices=role_choices(),
        sites=sites,
        site_names={s.care_site_id: s.name for s in sites},
        done=done,
        error=error,
        asked=asked or {"roles": [], "care_sites": []},
    )


def _edit(
    request: Request,
    who: Viewer,
    found: accounts.AccountOverview,
    *,
    done: str | None = None,
    error: str | None = None,
    password_error: str | None = None,
    asked: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    sites = accounts.list_care_sites(who.ctx)
    account = found.account
    current = asked or {
        "display_name": account.display_name or "",
        "roles": list(account.roles),
        "care_sites": list(account.care_sites),
        "disabled": not account.active,
    }
    return show(
        request,
        who,
        "admin/account.html",
        SECTION,
        status,
        account=account,
        found=found,
        state=state_of(account, utcnow()),
        role_choices=role_choices(),
        sites=sites,
        done=done,
        error=error,
        password_error=password_error,
        asked=current,
    )

"""External login service: a user an identity provider (OIDC) vouched for gets a session.

The front end (the web's OIDC callback, :mod:`hopia.web.auth.oidc_pages`) checks the provider's
answer (state, PKCE, the ID token's signature, issuer, audience and nonce) and hands the
verified claims here. The rules, whatever the provider (Keycloak, Pro Santé Connect: settings
``web.oidc`` only):

- the provider's subject ``(issuer, sub)`` is linked to one local account
  (``hopia_meta.external_identity``); at the first login the account is created without a
  password (*external*: it logs in through its provider only), or, when an administrator made
  an account of that name without a password beforehand (to set a clinician's perimeter), that
  account is linked; a local account with a password is never taken over;
- the roles come from the claim ``web.oidc.roles_claim`` through ``web.oidc.role_mapping``, set
  again at every login (the provider is the reference); no Hopia role: refused;
- the perimeter comes from ``web.oidc.perimeter_claim`` when set, else stays as the
  administrator set it; a clinician without a perimeter is refused;
- a disabled account is refused, whatever the provider says;
- then the same server-side session as a local login. Audited: ``auth.login`` (method oidc,
  the roles and the claim values that granted them), ``account.create`` / ``account.update``
  when the claims changed the account, ``auth.login_failed`` (why) on a refusal.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from pydantic import Field

from hopia.platform import audit
from hopia.platform.config import OidcSettings
from hopia.platform.exceptions import ExternalLoginRefusedError
from hopia.platform.identity import external, store
from hopia.platform.identity.roles import Role
from hopia.platform.identity.store import Account
from hopia.services.accounts import USERNAME, Login
from hopia.services.context import Context, Request
from hopia.services.warehouse import existing_warehouse

METHOD = "oidc"
_NOT_IN_NAME = re.compile(r"[^a-z0-9._-]+")


class ExternalLoginRequest(Request):
    issuer: str = Field(min_length=1, max_length=300)
    subject: str = Field(min_length=1, max_length=255)
    claims: dict[str, Any]
    """The verified claims: the ID token's, with the userinfo endpoint's on top."""
    id_token: str | None = Field(None, max_length=100_000)
    """The raw ID token, kept server-side with the session for the provider's logout."""


def claim_values(claims: Mapping[str, Any], path: str | None) -> list[str]:
    """The values at a dotted path (``realm_access.roles``), through objects and lists:
    ``SubjectRefPro.exercices.codeProfession`` gathers the code of every exercice.

    >>> claim_values({"a": [{"b": "x"}, {"b": ["y", 3]}]}, "a.b")
    ['x', 'y', '3']
    """
    if not path:
        return []
    found: list[Any] = [claims]
    for key in path.split("."):
        step: list[Any] = []
        for value in found:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, Mapping) and key in item:
                    step.append(item[key])
        found = step
    flat: list[str] = []
    for value in found:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str | int | float) and not isinstance(item, bool):
                flat.append(str(item))
    return flat


def roles_from(oidc: OidcSettings, values: Iterable[str]) -> list[str]:
    known = {r.value for r in Role}
    return sorted({r for v in values for r in oidc.role_mapping.get(v, []) if r in known})


def username_from(oidc: OidcSettings, claims: Mapping[str, Any], subject: str) -> str:
    """The Hopia user name: the configured claim (the subject when absent), lower-cased,
    accents dropped, any other character a user name may not hold turned into '-'
    (``Zoé@chu.fr`` -> ``zoe-chu.fr``); ``oidc-<hash of the subject>`` when nothing is left."""
    raw = next(iter(claim_values(claims, oidc.username_claim)), None) or subject
    plain = "".join(c for c in unicodedata.normalize("NFKD", raw) if not unicodedata.combining(c))
    name = _NOT_IN_NAME.sub("-", plain.strip().lower()).strip("-._")[:100]
    if USERNAME.fullmatch(name):
        return name
    return "oidc-" + hashlib.sha256(subject.encode()).hexdigest()[:12]


def _perimeter(oidc: OidcSettings, claims: Mapping[str, Any]) -> list[int] | None:
    if not oidc.perimeter_claim:
        return None
    return sorted({int(v) for v in claim_values(claims, oidc.perimeter_claim) if v.isdigit()})


def _target(username: str) -> str:
    return f"account:{username}"


def external_login(ctx: Context, request: ExternalLoginRequest) -> Login:
    """Create or update the linked account from the claims, then open a session. Refusals are
    :class:`ExternalLoginRefusedError` (French, 403), audited and committed first."""
    oidc, web = ctx.settings.web.oidc, ctx.settings.web
    claims = request.claims
    granting = claim_values(claims, oidc.roles_claim)
    roles = roles_from(oidc, granting)
    perimeter = _perimeter(oidc, claims)
    username = username_from(oidc, claims, request.subject)
    name = next(iter(claim_values(claims, oidc.name_claim)), None)
    display_name = name[:200] if name else None
    refused: ExternalLoginRefusedError | None = None
    with existing_warehouse(ctx).begin() as conn:
        link = external.find(conn, request.issuer, request.subject)
        account: Account | None = None
        if link is not None:
            account = store.get_account_by_id(conn, link.account_id)
        else:
            account = store.get_account(conn, username)
            if account is not None and (
                account.has_password or external.of_account(conn, account.account_id)
            ):
                refused = _refuse(
                    conn,
                    account.username,
                    "name_taken",
                    f"le nom d'utilisateur « {username} » est celui d'un autre compte Hopia : "
                    "un administrateur doit le libérer avant cette connexion",
                )
        if refused is None:
            refused = _check(conn, oidc, account, username, roles, perimeter)
        if refused is None:
            sites = (
                perimeter if perimeter is not None else list(account.care_sites if account else [])
            )
            account = _create_or_update(conn, account, username, display_name, roles, sites)
            if link is None:
                external.link(conn, request.issuer, request.subject, account.account_id)
            external.note_login(conn, request.issuer, request.subject)
            store.record_success(conn, account.account_id)
            store.purge_sessions(conn, timedelta(minutes=web.idle_minutes))
            lifetime = timedelta(hours=web.session_hours)
            token = store.create_session(conn, account.account_id, lifetime)
            if request.id_token:
                store.keep_id_token(conn, token, request.id_token)
            audit.record(
                conn,
                account.username,
                "auth.login",
                _target(account.username),
                None,
                {
                    "method": METHOD,
                    "issuer": request.issuer,
                    "roles": list(account.roles),
                    "granted_by": sorted(set(granting) & set(oidc.role_mapping)),
                },
            )
    if refused is not None:
        raise refused
    return Login(account, token, store.utcnow() + lifetime)


def _check(
    conn: Any,
    oidc: OidcSettings,
    account: Account | None,
    username: str,
    roles: list[str],
    perimeter: list[int] | None,
) -> ExternalLoginRefusedError | None:
    """Why the login is refused (audited here), or None."""
    who = account.username if account is not None else username
    if account is not None and not account.active:
        return _refuse(conn, who, "inactive", "ce compte Hopia est désactivé : connexion refusée")
    if not roles:
        return _refuse(
            conn,
            who,
            "no_role",
            f"aucun rôle Hopia ne correspond à vos droits chez {oidc.provider_name} : "
            "demandez l'accès à un administrateur",
        )
    sites = perimeter if perimeter is not None else (account.care_sites if account else ())
    if Role.CLINICIAN.value in roles and not sites:
        return _refuse(
            conn,
            who,
            "no_perimeter",
            "compte clinicien sans périmètre : un administrateur doit lui attribuer au moins un "
            "service avant la connexion",
        )
    return None


def _refuse(conn: Any, username: str, why: str, message: str) -> ExternalLoginRefusedError:
    audit.record(
        conn,
        username,
        "auth.login_failed",
        _target(username),
        None,
        {"why": why, "method": METHOD, "locked": False},
    )
    return ExternalLoginRefusedError(message, details={"why": why})


def _described(account: Account) -> dict[str, object]:
    return {
        "roles": list(account.roles),
        "care_sites": list(account.care_sites),
        "active": account.active,
    }


def _create_or_update(
    conn: Any,
    account: Account | None,
    username: str,
    display_name: str | None,
    roles: list[str],
    sites: list[int],
) -> Account:
    if account is None:
        made = store.insert_account(
            conn,
            username,
            display_name=display_name,
            password_hash=None,
            roles=roles,
            care_sites=sites,
        )
        audit.record(
            conn,
            username,
            "account.create",
            _target(username),
            None,
            {**_described(made), "password": False, "external": METHOD},
        )
        return made
    store.update_account(
        conn, account.account_id, display_name=display_name, roles=roles, care_sites=sites
    )
    after = store.get_account_by_id(conn, account.account_id)
    assert after is not None
    if _described(after) != _described(account):
        closed = store.delete_sessions_of(conn, after.account_id)
        audit.record(
            conn,
            after.username,
            "account.update",
            _target(after.username),
            None,
            {
                "before": _described(account),
                "after": _described(after),
                "sessions_closed": closed,
                "external": METHOD,
            },
        )
    return after

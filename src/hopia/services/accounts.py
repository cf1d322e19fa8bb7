"""Accounts service: local accounts, roles and perimeters (admin), login and sessions.

The rules, for every front end (``hopia account …`` and the web API):

- account changes are the admin's (``account.<action>``, asked first) and audited
  (``account.create``, ``account.update``, ``account.password``): the user name, the roles,
  the perimeter; never a password or a hash;
- a password follows the policy (:func:`hopia.platform.identity.passwords.check_password`) and
  is stored as an argon2id hash;
- a login checks the lockout, then the password; a failure is counted in the warehouse (every
  web worker sees it) and audited (``auth.login_failed``); after ``web.max_failed_logins``
  failures in a row the account is locked for ``web.lockout_minutes``; a success opens a
  server-side session (``auth.login``), whose token only the caller gets;
- a disabled account, or one whose roles, perimeter or password changed, loses its sessions;
- the last active administrator can be neither disabled nor deprived of the admin role.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import Field, field_validator

from hopia.platform import audit
from hopia.platform.exceptions import (
    AccountLockedError,
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    LoginRateLimitedError,
    NotFoundError,
)
from hopia.platform.identity import passwords, store
from hopia.platform.identity.roles import Role
from hopia.platform.identity.store import Account
from hopia.services.context import Context, Request
from hopia.services.warehouse import existing_warehouse

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,99}")
_BAD_LOGIN = "identifiant ou mot de passe incorrect"


class _Roles(Request):
    @field_validator("roles", check_fields=False)
    @classmethod
    def _known_roles(cls, roles: list[str] | None) -> list[str] | None:
        if roles is None:
            return None
        known = [r.value for r in Role]
        unknown = [r for r in roles if r not in known]
        if unknown:
            raise ValueError(f"rôle(s) inconnu(s) {unknown} : rôles possibles {known}")
        return sorted(set(roles))


class CreateAccountRequest(_Roles):
    # Anchored: pydantic searches a pattern (it would take "Dr Martin!" for its "r").
    username: str = Field(pattern=f"^{USERNAME.pattern}$")
    """Lower case letters, digits, '.', '_' or '-', 2 to 100 characters."""
    password: str | None = None
    """None: no local password yet (set later, or an identity provider's account)."""
    roles: list[str] = Field(min_length=1)
    care_sites: list[int] = []
    display_name: str | None = Field(None, max_length=200)


class UpdateAccountRequest(_Roles):
    username: str
    roles: list[str] | None = Field(None, min_length=1)
    """None: unchanged; an account keeps at least one role (disable it instead)."""
    care_sites: list[int] | None = None
    active: bool | None = None
    display_name: str | None = Field(None, max_length=200)


class PasswordRequest(Request):
    username: str
    password: str


class UsernameRequest(Request):
    username: str


class LoginRequest(Request):
    username: str = Field(max_length=100)
    password: str = Field(max_length=passwords.MAX_PASSWORD_CHARS)
    client: str | None = Field(None, max_length=100)
    """The client's network address (the web's), for the per-address rate limit; stored as a
    keyed hash only."""


@dataclass(frozen=True)
class Login:
    account: Account
    token: str
    """The session token: the cookie's value; stored only as its SHA-256."""
    expires_at: datetime


def _target(username: str) -> str:
    return f"account:{username}"


def _described(account: Account) -> dict[str, object]:
    return {
        "roles": list(account.roles),
        "care_sites": list(account.care_sites),
        "active": account.active,
    }


def _check_perimeter(roles: list[str], care_sites: list[int]) -> None:
    if Role.CLINICIAN.value in roles and not care_sites:
        raise InvalidRequestError(
            "un compte clinicien a un périmètre : au moins un service (care_site) est obligatoire",
            fields=("care_sites",),
        )


def create_account(ctx: Context, request: CreateAccountRequest) -> Account:
    """A new active account, audited (``account.create``)."""
    if request.password is not None:
        passwords.check_password(request.password, request.username)
    _check_perimeter(request.roles, request.care_sites)
    ctx.authorize("account.create", _target(request.username))
    hashed = passwords.hash_password(request.password) if request.password else None
    with existing_warehouse(ctx).begin() as conn:
        if store.get_account(conn, request.username) is not None:
            raise ConflictError(
                f"le compte « {request.username} » existe déjà", fields=("username",)
            )
        account = store.insert_account(
            conn,
            request.username,
            display_name=request.display_name,
            password_hash=hashed,
            roles=request.roles,
            care_sites=request.care_sites,
        )
        audit.record(
            conn,
            ctx.actor,
            "account.create",
            _target(account.username),
            None,
            {**_described(account), "password": hashed is not None},
        )
    return account


def list_accounts(ctx: Context) -> list[Account]:
    ctx.authorize("account.list", "accounts")
    with existing_warehouse(ctx).engine.connect() as conn:
        return store.list_accounts(conn)


@dataclass(frozen=True)
class AccountOverview:
    """An account as the administration page lists it."""

    account: Account
    issuer: str | None
    """The identity provider it logs in through (OIDC), None for a local account."""
    last_login: datetime | None
    """Its last successful login (UTC), from the audit log; None when it never logged in."""

    @property
    def origin(self) -> str:
        return "oidc" if self.issuer else "local"


@dataclass(frozen=True)
class CareSite:
    care_site_id: int
    name: str | None


def account_overview(ctx: Context) -> list[AccountOverview]:
    """Every account with its origin (local or identity provider) and its last login. Counts
    no patient data: not audited, as :func:`list_accounts`."""
    ctx.authorize("account.list", "accounts")
    with existing_warehouse(ctx).engine.connect() as conn:
        found = store.list_accounts(conn)
        external = store.external_accounts(conn)
        last = store.last_logins(conn)
    return [AccountOverview(a, external.get(a.account_id), last.get(a.username)) for a in found]


def account_details(ctx: Context, request: UsernameRequest) -> AccountOverview:
    """One account with its origin and its last login (:class:`NotFoundError` when unknown)."""
    ctx.authorize("account.list", _target(request.username))
    with existing_warehouse(ctx).engine.connect() as conn:
        account = _existing(conn, request.username)
        issuer = store.external_accounts(conn).get(account.account_id)
        last = store.last_logins(conn, account.username).get(account.username)
    return AccountOverview(account, issuer, last)


def list_care_sites(ctx: Context) -> list[CareSite]:
    """The care sites of the warehouse, what an administrator picks a perimeter from."""
    ctx.authorize("account.list", "care_sites")
    with existing_warehouse(ctx).engine.connect() as conn:
        return [CareSite(i, name) for i, name in store.care_sites(conn)]


def get_account(ctx: Context, request: UsernameRequest) -> Account:
    ctx.authorize("account.list", _target(request.username))
    with existing_warehouse(ctx).engine.connect() as conn:
        return _existing(conn, request.username)


def _existing(conn: object, username: str) -> Account:
    account = store.get_account(conn, username)  # type: ignore[arg-type]
    if account is None:
        raise NotFoundError(f"compte « {username} » introuvable", fields=("username",))
    return account


def update_account(ctx: Context, request: UpdateAccountRequest) -> Account:
    """Roles, perimeter, name or state of an account, audited (``account.update``: before and
    after). A change of roles, perimeter or state closes the account's sessions."""
    ctx.authorize("account.update", _target(request.username))
    with existing_warehouse(ctx).begin() as conn:
        before = _existing(conn, request.username)
        roles = request.roles if request.roles is not None else list(before.roles)
        sites = request.care_sites if request.care_sites is not None else list(before.care_sites)
        _check_perimeter(roles, sites)
        store.update_account(
            conn,
            before.account_id,
            display_name=request.display_name,
            roles=request.roles,
            care_sites=request.care_sites,
            active=request.active,
        )
        after = _existing(conn, request.username)
        if _active_admin(before) and not _active_admin(after):
            _keep_an_admin(conn, before.username)  # raises: the transaction rolls back
        closed = 0
        if _described(after) != _described(before):
            closed = store.delete_sessions_of(conn, after.account_id)
        audit.record(
            conn,
            ctx.actor,
            "account.update",
            _target(after.username),
            None,
            {"before": _described(before), "after": _described(after), "sessions_closed": closed},
        )
    return after


def _active_admin(account: Account) -> bool:
    return account.active and Role.ADMIN.value in account.roles


def _keep_an_admin(conn: object, username: str) -> None:
    """Refuse a change that leaves no active administrator: nobody could manage the accounts
    from the web any more (only ``hopia account`` on the server would)."""
    if not any(_active_admin(a) for a in store.list_accounts(conn)):  # type: ignore[arg-type]
        raise ConflictError(
            f"« {username} » est le dernier administrateur actif : créez ou réactivez d'abord "
            "un autre compte administrateur (champs roles, active)",
            fields=("roles", "active"),
        )


def set_password(ctx: Context, request: PasswordRequest) -> Account:
    """A new password (policy checked, argon2id), lockout lifted, sessions closed; audited
    (``account.password``), without the password."""
    passwords.check_password(request.password, request.username)
    ctx.authorize("account.password", _target(request.username))
    hashed = passwords.hash_password(request.password)
    with existing_warehouse(ctx).begin() as conn:
        account = _existing(conn, request.username)
        store.update_account(conn, account.account_id, password_hash=hashed)
        closed = store.delete_sessions_of(conn, account.account_id)
        audit.record(
            conn,
            ctx.actor,
            "account.password",
            _target(account.username),
            None,
            {"sessions_closed": closed},
        )
        return _existing(conn, request.username)


# -- login and sessions --------------------------------------------------------------------------


def login(ctx: Context, request: LoginRequest) -> Login:
    """Check the password and open a session. Wrong name and wrong password get the same
    answer (:class:`AuthenticationError`); a locked account gets :class:`AccountLockedError`.
    Failures are committed before the error is raised: they must count."""
    web = ctx.settings.web
    wh = existing_warehouse(ctx)
    window = timedelta(minutes=web.lockout_minutes)
    address = _address_hash(ctx, request.client)
    with wh.engine.connect() as conn:
        found = store.password_hash_of(conn, request.username)
        tries = store.address_failures(conn, address, window) if address else 0
    if tries >= web.max_failed_logins_per_address:
        _audit_failure(ctx, request.username if found else None, "address_limited")
        raise LoginRateLimitedError(
            f"trop de tentatives de connexion depuis cette adresse : réessayez dans "
            f"{web.lockout_minutes:g} minutes",
            details={"window_minutes": web.lockout_minutes},
        )
    account, stored = found if found else (None, None)
    now = store.utcnow()
    if account is not None and account.locked(now):
        _audit_failure(ctx, request.username, "locked")
        raise _locked(account.locked_until or now)
    usable = stored if account is not None and account.active else None
    if not passwords.verify_password(usable, request.password):
        locked_until = None
        with wh.begin() as conn:
            if address:
                store.record_address_failure(conn, address, window)
            if account is not None:
                locked_until = store.record_failure(
                    conn,
                    account.account_id,
                    max_failures=web.max_failed_logins,
                    lockout=timedelta(minutes=web.lockout_minutes),
                )
            _record_failure(
                conn,
                ctx,
                request.username if account else None,
                "inactive" if account and not account.active else "password",
                locked_until,
            )
        if locked_until is not None:
            raise _locked(locked_until)
        raise AuthenticationError(_BAD_LOGIN, fields=("username", "password"))
    assert account is not None
    rehash = stored is not None and passwords.needs_rehash(stored)
    new_hash = passwords.hash_password(request.password) if rehash else None
    with wh.begin() as conn:
        store.record_success(conn, account.account_id)
        if new_hash:
            store.update_account(conn, account.account_id, password_hash=new_hash)
        store.purge_sessions(conn, timedelta(minutes=web.idle_minutes))
        lifetime = timedelta(hours=web.session_hours)
        token = store.create_session(conn, account.account_id, lifetime)
        audit.record(conn, account.username, "auth.login", _target(account.username))
    return Login(account, token, store.utcnow() + lifetime)


def _address_hash(ctx: Context, client: str | None) -> str | None:
    """A keyed hash of the client address (the audit key: an address is personal data, and
    IPv4 addresses are few enough to be found back from a plain hash)."""
    if not client:
        return None
    return hmac.new(ctx.audit_key(), client.encode(), hashlib.sha256).hexdigest()


def _locked(until: datetime) -> AccountLockedError:
    return AccountLockedError(
        f"compte verrouillé après trop d'échecs de connexion, jusqu'à {until:%H:%M} (UTC) ; "
        "un administrateur peut le débloquer en changeant le mot de passe",
        details={"locked_until": until.isoformat(timespec="seconds")},
    )


def _audit_failure(ctx: Context, username: str | None, why: str) -> None:
    with existing_warehouse(ctx).begin() as conn:
        _record_failure(conn, ctx, username, why, None)


def _record_failure(
    conn: object, ctx: Context, username: str | None, why: str, locked: datetime | None
) -> None:
    # An unknown name is not recorded: users type their password in the name field.
    audit.record(
        conn,  # type: ignore[arg-type]
        username or "anonyme",
        "auth.login_failed",
        _target(username or "?"),
        None,
        {"why": why if username else "unknown_user", "locked": locked is not None},
    )


def authenticate(ctx: Context, token: str | None) -> Account:
    """The account of a live session token (:class:`AuthenticationError` when there is none).
    Read only, except every minute of use (the idle clock) and for a dead session (deleted).
    A live session read in the last ``web.session_cache_seconds`` is not read again
    (:class:`~hopia.platform.identity.store.SessionCache`: its revocation rule)."""
    if token:
        wh = existing_warehouse(ctx)
        idle = timedelta(minutes=ctx.settings.web.idle_minutes)
        ttl = ctx.settings.web.session_cache_seconds
        cached = store.SESSIONS.get(wh.engine, token, idle, ttl)
        if cached is not None:
            return cached
        generation = store.SESSIONS.generation
        with wh.engine.connect() as conn:
            state = store.find_session(conn, token, idle)
        if state.dead or state.stale:
            with wh.begin() as conn:
                (store.delete_session if state.dead else store.touch)(conn, token)
        else:
            store.SESSIONS.put(wh.engine, token, state, generation, ttl)
        if state.account is not None:
            return state.account
    raise AuthenticationError("connexion requise : session absente ou expirée")


def logout(ctx: Context, token: str) -> str | None:
    """Close the session (``auth.logout``). Returns the identity provider's ID token of the
    session, if it was opened through one (OIDC), for the logout at the provider
    (``id_token_hint``); it is deleted with the session."""
    with existing_warehouse(ctx).begin() as conn:
        id_token = store.id_token_of(conn, token)
        if store.delete_session(conn, token):
            # as its auth.login: a session of the identity provider says so
            details = {"method": "oidc"} if id_token is not None else None
            audit.record(conn, ctx.actor, "auth.logout", _target(ctx.actor), None, details)
        else:
            id_token = None
    return id_token

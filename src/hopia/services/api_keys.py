"""Per-user API keys for the OpenAI-compatible endpoints (``/v1``).

A key is 256 random bits, shown once when it is created (``hop_…``); the warehouse keeps its
SHA-256 only (``hopia_meta.api_key``, migration 9). A key acts as its account: the same roles,
the same quotas, the same audit name; revoking it or deactivating the account ends it at the
next request. A web user manages their own keys; the CLI's operator names the account.
Creation and revocation are audited (``assistant.key.create`` / ``assistant.key.revoke``);
a request authenticated by a key is audited by the service it calls.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import Field
from sqlalchemy import select, update

from hopia.platform import audit
from hopia.platform.exceptions import AuthenticationError, NotFoundError
from hopia.platform.identity import store
from hopia.platform.identity.store import Account, utcnow
from hopia.platform.warehouse import schema as s
from hopia.services.context import Context, Request
from hopia.services.warehouse import existing_warehouse

PREFIX = "hop_"
KEYS_ACTION = "assistant.keys"
# A key's last use is written at most this often: a request must not cost a write each.
_TOUCH_EVERY = timedelta(minutes=5)


class CreateKeyRequest(Request):
    label: str = Field(min_length=1, max_length=100)
    username: str | None = Field(None, max_length=100)  # the CLI's operator names the account


class KeyRequest(Request):
    key_id: str = Field(min_length=1, max_length=32)
    username: str | None = Field(None, max_length=100)


class ListKeysRequest(Request):
    username: str | None = Field(None, max_length=100)


@dataclass(frozen=True)
class ApiKeyView:
    key_id: str
    username: str
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class CreatedKey:
    view: ApiKeyView
    key: str  # shown once, never stored


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _owner(ctx: Context, conn: object, username: str | None) -> Account:
    name = username or ctx.principal.user
    account = store.get_account(conn, name)  # type: ignore[arg-type]
    if account is None:
        raise NotFoundError(f"compte inconnu : « {name} »", fields=("username",))
    return account


def _view(row: object, username: str) -> ApiKeyView:
    return ApiKeyView(
        row.key_id,  # type: ignore[attr-defined]
        username,
        row.label,  # type: ignore[attr-defined]
        row.created_at,  # type: ignore[attr-defined]
        row.last_used_at,  # type: ignore[attr-defined]
        row.revoked_at,  # type: ignore[attr-defined]
    )


def _authorize(ctx: Context, username: str | None) -> None:
    """One's own keys: ``assistant.keys``; another account's: also ``account.api_keys`` (the
    CLI's operator, the admin)."""
    ctx.authorize(KEYS_ACTION, f"account:{username or ctx.principal.user}")
    if username is not None and username != ctx.principal.user:
        ctx.authorize("account.api_keys", f"account:{username}")


def create_key(ctx: Context, request: CreateKeyRequest) -> CreatedKey:
    """A new key for the account (the caller's own on the web)."""
    _authorize(ctx, request.username)
    key = PREFIX + secrets.token_urlsafe(32)
    with existing_warehouse(ctx).begin() as conn:
        account = _owner(ctx, conn, request.username)
        key_id, now = secrets.token_hex(8), utcnow()
        conn.execute(
            s.api_key.insert().values(
                key_id=key_id,
                account_id=account.account_id,
                key_hash=key_hash(key),
                label=request.label,
                created_at=now,
            )
        )
        audit.record(
            conn, ctx.actor, "assistant.key.create", f"account:{account.username}", None,
            {"key_id": key_id, "label": request.label},
        )  # fmt: skip
    return CreatedKey(ApiKeyView(key_id, account.username, request.label, now, None, None), key)


def list_keys(ctx: Context, request: ListKeysRequest) -> list[ApiKeyView]:
    """The account's keys, newest first (never the keys themselves)."""
    _authorize(ctx, request.username)
    with existing_warehouse(ctx).engine.connect() as conn:
        account = _owner(ctx, conn, request.username)
        rows = conn.execute(
            select(s.api_key)
            .where(s.api_key.c.account_id == account.account_id)
            .order_by(s.api_key.c.created_at.desc())
        ).all()
    return [_view(r, account.username) for r in rows]


def revoke_key(ctx: Context, request: KeyRequest) -> ApiKeyView:
    """Revoke one of the account's keys (unknown, or someone else's: 404)."""
    _authorize(ctx, request.username)
    with existing_warehouse(ctx).begin() as conn:
        account = _owner(ctx, conn, request.username)
        where = (s.api_key.c.key_id == request.key_id) & (
            s.api_key.c.account_id == account.account_id
        )
        row = conn.execute(select(s.api_key).where(where)).first()
        if row is None:
            raise NotFoundError(f"clé inconnue : « {request.key_id} »", fields=("key_id",))
        if row.revoked_at is None:
            store.SESSIONS.forget(conn)  # drops the cached keys too (store.KeyCache)
            conn.execute(update(s.api_key).where(where).values(revoked_at=utcnow()))
            audit.record(
                conn, ctx.actor, "assistant.key.revoke", f"account:{account.username}", None,
                {"key_id": request.key_id},
            )  # fmt: skip
        row = conn.execute(select(s.api_key).where(where)).one()
    return _view(row, account.username)


def authenticate_key(ctx: Context, key: str | None) -> Account:
    """The active account of a live key; :class:`AuthenticationError` otherwise (the same
    message whatever failed: unknown, revoked, account inactive). A live key read in the last
    ``web.session_cache_seconds`` is not read again (:class:`~hopia.platform.identity.store.
    KeyCache`: revoked here, refused at once; revoked by another process, within that time)."""
    refused = AuthenticationError("clé d'API invalide, révoquée ou compte désactivé")
    if not key or not key.startswith(PREFIX) or len(key) > 200:
        raise refused
    wh = existing_warehouse(ctx)
    digest, ttl = key_hash(key), ctx.settings.web.session_cache_seconds
    cached = store.API_KEYS.get(wh.engine, digest, ttl)
    if cached is not None:
        return cached
    generation = store.SESSIONS.generation
    with wh.engine.connect() as conn:
        row = conn.execute(select(s.api_key).where(s.api_key.c.key_hash == digest)).first()
        account = store.get_account_by_id(conn, row.account_id) if row is not None else None
    if row is None or row.revoked_at is not None or account is None or not account.active:
        raise refused
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
        with wh.begin() as conn:
            conn.execute(
                update(s.api_key).where(s.api_key.c.key_id == row.key_id).values(last_used_at=now)
            )
    store.API_KEYS.put(wh.engine, digest, account, generation, ttl)
    return account

"""Accounts and sessions in the warehouse (``hopia_meta.account``, ``hopia_meta.web_session``).

Everything a login depends on lives in the database, not in a process's memory: several web
workers (on PostgreSQL) see the same sessions and count failed logins together. Functions take
the caller's connection, so that a change and its audit entry commit together. Times are UTC,
naive (as the audit log's).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from hopia.platform.access import Principal
from hopia.platform.warehouse import AFTER_COMMIT, schema

TOKEN_BYTES = 32
# A session's last use is written at most this often: a request must not cost a write each.
TOUCH_EVERY = timedelta(seconds=60)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Account:
    account_id: int
    username: str
    display_name: str | None
    roles: tuple[str, ...]
    care_sites: tuple[int, ...]
    active: bool
    has_password: bool
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime
    updated_at: datetime
    password_changed_at: datetime | None

    def principal(self) -> Principal:
        return Principal(
            self.username, frozenset(self.roles), care_sites=frozenset(self.care_sites)
        )

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


def _json_list(values: Iterable[Any]) -> str:
    return json.dumps(sorted(set(values)), separators=(",", ":"))


def _account(row: Any) -> Account:
    return Account(
        account_id=row.account_id,
        username=row.username,
        display_name=row.display_name,
        roles=tuple(json.loads(row.roles)),
        care_sites=tuple(int(c) for c in json.loads(row.care_sites)),
        active=bool(row.active),
        has_password=row.password_hash is not None,
        failed_logins=row.failed_logins,
        locked_until=row.locked_until,
        created_at=row.created_at,
        updated_at=row.updated_at,
        password_changed_at=row.password_changed_at,
    )


# -- accounts ------------------------------------------------------------------------------------


def insert_account(
    conn: Connection,
    username: str,
    *,
    display_name: str | None,
    password_hash: str | None,
    roles: Iterable[str],
    care_sites: Iterable[int] = (),
) -> Account:
    """A new active account; the caller checked that the name is free (the unique constraint
    still refuses a race)."""
    t = schema.account
    now = utcnow()
    next_id = (conn.execute(select(func.max(t.c.account_id))).scalar() or 0) + 1
    conn.execute(
        t.insert().values(
            account_id=next_id,
            username=username,
            display_name=display_name,
            password_hash=password_hash,
            roles=_json_list(roles),
            care_sites=_json_list(care_sites),
            active=True,
            failed_logins=0,
            locked_until=None,
            created_at=now,
            updated_at=now,
            password_changed_at=now if password_hash else None,
        )
    )
    found = get_account(conn, username)
    assert found is not None
    return found


def get_account(conn: Connection, username: str) -> Account | None:
    row = conn.execute(select(schema.account).where(schema.account.c.username == username)).first()
    return None if row is None else _account(row)


def get_account_by_id(conn: Connection, account_id: int) -> Account | None:
    t = schema.account
    row = conn.execute(select(t).where(t.c.account_id == account_id)).first()
    return None if row is None else _account(row)


def password_hash_of(conn: Connection, username: str) -> tuple[Account, str | None] | None:
    """The account and its stored hash (the hash never leaves this module's callers' login)."""
    row = conn.execute(select(schema.account).where(schema.account.c.username == username)).first()
    return None if row is None else (_account(row), row.password_hash)


def list_accounts(conn: Connection) -> list[Account]:
    t = schema.account
    return [_account(r) for r in conn.execute(select(t).order_by(t.c.username))]


def update_account(
    conn: Connection,
    account_id: int,
    *,
    display_name: str | None = None,
    roles: Iterable[str] | None = None,
    care_sites: Iterable[int] | None = None,
    active: bool | None = None,
    password_hash: str | None = None,
) -> None:
    """Change what is given (None: unchanged). A new password also lifts a lockout."""
    values: dict[str, Any] = {"updated_at": utcnow()}
    if display_name is not None:
        values["display_name"] = display_name
    if roles is not None:
        values["roles"] = _json_list(roles)
    if care_sites is not None:
        values["care_sites"] = _json_list(care_sites)
    if active is not None:
        values["active"] = active
    if password_hash is not None:
        values.update(
            password_hash=password_hash,
            password_changed_at=values["updated_at"],
            failed_logins=0,
            locked_until=None,
        )
    SESSIONS.forget(conn)  # a cached session holds the account as it was
    t = schema.account
    conn.execute(update(t).where(t.c.account_id == account_id).values(**values))


def record_failure(
    conn: Connection, account_id: int, *, max_failures: int, lockout: timedelta
) -> datetime | None:
    """Count one failed login, in the database (an atomic increment: two workers' failures both
    count); after ``max_failures`` in a row the account is locked until the returned time."""
    t = schema.account
    failures = conn.execute(
        update(t)
        .where(t.c.account_id == account_id)
        .values(failed_logins=t.c.failed_logins + 1)
        .returning(t.c.failed_logins)
    ).scalar_one()
    if failures < max_failures:
        return None
    until = utcnow() + lockout
    conn.execute(
        update(t).where(t.c.account_id == account_id).values(failed_logins=0, locked_until=until)
    )
    return until


def record_success(conn: Connection, account_id: int) -> None:
    t = schema.account
    conn.execute(
        update(t).where(t.c.account_id == account_id).values(failed_logins=0, locked_until=None)
    )


# -- sessions ------------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(conn: Connection, account_id: int, lifetime: timedelta) -> str:
    """A new session; returns its token (only its hash is stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    conn.execute(
        schema.web_session.insert().values(
            token_hash=token_hash(token),
            account_id=account_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


@dataclass(frozen=True)
class SessionState:
    account: Account | None
    """The active account of a live session; None when unknown, expired, idle or disabled."""
    dead: bool = False
    """A row to delete (expired, idle, or its account disabled)."""
    stale: bool = False
    """Live, and its last use is older than :data:`TOUCH_EVERY`: to note (:func:`touch`)."""
    last_seen_at: datetime | None = None
    expires_at: datetime | None = None


def find_session(conn: Connection, token: str, idle: timedelta) -> SessionState:
    """What a session token gives, read only: most requests write nothing. One query: the
    session joined to its account."""
    s, a = schema.web_session, schema.account
    row = conn.execute(
        select(s.c.last_seen_at, s.c.expires_at, a)
        .join(a, a.c.account_id == s.c.account_id)
        .where(s.c.token_hash == token_hash(token))
    ).first()
    if row is None:
        return SessionState(None)
    now = utcnow()
    if row.expires_at <= now or row.last_seen_at + idle <= now or not row.active:
        return SessionState(None, dead=True)
    return SessionState(
        _account(row),
        stale=now - row.last_seen_at >= TOUCH_EVERY,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
    )


class SessionCache:
    """The live sessions this process has just read, for a few seconds: a request then reads
    neither the session row nor its account (issue 12: one query per request saved, and a
    connection).

    The revocation rule (docs/architecture.md, "Sessions"):

    - a session ended or an account changed **by this process** (logout, an account disabled,
      its roles, perimeter or password changed, sessions purged: every write of this module
      that ends a session or changes an account) empties the cache at once, and again once
      that transaction has committed; an answer read before the change is never kept after it
      (a generation counter). On DuckDB only one process opens the warehouse: revocation is
      immediate;
    - a change made **by another process** (another ``hopia serve`` worker on PostgreSQL, the
      ``hopia account`` command) is seen within ``ttl`` seconds (``web.session_cache_seconds``;
      0 turns the cache off);
    - expiry and the idle timeout are judged at every request from the cached times, and a
      session whose last noted use is older than :data:`TOUCH_EVERY` is read again (and
      noted): the cache never extends a session.
    """

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (warehouse URL, token hash) -> (when read, monotonic clock; what was read)
        self._entries: dict[tuple[str, str], tuple[float, SessionState]] = {}
        self.generation = 0

    def get(self, engine: Engine, token: str, idle: timedelta, ttl: float) -> Account | None:
        """The cached account of a live, recently read session, or None (read it)."""
        if ttl <= 0:
            return None
        key = (str(engine.url), token_hash(token))
        with self._lock:
            found = self._entries.get(key)
        if found is None:
            return None
        read_at, state = found
        now = utcnow()
        assert state.last_seen_at is not None and state.expires_at is not None
        if (
            time.monotonic() - read_at >= ttl
            or state.expires_at <= now
            or state.last_seen_at + idle <= now
            or now - state.last_seen_at >= TOUCH_EVERY
        ):
            with self._lock:
                self._entries.pop(key, None)
            return None
        return state.account

    def put(
        self, engine: Engine, token: str, state: SessionState, generation: int, ttl: float
    ) -> None:
        """Keep a live session read while :attr:`generation` was ``generation`` (read before
        the query): nothing is kept if a write happened meanwhile."""
        if ttl <= 0 or state.account is None or state.dead or state.stale:
            return
        with self._lock:
            if generation != self.generation:
                return
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()
            self._entries[(str(engine.url), token_hash(token))] = (time.monotonic(), state)

    def forget(self, conn: Connection | None = None) -> None:
        """Empty the cache (a write to sessions or accounts), and again once ``conn``'s
        transaction has committed (a read in between saw the state before the write)."""
        with self._lock:
            self._entries.clear()
            self.generation += 1
        if conn is not None:
            conn.info.setdefault(AFTER_COMMIT, []).append(self.forget)

    def forget_token(self, token: str) -> None:
        """Drop one session (its last use noted: read again, with the new time)."""
        digest = token_hash(token)
        with self._lock:
            for key in [k for k in self._entries if k[1] == digest]:
                del self._entries[key]


SESSIONS = SessionCache()
"""This process's cache of live sessions."""


class KeyCache:
    """The live API keys this process has just read, for a few seconds (issue 13: the
    gateway's key check was two queries, ~3.8 ms, per call).

    Same revocation rule as :class:`SessionCache`, whose generation it follows: a key revoked
    or an account changed by this process (every such write empties :data:`SESSIONS`) drops
    every cached key at once; a change by another process is seen within ``ttl`` seconds.
    """

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (warehouse URL, key hash) -> (when read, monotonic clock; the generation; the account)
        self._entries: dict[tuple[str, str], tuple[float, int, Account]] = {}

    def get(self, engine: Engine, digest: str, ttl: float) -> Account | None:
        if ttl <= 0:
            return None
        key = (str(engine.url), digest)
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            read_at, generation, account = found
            if generation != SESSIONS.generation or time.monotonic() - read_at >= ttl:
                del self._entries[key]
                return None
        return account

    def put(
        self, engine: Engine, digest: str, account: Account, generation: int, ttl: float
    ) -> None:
        """Keep a live key read while the generation was ``generation`` (read before the
        query): nothing is kept if a write happened meanwhile."""
        if ttl <= 0:
            return
        with self._lock:
            if generation != SESSIONS.generation:
                return
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()
            self._entries[(str(engine.url), digest)] = (time.monotonic(), generation, account)


API_KEYS = KeyCache()
"""This process's cache of live API keys."""


def touch(conn: Connection, token: str) -> None:
    s = schema.web_session
    SESSIONS.forget_token(token)  # nothing else changes: the other sessions stay cached
    conn.execute(update(s).where(s.c.token_hash == token_hash(token)).values(last_seen_at=utcnow()))


def delete_session(conn: Connection, token: str) -> int:
    s, o = schema.web_session, schema.web_session_oidc
    SESSIONS.forget(conn)
    conn.execute(o.delete().where(o.c.token_hash == token_hash(token)))
    return conn.execute(s.delete().where(s.c.token_hash == token_hash(token))).rowcount or 0


def delete_sessions_of(conn: Connection, account_id: int) -> int:
    """Close every session of an account (disabled, password or roles changed)."""
    s, o = schema.web_session, schema.web_session_oidc
    SESSIONS.forget(conn)
    mine = select(s.c.token_hash).where(s.c.account_id == account_id)
    conn.execute(o.delete().where(o.c.token_hash.in_(mine)))
    return conn.execute(s.delete().where(s.c.account_id == account_id)).rowcount or 0


def purge_sessions(conn: Connection, idle: timedelta) -> int:
    """Delete expired and idle sessions (run at login: the table stays small), and the ID
    tokens of the sessions gone."""
    SESSIONS.forget(conn)
    s, o, now = schema.web_session, schema.web_session_oidc, utcnow()
    purged = (
        conn.execute(
            s.delete().where((s.c.expires_at <= now) | (s.c.last_seen_at <= now - idle))
        ).rowcount
        or 0
    )
    conn.execute(o.delete().where(o.c.token_hash.not_in(select(s.c.token_hash))))
    return purged


def keep_id_token(conn: Connection, token: str, id_token: str) -> None:
    """Keep the identity provider's ID token of a session (for its logout, ``id_token_hint``):
    in the database, keyed by the session token's hash, never in a cookie."""
    conn.execute(
        schema.web_session_oidc.insert().values(
            token_hash=token_hash(token), id_token=id_token, created_at=utcnow()
        )
    )


def id_token_of(conn: Connection, token: str) -> str | None:
    o = schema.web_session_oidc
    return conn.execute(
        select(o.c.id_token).where(o.c.token_hash == token_hash(token))
    ).scalar_one_or_none()


def last_logins(conn: Connection, username: str | None = None) -> dict[str, datetime]:
    """The last successful login of each account (or of ``username``), by user name, read in
    the audit log (``auth.login``, local and OIDC alike): the log is where logins are
    recorded."""
    a = schema.audit_log
    query = select(a.c.target, func.max(a.c["at"])).where(a.c.action == "auth.login")
    if username is not None:
        query = query.where(a.c.target == f"account:{username}")
    rows = conn.execute(query.group_by(a.c.target))
    return {
        target.removeprefix("account:"): at for target, at in rows if target.startswith("account:")
    }


def external_accounts(conn: Connection) -> dict[int, str]:
    """The accounts linked to an identity provider: account id → issuer."""
    e = schema.external_identity
    return {r.account_id: r.issuer for r in conn.execute(select(e.c.account_id, e.c.issuer))}


def care_sites(conn: Connection) -> list[tuple[int, str | None]]:
    """The care sites of the warehouse (id, name), by id: what a perimeter is chosen from."""
    cs = schema.CDM["care_site"]
    rows = conn.execute(select(cs.c.care_site_id, cs.c.care_site_name).order_by(cs.c.care_site_id))
    return [(int(r.care_site_id), r.care_site_name) for r in rows]


# -- failed logins per client address ----------------------------------------------------------


def address_failures(conn: Connection, address_hash: str, window: timedelta) -> int:
    t = schema.login_failure
    since = utcnow() - window
    return conn.execute(
        select(func.count()).where(t.c.address_hash == address_hash, t.c["at"] > since)
    ).scalar_one()


def record_address_failure(conn: Connection, address_hash: str, window: timedelta) -> None:
    """Note one failure from the address; failures older than the window are dropped."""
    t = schema.login_failure
    now = utcnow()
    conn.execute(t.delete().where(t.c["at"] <= now - window))
    conn.execute(t.insert().values(address_hash=address_hash, at=now))


# -- perimeters ----------------------------------------------------------------------------------


def care_sites_of(conn: Connection, person_id: int) -> frozenset[int]:
    """The care sites where the patient (research person id) has had a stay."""
    v = schema.CDM["visit_occurrence"]
    rows = conn.execute(
        select(v.c.care_site_id)
        .where(v.c.person_id == person_id, v.c.care_site_id.is_not(None))
        .distinct()
    )
    return frozenset(int(r) for r in rows.scalars())


def perimeter_reader(engine: Engine) -> Callable[[int, Connection | None], frozenset[int]]:
    """:func:`care_sites_of` for the access policy: on the caller's connection when one is
    given (the perimeter is then read in the transaction of the audited read), else on a
    connection of its own to ``engine``."""

    def read(person_id: int, conn: Connection | None = None) -> frozenset[int]:
        if conn is not None:
            return care_sites_of(conn, person_id)
        with engine.connect() as own:
            return care_sites_of(own, person_id)

    return read

"""Accounts of an identity provider (OIDC): the link from the provider's subject to an account.

An OIDC login names a user by ``(issuer, sub)``, stable for the provider, not by a user name
(which a provider may let users change). The link is stored in
``hopia_meta.external_identity``; the account it points at has no password, so it can only log
in through its provider: it is *external*. Functions take the caller's connection, so that a
link, the account it makes and their audit entries commit together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from hopia.platform.identity.store import utcnow
from hopia.platform.warehouse import schema


@dataclass(frozen=True)
class ExternalIdentity:
    issuer: str
    subject: str
    account_id: int
    created_at: datetime
    last_login_at: datetime | None


def _identity(row: object) -> ExternalIdentity:
    return ExternalIdentity(
        issuer=row.issuer,  # type: ignore[attr-defined]
        subject=row.subject,  # type: ignore[attr-defined]
        account_id=row.account_id,  # type: ignore[attr-defined]
        created_at=row.created_at,  # type: ignore[attr-defined]
        last_login_at=row.last_login_at,  # type: ignore[attr-defined]
    )


def find(conn: Connection, issuer: str, subject: str) -> ExternalIdentity | None:
    t = schema.external_identity
    row = conn.execute(select(t).where(t.c.issuer == issuer, t.c.subject == subject)).first()
    return None if row is None else _identity(row)


def of_account(conn: Connection, account_id: int) -> ExternalIdentity | None:
    """The provider identity an account is linked to (None: a local account)."""
    t = schema.external_identity
    row = conn.execute(select(t).where(t.c.account_id == account_id)).first()
    return None if row is None else _identity(row)


def link(conn: Connection, issuer: str, subject: str, account_id: int) -> ExternalIdentity:
    """Link a provider subject to an account (the caller checked neither is linked yet; the
    primary key and the unique account still refuse a race)."""
    now = utcnow()
    conn.execute(
        schema.external_identity.insert().values(
            issuer=issuer,
            subject=subject,
            account_id=account_id,
            created_at=now,
            last_login_at=None,
        )
    )
    found = find(conn, issuer, subject)
    assert found is not None
    return found


def note_login(conn: Connection, issuer: str, subject: str) -> None:
    t = schema.external_identity
    conn.execute(
        update(t).where(t.c.issuer == issuer, t.c.subject == subject).values(last_login_at=utcnow())
    )

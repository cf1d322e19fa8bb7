"""Tamper-evident audit log: ``hopia_meta.audit_log``, one hash chain.

Each entry stores ``hash = sha256(prev_hash + canonical JSON of the entry)``, the first one
chaining to :data:`GENESIS`. Editing a stored entry, deleting one or inserting one breaks a link
that :func:`verify` reports. What a hash chain alone cannot show is the removal of the *last*
entries, or a chain rewritten whole by someone with write access: compare
:attr:`VerifyResult.head_hash` with a copy kept elsewhere (``verify(conn, expected_head=...)``).

Entries are written inside the caller's transaction, so an audited action and its entry commit
together or not at all. Details hold identifiers and counts, never names or text: the log is
read by auditors, who need not be entitled to the data.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, text

from hopia.platform.exceptions import AuditError
from hopia.platform.warehouse import WRITER_LOCK_KEY, schema

GENESIS = "0" * 64
_PAGE = 5000


@dataclass(frozen=True)
class AuditEntry:
    audit_id: int
    at: datetime
    actor: str
    action: str
    target: str
    reason: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify`. ``broken_at`` is the first entry whose link fails."""

    ok: bool
    entries: int
    head_id: int | None = None
    head_hash: str | None = None
    broken_at: int | None = None
    problem: str | None = None

    def __bool__(self) -> bool:
        return self.ok


def canonical_json(value: Any) -> str:
    """One byte-exact JSON form per value: sorted keys, no spaces, UTF-8 kept, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def entry_hash(prev_hash: str, record: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(record)).encode("utf-8")).hexdigest()


def current_actor(actor: str | None = None) -> str:
    """The explicit actor, else the operating-system user running the process."""
    if actor and actor.strip():
        return actor.strip()[:100]
    try:
        return getpass.getuser()[:100]
    except (OSError, KeyError):  # no login name in some containers
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "inconnu"


def _record(
    audit_id: int,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    reason: str | None,
    details: Mapping[str, Any],
) -> dict[str, Any]:
    # Everything but the hashes; the id is included so that a deleted entry leaves a gap.
    return {
        "audit_id": audit_id,
        "at": at.isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "target": target,
        "reason": reason,
        "details": details,
    }


def record(
    conn: Connection,
    actor: str | None,
    action: str,
    target: str,
    reason: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry inside the caller's transaction and return it.

    ``details`` must be JSON-serialisable and should hold identifiers, hashes and counts only.
    """
    if not action or not target:
        raise AuditError("entrée d'audit incomplète : action et cible sont obligatoires")
    details = dict(details or {})
    try:
        canonical_json(details)
    except (TypeError, ValueError) as exc:
        raise AuditError(f"détails d'audit non sérialisables en JSON : {exc}") from exc
    if conn.dialect.name == "postgresql":
        # Serialise writers of the chain. Re-entrant: Warehouse.begin() already holds it.
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITER_LOCK_KEY})
    t = schema.audit_log
    last = conn.execute(
        select(t.c.audit_id, t.c.hash).order_by(t.c.audit_id.desc()).limit(1)
    ).first()
    audit_id, prev_hash = (last.audit_id + 1, last.hash) if last else (1, GENESIS)
    at = datetime.now(UTC).replace(tzinfo=None)
    who = current_actor(actor)
    fields = _record(audit_id, at, who, action[:50], target[:255], reason, details)
    digest = entry_hash(prev_hash, fields)
    conn.execute(
        t.insert().values(
            audit_id=audit_id,
            at=at,
            actor=who,
            action=fields["action"],
            target=fields["target"],
            reason=reason,
            details=canonical_json(details),
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    return AuditEntry(
        audit_id, at, who, fields["action"], fields["target"], reason, details, prev_hash, digest
    )


def verify(conn: Connection, expected_head: str | None = None) -> VerifyResult:
    """Walk the chain from the first entry; stop at the first broken link.

    ``expected_head``: a head hash saved earlier (outside the warehouse); it must still be in
    the chain, which shows that no entry was removed from the end since.
    """
    t = schema.audit_log
    prev_hash, prev_id, count = GENESIS, 0, 0
    seen_expected = expected_head in (None, GENESIS)
    while True:
        rows = conn.execute(
            select(t).where(t.c.audit_id > prev_id).order_by(t.c.audit_id).limit(_PAGE)
        ).all()
        if not rows:
            break
        for row in rows:
            problem = _check(row, prev_id, prev_hash)
            if problem:
                return VerifyResult(False, count, prev_id or None, prev_hash, row.audit_id, problem)
            prev_hash, prev_id, count = row.hash, row.audit_id, count + 1
            seen_expected = seen_expected or row.hash == expected_head
    head_id, head = (prev_id, prev_hash) if count else (None, None)
    if not seen_expected:
        problem = (
            "la tête attendue est absente du journal : entrées supprimées à la fin ou réécrites"
        )
        return VerifyResult(False, count, head_id, head, None, problem)
    return VerifyResult(True, count, head_id, head)


def _check(row: Any, prev_id: int, prev_hash: str) -> str | None:
    if row.audit_id != prev_id + 1:
        missing = row.audit_id - prev_id - 1
        return f"{missing} entrée(s) manquante(s) avant l'entrée {row.audit_id}"
    if row.prev_hash != prev_hash:
        return f"chaînage rompu : l'entrée {row.audit_id} ne suit pas l'entrée {prev_id}"
    try:
        details = json.loads(row.details)
    except ValueError:
        return f"détails illisibles dans l'entrée {row.audit_id}"
    if canonical_json(details) != row.details:
        return f"détails modifiés dans l'entrée {row.audit_id}"
    fields = _record(row.audit_id, row.at, row.actor, row.action, row.target, row.reason, details)
    if entry_hash(prev_hash, fields) != row.hash:
        return f"contenu modifié dans l'entrée {row.audit_id} (empreinte invalide)"
    return None

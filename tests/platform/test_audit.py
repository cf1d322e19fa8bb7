"""Audit log: hash chain, tampering detected (edited, deleted, truncated), actor, transactions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

from hopia.platform import audit
from hopia.platform.warehouse import Warehouse, schema
from tests.platform.pg import postgres_url

LOG = schema.audit_log


@pytest.fixture(params=["duckdb", "postgres"])
def wh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    if request.param == "duckdb":
        warehouse = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
        yield warehouse
        warehouse.close()
    else:
        with postgres_url() as url:
            warehouse = Warehouse(url)
            yield warehouse
            warehouse.close()


def write(wh: Warehouse, n: int = 3) -> list[audit.AuditEntry]:
    entries = []
    for i in range(n):
        with wh.begin() as conn:
            entries.append(
                audit.record(
                    conn,
                    "alice",
                    "reidentify",
                    f"note:{i + 1}",
                    "demande du DIM n° 2024-117",
                    {"note_id": i + 1, "labels": {"NOM": 2, "DATE": 1}},
                )
            )
    return entries


def check(wh: Warehouse, expected_head: str | None = None) -> audit.VerifyResult:
    with wh.engine.connect() as conn:
        return audit.verify(conn, expected_head)


def test_entries_form_a_sha256_chain(wh: Warehouse) -> None:
    entries = write(wh)
    assert [e.audit_id for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == audit.GENESIS
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    first = entries[0]
    canonical = json.dumps(
        {
            "audit_id": 1,
            "at": first.at.isoformat(timespec="microseconds"),
            "actor": "alice",
            "action": "reidentify",
            "target": "note:1",
            "reason": "demande du DIM n° 2024-117",
            "details": {"note_id": 1, "labels": {"NOM": 2, "DATE": 1}},
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert first.hash == hashlib.sha256((audit.GENESIS + canonical).encode()).hexdigest()
    result = check(wh)
    assert result and (result.entries, result.head_id, result.head_hash) == (3, 3, entries[2].hash)
    with wh.engine.connect() as conn:  # stored as read back from the database, on both engines
        assert conn.execute(select(LOG.c.hash).where(LOG.c.audit_id == 1)).scalar() == first.hash


def test_empty_log_verifies(wh: Warehouse) -> None:
    result = check(wh)
    assert result.ok and result.entries == 0 and result.head_hash is None


@pytest.mark.parametrize(
    "change",
    [
        {"reason": "simple curiosité"},
        {"actor": "mallory"},
        {"target": "note:99"},
        {"details": '{"labels":{"NOM":2},"note_id":2}'},
        {"details": '{"labels": {"DATE": 1, "NOM": 2}, "note_id": 2}'},  # same JSON, re-spaced
    ],
)
def test_verify_detects_an_edited_row(wh: Warehouse, change: dict[str, str]) -> None:
    write(wh)
    with wh.begin() as conn:
        conn.execute(update(LOG).where(LOG.c.audit_id == 2).values(**change))
    result = check(wh)
    assert not result.ok and result.broken_at == 2 and result.entries == 1
    assert "entrée 2" in result.problem


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(wh: Warehouse) -> None:
    entries = write(wh)
    e = entries[1]
    forged = {
        "audit_id": 2,
        "at": e.at.isoformat(timespec="microseconds"),
        "actor": e.actor,
        "action": e.action,
        "target": "note:99",
        "reason": e.reason,
        "details": e.details,
    }
    with wh.begin() as conn:
        conn.execute(
            update(LOG)
            .where(LOG.c.audit_id == 2)
            .values(target="note:99", hash=audit.entry_hash(e.prev_hash, forged))
        )
    result = check(wh)
    assert not result.ok and result.broken_at == 3 and "chaînage rompu" in result.problem


def test_verify_detects_a_deleted_row(wh: Warehouse) -> None:
    write(wh)
    with wh.begin() as conn:
        conn.execute(delete(LOG).where(LOG.c.audit_id == 2))
    result = check(wh)
    assert not result.ok and result.broken_at == 3 and "manquante" in result.problem


def test_deleting_the_first_row_is_detected(wh: Warehouse) -> None:
    write(wh)
    with wh.begin() as conn:
        conn.execute(delete(LOG).where(LOG.c.audit_id == 1))
    assert check(wh).broken_at == 2


def test_a_truncated_tail_needs_the_saved_head(wh: Warehouse) -> None:
    entries = write(wh)
    saved_head = check(wh).head_hash
    assert check(wh, saved_head).ok
    write(wh, 1)  # appending after the saved head is fine
    assert check(wh, saved_head).ok
    with wh.begin() as conn:
        conn.execute(delete(LOG).where(LOG.c.audit_id >= 3))
    assert check(wh).ok  # a chain alone cannot see its end removed...
    result = check(wh, entries[2].hash)  # ...the head saved elsewhere can
    assert not result.ok and "tête attendue" in result.problem


def test_actor_is_explicit_or_the_os_user(wh: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit.getpass, "getuser", lambda: "dr.martin")
    with wh.begin() as conn:
        implicit = audit.record(conn, None, "export", "cohort:7")
        blank = audit.record(conn, "  ", "export", "cohort:7")
        explicit = audit.record(conn, "alice", "export", "cohort:7")
    assert (implicit.actor, blank.actor, explicit.actor) == ("dr.martin", "dr.martin", "alice")

    def no_login() -> str:
        raise OSError("no login name")

    monkeypatch.setattr(audit.getpass, "getuser", no_login)
    assert audit.current_actor().startswith("uid:")


def test_an_entry_commits_with_the_callers_transaction(wh: Warehouse) -> None:
    write(wh, 1)
    with pytest.raises(RuntimeError), wh.begin() as conn:
        audit.record(conn, "alice", "reidentify", "note:5", "demande du DIM n° 2024-117")
        raise RuntimeError("the audited action failed")
    with wh.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(LOG)).scalar() == 1
    assert write(wh, 1)[0].audit_id == 2 and check(wh).ok


def test_details_must_be_json(wh: Warehouse) -> None:
    with pytest.raises(audit.AuditError, match="JSON"), wh.begin() as conn:
        audit.record(conn, "alice", "export", "cohort:7", None, {"when": object()})
    with pytest.raises(audit.AuditError, match="obligatoires"), wh.begin() as conn:
        audit.record(conn, "alice", "", "cohort:7")


def test_an_entry_with_nul_or_a_lone_surrogate_still_verifies(wh: Warehouse) -> None:
    """The warehouse replaces NUL and lone surrogates on the way in (both engines): the entry
    is hashed as it is stored, so a NUL typed into a reason or a path that is not UTF-8 leaves
    a chain that verifies."""
    with wh.begin() as conn:
        audit.record(
            conn,
            "alice",
            "access.refused",
            "file:/partage/r\udce9sum\udce9.txt",
            "motif\x00 avec un caractère nul",
            {"why": "chemin\x00", "paths": ["a\udce9"]},
        )
    result = check(wh)
    assert result.ok and result.entries == 1
    with wh.engine.connect() as conn:
        target, reason = conn.execute(select(LOG.c.target, LOG.c.reason)).one()
    assert "\x00" not in reason and "\udce9" not in target

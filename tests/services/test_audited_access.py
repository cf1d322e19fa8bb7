"""An identified read is one transaction (issue 12, item 5): the patient looked up, the policy's
perimeter check, the read and its audit entry commit together, on DuckDB and PostgreSQL.
Nothing is returned without its entry; a refusal is recorded once the read has rolled back."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection, event, text

from hopia.platform import audit
from hopia.platform.access import Principal
from hopia.platform.config import get_settings
from hopia.platform.exceptions import AccessDeniedError, AuditError
from hopia.platform.identity import store
from hopia.platform.identity.roles import SpacePolicy
from hopia.platform.warehouse import Warehouse
from hopia.services import documents, patients
from hopia.services.context import Context


def _context(wh: Warehouse, care_sites: set[int]) -> Context:
    principal = Principal("clin", frozenset({"clinician"}), care_sites=frozenset(care_sites))
    ctx = Context(get_settings(), principal, SpacePolicy(store.perimeter_reader(wh.engine)))
    # as the web's context: a warehouse at this version's schema, never migrated per request
    ctx._warehouse, ctx._owns_warehouse, ctx._migrated = wh, False, True
    return ctx


@contextmanager
def _watched(wh: Warehouse) -> Iterator[dict[str, list[Any]]]:
    """The transactions begun on the warehouse's engine, and each statement with the
    connection it ran on."""
    seen: dict[str, list[Any]] = {"begins": [], "statements": []}

    def on_begin(conn: Connection) -> None:
        seen["begins"].append(conn)

    def on_execute(conn: Connection, cursor: Any, statement: str, *_: Any) -> None:
        seen["statements"].append((conn, statement))

    event.listen(wh.engine, "begin", on_begin)
    event.listen(wh.engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(wh.engine, "begin", on_begin)
        event.remove(wh.engine, "before_cursor_execute", on_execute)


def _patient(wh: Warehouse) -> tuple[int, int, int, int]:
    """A patient with a stay in a care site and a note, the care site, the note, and a care
    site where this patient has no stay."""
    with wh.engine.connect() as conn:
        person, site, note = conn.execute(
            text(
                "SELECT n.person_id, min(v.care_site_id), min(n.note_id) FROM omop.note n "
                "JOIN omop.visit_occurrence v ON v.person_id = n.person_id "
                "JOIN hopia_id.document d ON d.note_id = n.note_id AND d.status = 'done' "
                "WHERE v.care_site_id IS NOT NULL GROUP BY n.person_id ORDER BY n.person_id "
                "LIMIT 1"
            )
        ).one()
        other = conn.execute(
            text(
                "SELECT max(care_site_id) + 1000 FROM omop.care_site"  # nobody's stays
            )
        ).scalar_one()
    return person, site, note, other


def _entries(wh: Warehouse, action: str) -> list[Any]:
    with wh.engine.connect() as conn:
        return conn.execute(
            text("SELECT * FROM hopia_meta.audit_log WHERE action = :a ORDER BY audit_id"),
            {"a": action},
        ).all()


READS: dict[str, Callable[[Context, int, int], Any]] = {
    "patient": lambda ctx, person, note: patients.view_patient(
        ctx, patients.PatientRequest.of(person_id=person)
    ),
    "document": lambda ctx, person, note: documents.view_document(
        ctx, documents.DocumentViewRequest.of(note_id=note, space="identified")
    ),
}


@pytest.mark.parametrize("read", sorted(READS))
def test_check_read_and_audit_are_one_transaction(sample_copy: Warehouse, read: str) -> None:
    person, site, note, _ = _patient(sample_copy)
    ctx = _context(sample_copy, {site})
    with _watched(sample_copy) as seen:
        view = READS[read](ctx, person, note)
    assert len(seen["begins"]) == 1, "the check, the read and the audit in one transaction"
    (conn,) = seen["begins"]
    assert all(c is conn for c, _ in seen["statements"])
    sql = [s.lower() for _, s in seen["statements"]]
    perimeter = next(i for i, s in enumerate(sql) if "visit_occurrence" in s and "distinct" in s)
    appended = next(i for i, s in enumerate(sql) if s.startswith("insert into hopia_meta.audit"))
    assert perimeter < appended  # judged in the transaction, before the entry is written
    entry = _entries(sample_copy, "patient.view" if read == "patient" else "document.view")[-1]
    assert entry.audit_id == view.audit_id and entry.actor == "clin"


@pytest.mark.parametrize("read", sorted(READS))
def test_a_refusal_rolls_the_read_back_and_is_recorded_after(
    sample_copy: Warehouse, read: str
) -> None:
    person, _, note, other = _patient(sample_copy)
    ctx = _context(sample_copy, {other})  # a perimeter where this patient has no stay
    before = len(_entries(sample_copy, "access.refused"))
    with _watched(sample_copy) as seen, pytest.raises(AccessDeniedError) as refused:
        READS[read](ctx, person, note)
    assert refused.value.details["audited"] is True
    assert refused.value.details["outside_perimeter"] is True
    # The read's transaction (perimeter judged on it, rolled back), then the refusal's own.
    assert len(seen["begins"]) == 2
    read_conn, record_conn = seen["begins"]
    on_read = [s.lower() for c, s in seen["statements"] if c is read_conn]
    assert any("visit_occurrence" in s for s in on_read)
    assert not any(s.startswith("insert") for s in on_read)
    refusals = _entries(sample_copy, "access.refused")
    assert len(refusals) == before + 1 and refusals[-1].target == f"person:{person}"


def test_no_read_is_served_without_its_audit_entry(sample_copy: Warehouse) -> None:
    """The audit append fails (the log's last entry deleted behind Hopia's back: the checkpoint
    outside the warehouse now contradicts it): the read fails with it, nothing is returned."""
    person, site, note, _ = _patient(sample_copy)
    ctx = _context(sample_copy, {site})
    first = patients.view_patient(ctx, patients.PatientRequest.of(person_id=person))
    with sample_copy.begin() as conn:
        conn.execute(
            text("DELETE FROM hopia_meta.audit_log WHERE audit_id = :i"), {"i": first.audit_id}
        )
    for call in READS.values():
        with pytest.raises(AuditError):
            call(ctx, person, note)
    with sample_copy.engine.connect() as conn:
        head = conn.execute(text("SELECT max(audit_id) FROM hopia_meta.audit_log")).scalar()
    assert head == first.audit_id - 1  # nothing appended


def test_concurrent_reads_each_leave_one_entry_in_one_chain(sample_copy: Warehouse) -> None:
    person, site, note, _ = _patient(sample_copy)
    ctx = _context(sample_copy, {site})
    before = len(_entries(sample_copy, "patient.view")), len(_entries(sample_copy, "document.view"))
    ids: list[int] = []
    errors: list[BaseException] = []
    guard = threading.Lock()

    def user(i: int) -> None:
        try:
            for k in range(4):
                view = READS["patient" if (i + k) % 2 else "document"](ctx, person, note)
                with guard:
                    ids.append(view.audit_id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=user, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    after = len(_entries(sample_copy, "patient.view")), len(_entries(sample_copy, "document.view"))
    assert sum(after) - sum(before) == 24 and len(set(ids)) == 24
    with sample_copy.engine.connect() as conn:
        result = audit.verify(conn)
    assert result.ok and result.keyed, result.problem

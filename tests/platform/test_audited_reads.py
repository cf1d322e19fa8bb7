"""Audited reads (``Warehouse.begin(reads_first=True)``): on PostgreSQL the writers' lock is
taken by the audit append, not for the whole read, so that concurrent reads do not queue; the
chain stays one unbroken chain on both engines."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from hopia.platform import audit
from hopia.platform.warehouse import Warehouse, schema
from tests.platform.pg import engine_warehouse

LOG = schema.audit_log


@pytest.fixture(params=["duckdb", "postgres"])
def wh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    with engine_warehouse(request.param, tmp_path) as warehouse:
        bound = audit.AuditAnchor(tmp_path / "audit", warehouse.display_url, lambda: b"k" * 32)
        audit.anchor(warehouse.engine, bound)
        yield warehouse


def audited_read(wh: Warehouse, i: int) -> None:
    with wh.begin(reads_first=True) as conn:
        conn.execute(select(LOG.c.audit_id).limit(5)).all()  # the read being audited
        audit.record(conn, f"user{i}", "document.view", f"note:{i}")


def test_concurrent_audited_reads_make_one_unbroken_chain(wh: Warehouse) -> None:
    errors: list[BaseException] = []

    def user(i: int) -> None:
        try:
            for k in range(5):
                audited_read(wh, i * 10 + k)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    # The first entry anchors the log (checkpoint written after its commit), as hopia init does:
    # until then a second writer finds entries and no checkpoint, and refuses.
    audited_read(wh, 0)
    threads = [threading.Thread(target=user, args=(i,)) for i in range(1, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    with wh.engine.connect() as conn:
        result = audit.verify(conn)
        ids = conn.execute(select(LOG.c.audit_id).order_by(LOG.c.audit_id)).scalars().all()
    assert result.ok and result.keyed, result.problem
    assert ids == list(range(1, 32)) and result.checkpoint_id == 31


@pytest.mark.postgres
def test_on_postgresql_a_read_does_not_hold_the_writers_turn(tmp_path: Path) -> None:
    """While one audited read is between its reads and its append, another request's append
    commits (it would wait for the whole read with the lock taken at BEGIN); the first one's
    entry then follows it in the chain."""
    with engine_warehouse("postgres", tmp_path) as wh:
        bound = audit.AuditAnchor(tmp_path / "audit", wh.display_url, lambda: b"k" * 32)
        audit.anchor(wh.engine, bound)
        other_done = threading.Event()

        def other() -> None:
            with wh.begin() as conn:
                audit.record(conn, "autre", "document.view", "note:2")
            other_done.set()

        with wh.begin(reads_first=True) as conn:
            conn.execute(select(LOG.c.audit_id)).all()
            thread = threading.Thread(target=other)
            thread.start()
            assert other_done.wait(timeout=30), "the read held the writers' turn"
            entry = audit.record(conn, "lecteur", "document.view", "note:1")
        thread.join()
        assert entry.audit_id == 2
        with wh.engine.connect() as conn:
            assert audit.verify(conn).ok

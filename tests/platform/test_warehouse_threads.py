"""Threads of one process writing through ``Warehouse.begin`` take turns on DuckDB (a web
server's requests each appending an audit entry): none is refused for a concurrent commit, also
when each request opened its own ``Warehouse`` on the same file."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import func, select

from hopia.platform import audit
from hopia.platform.warehouse import Warehouse, schema


def test_concurrent_audit_appends_from_threads_all_commit(tmp_path: Path) -> None:
    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    other = Warehouse(wh.url, migrate=False)  # another request's, same file
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def append(i: int) -> None:
        start.wait()
        try:
            for j in range(5):
                with (wh if (i + j) % 2 else other).begin() as conn:
                    audit.record(conn, f"t{i}", "test.append", f"n:{i}:{j}")
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        with wh.engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(schema.audit_log)).scalar()
            assert count == 40
            assert audit.verify(conn).ok
    finally:
        other.close()
        wh.close()

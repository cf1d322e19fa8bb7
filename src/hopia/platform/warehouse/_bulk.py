"""Bulk inserts: the one place with engine-specific code.

DuckDB's row-by-row ``executemany`` costs ~1 ms a row; a DataFrame insert is ~100x faster.
PostgreSQL goes through SQLAlchemy's ``insertmanyvalues`` batching, which is already fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Table


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    if conn.dialect.name != "duckdb":
        conn.execute(table.insert(), list(rows))
        return len(rows)
    columns = [c.name for c in table.columns]
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    raw = conn.connection.driver_connection
    view = f"_hopia_bulk_{table.name}"
    raw.register(view, frame)
    try:
        quoted = ", ".join(f'"{c}"' for c in columns)
        raw.execute(f'INSERT INTO {table.schema}."{table.name}" ({quoted}) SELECT {quoted} FROM {view}')
    finally:
        raw.unregister(view)
    return len(rows)

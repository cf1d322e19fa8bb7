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
    return insert_frame(conn, table, pd.DataFrame.from_records(list(rows), columns=columns))


def insert_frame(conn: Connection, table: Table, frame: pd.DataFrame) -> int:
    """Insert a DataFrame whose columns are a subset of the table's (missing ones are NULL)."""
    if frame.empty:
        return 0
    columns = [c.name for c in table.columns if c.name in frame.columns]
    if conn.dialect.name != "duckdb":
        records = frame[columns].astype(object).where(frame[columns].notna(), None)
        conn.execute(table.insert(), records.to_dict("records"))
        return len(frame)
    raw = conn.connection.driver_connection
    # DuckDB >= 2 refuses register() while a previous result (e.g. after SQLAlchemy's .scalar())
    # is not fully fetched; a completed statement clears it, inside the same transaction.
    raw.execute("SELECT 1").fetchall()
    view = f"_hopia_bulk_{table.name}"
    raw.register(view, frame[columns])
    try:
        quoted = ", ".join(f'"{c}"' for c in columns)
        raw.execute(
            f'INSERT INTO {table.schema}."{table.name}" ({quoted}) SELECT {quoted} FROM {view}'
        )
    finally:
        raw.unregister(view)
    return len(frame)

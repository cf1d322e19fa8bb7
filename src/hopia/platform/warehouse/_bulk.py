"""Bulk inserts: the one place with engine-specific code.

DuckDB's row-by-row ``executemany`` costs ~0.5 ms a row; scanning an Arrow table is ~100x faster
(and cheaper than a pandas frame, whose Python objects hold the GIL while DuckDB reads them).
PostgreSQL goes through SQLAlchemy's ``insertmanyvalues`` batching, which is already fast.

Text values are cleaned here for DuckDB (the Arrow path bypasses SQLAlchemy) and by the engine's
``before_cursor_execute`` hook for every other statement (:mod:`._clean`), the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy import Connection, Table

from hopia.platform.warehouse._clean import clean_arrow, clean_value


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    if conn.dialect.name != "duckdb":
        conn.execute(table.insert(), list(rows))
        return len(rows)
    columns = [c.name for c in table.columns if any(c.name in row for row in rows[:1])]
    arrow = pa.table(
        {name: pa.array([clean_value(row.get(name)) for row in rows]) for name in columns}
    )
    return _duckdb_insert(conn, table, arrow)


def insert_frame(conn: Connection, table: Table, frame: pd.DataFrame) -> int:
    """Insert a DataFrame whose columns are a subset of the table's (missing ones are NULL)."""
    if frame.empty:
        return 0
    columns = [c.name for c in table.columns if c.name in frame.columns]
    if conn.dialect.name != "duckdb":
        records = frame[columns].astype(object).where(frame[columns].notna(), None)
        conn.execute(table.insert(), records.to_dict("records"))
        return len(frame)
    frame = frame[columns]
    try:
        arrow = pa.Table.from_pandas(frame, preserve_index=False)
    except UnicodeEncodeError:  # a lone surrogate somewhere: clean the text columns, per value
        text = frame.select_dtypes(include="object").columns
        frame = frame.assign(**{c: frame[c].map(clean_value) for c in text})
        arrow = pa.Table.from_pandas(frame, preserve_index=False)
    return _duckdb_insert(conn, table, clean_arrow(arrow))


def _duckdb_insert(conn: Connection, table: Table, arrow: pa.Table) -> int:
    raw = conn.connection.driver_connection
    # DuckDB >= 2 refuses register() while a previous result (e.g. after SQLAlchemy's .scalar())
    # is not fully fetched; a completed statement clears it, inside the same transaction.
    raw.execute("SELECT 1").fetchall()
    view = f"_hopia_bulk_{table.name}"
    raw.register(view, arrow)
    try:
        quoted = ", ".join(f'"{c}"' for c in arrow.column_names)
        raw.execute(
            f'INSERT INTO {table.schema}."{table.name}" ({quoted}) SELECT {quoted} FROM {view}'
        )
    finally:
        # After a failed INSERT the transaction is aborted and unregister() fails too; the
        # INSERT's error is the one to report.
        with contextlib.suppress(Exception):
            raw.unregister(view)
    return arrow.num_rows

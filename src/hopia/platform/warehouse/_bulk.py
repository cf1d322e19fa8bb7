"""Bulk inserts: the one place with engine-specific code.

DuckDB's row-by-row ``executemany`` costs ~0.5 ms a row; scanning an Arrow table is ~100x faster
(and cheaper than a pandas frame, whose Python objects hold the GIL while DuckDB reads them).
PostgreSQL takes the same Arrow table through ``COPY … FROM STDIN`` (CSV written by Arrow's C++
writer, psycopg2's ``copy_expert``), several times faster than SQLAlchemy's ``insertmanyvalues``
batching (docs/benchmarks.md, "Bulk loads on PostgreSQL"). Rows that Arrow cannot hold as the
table's column types (mixed types in a column, a time zone) and other PostgreSQL drivers keep
the ``executemany`` path, whose errors are the same.

Text values are cleaned here for the Arrow paths (they bypass SQLAlchemy) and by the engine's
``before_cursor_execute`` hook for every other statement (:mod:`._clean`), the same way.

:func:`stage_arrow` fills a temporary table of the transaction from Arrow batches by the same
two paths: the Parquet loader's staging tables (``hopia warehouse load-parquet``).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Date,
    DateTime,
    Double,
    Float,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
)

from hopia.platform.warehouse._clean import clean_arrow, clean_value

_CSV = pa_csv.WriteOptions(include_header=False)


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    columns = [c.name for c in table.columns if any(c.name in row for row in rows[:1])]
    if conn.dialect.name != "duckdb":
        arrow = _as_table_types(table, _rows_arrow(rows, columns)) if _copies(conn) else None
        if arrow is None:
            conn.execute(table.insert(), list(rows))
            return len(rows)
        return _copy(conn, _qualified(table), arrow)
    arrow = pa.table(
        {name: pa.array([clean_value(row.get(name)) for row in rows]) for name in columns}
    )
    return _duckdb_insert(conn, table, arrow)


def insert_frame(conn: Connection, table: Table, frame: pd.DataFrame) -> int:
    """Insert a DataFrame whose columns are a subset of the table's (missing ones are NULL)."""
    if frame.empty:
        return 0
    columns = [c.name for c in table.columns if c.name in frame.columns]
    frame = frame[columns]
    if conn.dialect.name != "duckdb":
        arrow = _as_table_types(table, _frame_arrow(frame)) if _copies(conn) else None
        if arrow is None:
            records = frame.astype(object).where(frame.notna(), None)
            conn.execute(table.insert(), records.to_dict("records"))
            return len(frame)
        return _copy(conn, _qualified(table), arrow)
    return _duckdb_insert(conn, table, _frame_arrow(frame, strict=True))


def stage_arrow(conn: Connection, name: str, batches: Iterable[pa.RecordBatch]) -> int:
    """Append Arrow batches to the temporary table ``name`` (made by the caller in this
    transaction, columns named as the batches'); the rows appended. Text is cleaned."""
    rows = 0
    for batch in batches:
        arrow = clean_arrow(pa.Table.from_batches([batch]))
        if not arrow.num_rows:
            continue
        if conn.dialect.name == "duckdb":
            rows += _duckdb_append(conn, f'"{name}"', arrow)
        elif _copies(conn):
            rows += _copy(conn, f'"{name}"', arrow)
        else:  # another driver: plain inserts
            quoted = ", ".join(f'"{c}"' for c in arrow.column_names)
            marks = ", ".join(["%s"] * arrow.num_columns)
            cursor = conn.connection.driver_connection.cursor()
            cursor.executemany(
                f'INSERT INTO "{name}" ({quoted}) VALUES ({marks})',
                [tuple(r.values()) for r in arrow.to_pylist()],
            )
            rows += arrow.num_rows
    return rows


def arrow_type(sql_type: Any) -> pa.DataType:
    """The Arrow type a warehouse column's values take (text for anything else)."""
    if isinstance(sql_type, BigInteger):
        return pa.int64()
    if isinstance(sql_type, SmallInteger | Integer):
        return pa.int32()
    if isinstance(sql_type, Double | Float | Numeric):
        return pa.float64()
    if isinstance(sql_type, DateTime):
        return pa.timestamp("us")
    if isinstance(sql_type, Date):
        return pa.date32()
    if isinstance(sql_type, Boolean):
        return pa.bool_()
    if isinstance(sql_type, String | Text):
        return pa.string()
    return pa.string()


def sql_type_name(arrow: pa.DataType) -> str:
    """The SQL type (both engines) of a staging column of Arrow type ``arrow``."""
    if pa.types.is_int64(arrow):
        return "BIGINT"
    if pa.types.is_integer(arrow):
        return "INTEGER"
    if pa.types.is_floating(arrow):
        return "DOUBLE PRECISION"
    if pa.types.is_timestamp(arrow):
        return "TIMESTAMP"
    if pa.types.is_date(arrow):
        return "DATE"
    if pa.types.is_boolean(arrow):
        return "BOOLEAN"
    return "TEXT"


def _copies(conn: Connection) -> bool:
    """Whether COPY is available: PostgreSQL through psycopg2 (the ``postgres`` extra)."""
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg2"


def _rows_arrow(rows: Sequence[dict[str, Any]], columns: list[str]) -> pa.Table | None:
    try:
        return pa.table(
            {name: pa.array([clean_value(row.get(name)) for row in rows]) for name in columns}
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return None


def _frame_arrow(frame: pd.DataFrame, *, strict: bool = False) -> pa.Table | None:
    """``frame`` as Arrow, text cleaned; None where Arrow cannot hold a column (``strict``:
    raise instead, as DuckDB's path always did)."""
    try:
        try:
            arrow = pa.Table.from_pandas(frame, preserve_index=False)
        except UnicodeEncodeError:  # a lone surrogate somewhere: clean the text columns
            text = frame.select_dtypes(include="object").columns
            frame = frame.assign(**{c: frame[c].map(clean_value) for c in text})
            arrow = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        if strict:
            raise
        return None
    return clean_arrow(arrow)


def _as_table_types(table: Table, arrow: pa.Table | None) -> pa.Table | None:
    """``arrow`` cast to the table's column types, for a COPY whose text PostgreSQL parses as
    the column's type; None where a value does not fit (a fraction for an integer, a time zone):
    the caller then takes the ``executemany`` path, which reports it as before."""
    if arrow is None:
        return None
    columns = []
    for name in arrow.column_names:
        column = arrow.column(name)
        target = arrow_type(table.c[name].type)
        if column.type == target:
            columns.append(column)
            continue
        if pa.types.is_timestamp(column.type) and column.type.tz is not None:
            return None  # PostgreSQL would convert it; executemany keeps its behaviour
        if pa.types.is_null(column.type):
            columns.append(pa.nulls(len(column), target))
            continue
        if pa.types.is_string(target) and not (
            pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        ):
            return None  # a number or a date into a text column: let PostgreSQL cast it
        try:
            safe = not pa.types.is_timestamp(target)  # nanoseconds dropped, as psycopg2 does
            columns.append(column.cast(target, safe=safe))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return None
    return pa.table(columns, names=arrow.column_names)


def _qualified(table: Table) -> str:
    return f'{table.schema}."{table.name}"' if table.schema else f'"{table.name}"'


def _copy(conn: Connection, target: str, arrow: pa.Table) -> int:
    """``COPY target FROM STDIN`` in CSV, inside the connection's transaction. Arrow's CSV quotes
    every string and leaves a null unquoted and empty: COPY reads the first as text (an empty
    string stays empty) and the second as NULL."""
    buffer = io.BytesIO()
    pa_csv.write_csv(arrow, buffer, _CSV)
    buffer.seek(0)
    quoted = ", ".join(f'"{c}"' for c in arrow.column_names)
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.copy_expert(f"COPY {target} ({quoted}) FROM STDIN WITH (FORMAT csv)", buffer)
    finally:
        cursor.close()
    return arrow.num_rows


def _duckdb_insert(conn: Connection, table: Table, arrow: pa.Table) -> int:
    return _duckdb_append(conn, f'{table.schema}."{table.name}"', arrow)


def _duckdb_append(conn: Connection, target: str, arrow: pa.Table) -> int:
    raw = conn.connection.driver_connection
    # DuckDB >= 2 refuses register() while a previous result (e.g. after SQLAlchemy's .scalar())
    # is not fully fetched; a completed statement clears it, inside the same transaction.
    raw.execute("SELECT 1").fetchall()
    view = f"_hopia_bulk_{abs(hash(target))}"
    raw.register(view, arrow)
    try:
        quoted = ", ".join(f'"{c}"' for c in arrow.column_names)
        raw.execute(f"INSERT INTO {target} ({quoted}) SELECT {quoted} FROM {view}")
    finally:
        # After a failed INSERT the transaction is aborted and unregister() fails too; the
        # INSERT's error is the one to report.
        with contextlib.suppress(Exception):
            raw.unregister(view)
    return arrow.num_rows

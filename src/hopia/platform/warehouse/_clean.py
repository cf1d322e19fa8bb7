"""Text values every engine accepts: the one place where what a database refuses is removed.

PostgreSQL refuses the NUL character in any text value ("A string literal cannot contain NUL"),
losing the whole batch; DuckDB stores it as is, so the two engines would disagree. Neither can
store a lone surrogate (JSON ``"\\ud800"``, a file name that is not UTF-8), which Python strings
may hold. Both reach the warehouse through escapes (JSON ``\\u0000``, HL7 ``\\X00\\``) in texts,
identities, document types, file names.

Every text parameter of every statement (SQLAlchemy's ``before_cursor_execute``, both engines)
and every text column of a DuckDB bulk insert goes through :func:`clean_text`, which replaces
each such character by U+FFFD, the Unicode replacement character. One character for one keeps
the length: offsets into a note (``note_nlp``, PHI spans) stay valid. Cleaning is idempotent
and the same on both engines, so a lookup by a cleaned value finds the cleaned row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

REPLACEMENT = "\ufffd"
_REFUSED = re.compile("[\x00\ud800-\udfff]")


def clean_text(value: str) -> str:
    """``value`` with NUL and lone surrogates replaced by U+FFFD (same length)."""
    if value.isascii():
        return value.replace("\x00", REPLACEMENT) if "\x00" in value else value
    return _REFUSED.sub(REPLACEMENT, value)


def clean_value(value: Any) -> Any:
    return clean_text(value) if isinstance(value, str) else value


def clean_parameters(parameters: Any) -> Any:
    """The parameters of one statement (a mapping, a sequence, or a list of them for
    ``executemany``), text values cleaned; other values untouched."""
    if isinstance(parameters, Mapping):
        return {k: clean_value(v) for k, v in parameters.items()}
    if isinstance(parameters, list | tuple):
        cleaned = (
            clean_parameters(p) if isinstance(p, Mapping | list | tuple) else clean_value(p)
            for p in parameters
        )
        return type(parameters)(cleaned)
    return clean_value(parameters)


def before_cursor_execute(
    conn: Any,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: Any,
    executemany: bool,
) -> tuple[str, Any]:
    """SQLAlchemy event hook (``retval=True``): clean every statement's parameters."""
    return statement, clean_parameters(parameters)


def clean_arrow(table: pa.Table) -> pa.Table:
    """``table`` with NUL replaced in its text columns (Arrow strings cannot hold surrogates:
    values are cleaned before they become Arrow, see :func:`clean_value`)."""
    for i, column in enumerate(table.columns):
        is_text = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        if is_text and pc.any(pc.match_substring(column, "\x00")).as_py():
            fixed = pc.replace_substring(column, "\x00", REPLACEMENT)
            table = table.set_column(i, table.field(i), fixed)
    return table

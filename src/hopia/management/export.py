"""Every management table as CSV or XLSX, as a manager downloads it from a dashboard.

The tables are tidy pandas frames; the export keeps their column names and values (no index).
CSV is UTF-8 with a BOM and ``;`` separators, what a French Excel opens without an import
wizard; XLSX has one sheet per table (openpyxl, sheet names cut to Excel's 31 characters).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

import pandas as pd

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def to_csv(frame: pd.DataFrame) -> bytes:
    """``frame`` as CSV bytes for a French spreadsheet (BOM, ``;``, decimal point kept)."""
    return frame.to_csv(index=False, sep=";").encode("utf-8-sig")


def sheet_name(name: str) -> str:
    """A valid, non-empty Excel sheet name (31 characters, none of ``[]:*?/\\``)."""
    return _SHEET_FORBIDDEN.sub("_", name).strip("'")[:31] or "table"


def to_xlsx(tables: Mapping[str, pd.DataFrame]) -> bytes:
    """One sheet per table (in the mapping's order); two names that collide once cut get a
    number."""
    if not tables:
        raise ValueError("aucun tableau à exporter")
    buffer = io.BytesIO()
    used: set[str] = set()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in tables.items():
            base = sheet_name(name)
            candidate, n = base, 1
            while candidate.lower() in used:
                n += 1
                suffix = f" ({n})"
                candidate = base[: 31 - len(suffix)] + suffix
            used.add(candidate.lower())
            frame.to_excel(writer, sheet_name=candidate, index=False)
    return buffer.getvalue()

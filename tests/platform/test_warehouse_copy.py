"""Bulk inserts keep every value as it was given, whichever path they take: COPY on PostgreSQL
(Arrow CSV), ``executemany`` where Arrow cannot type a column, the Arrow scan on DuckDB. The two
engines read back the same rows."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import event, select

from hopia.platform.warehouse import Warehouse, schema
from hopia.platform.warehouse._clean import REPLACEMENT
from tests.conftest import ENGINES
from tests.platform.pg import engine_warehouse

TEXTS = [
    "",  # an empty string is not NULL
    None,
    'guillemets " et virgule, ; point-virgule',
    "ligne 1\nligne 2\r\nfin\ttabulation \\N barre \\ oblique",
    "accents éèàç œ — emoji 🩺",
    "NUL\x00dedans",
]


def _documents() -> list[dict]:
    return [
        {
            "document_id": 2**40 + i,
            "content_hash": f"{i:064d}",
            "source_path": f"/data/{i}.txt",
            "source_ref": f"/data/{i}.txt#{i}",
            "format": "texte",
            "status": "done",
            "error": value,
            "doc_date": date(2026, 1, 1 + i) if i % 2 else None,
            "text": value,
            "run_id": 1,
            "ingested_at": datetime(2026, 12, 7, 21, 0, 0, 123456 + i),
        }
        for i, value in enumerate(TEXTS)
    ]


def _read(wh: Warehouse) -> tuple[list, list]:
    with wh.engine.connect() as conn:
        docs = conn.execute(
            select(
                schema.document.c.document_id,
                schema.document.c.error,
                schema.document.c.doc_date,
                schema.document.c.text,
                schema.document.c.ingested_at,
            ).order_by(schema.document.c.document_id)
        ).all()
        ocr = conn.execute(
            select(schema.document_ocr).order_by(
                schema.document_ocr.c.document_id, schema.document_ocr.c.page
            )
        ).all()
    return [tuple(r) for r in docs], [tuple(r) for r in ocr]


@pytest.mark.parametrize("engine", ENGINES)
def test_bulk_paths_keep_values(engine: str, tmp_path: Path) -> None:
    ocr = pd.DataFrame(
        {
            "document_id": [1, 1, 2],
            "page": [1.0, 2.0, np.nan],  # floats for an integer column (a pandas NaN)
            "confidence": [0.1, 99.5, 1e-9],
            "low": [True, False, True],
        }
    )
    with engine_warehouse(engine, tmp_path) as wh:
        seen: list[str] = []
        event.listen(wh.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
        with wh.begin() as conn:
            assert wh.insert_rows(conn, schema.document, _documents()) == len(TEXTS)
        # neither path sends the rows as INSERT statements (COPY, or DuckDB's Arrow scan)
        assert not [s for s in seen if "INSERT INTO hopia_id.document" in s]
        # page NaN: NOT NULL refused on both engines, whichever path
        with pytest.raises(Exception, match="(?i)null"), wh.begin() as conn:
            wh.insert_frame(conn, schema.document_ocr, ocr)
        with wh.begin() as conn:
            assert wh.insert_frame(conn, schema.document_ocr, ocr.dropna()) == 2
            # mixed types in a column (Arrow cannot type it): executemany, same result
            mixed = [
                {"document_id": 3, "page": 1, "confidence": 5, "low": False},
                {"document_id": 3, "page": "2", "confidence": 7.25, "low": True},
            ]
            if engine != "duckdb":  # DuckDB's Arrow path has always refused mixed columns
                assert wh.insert_rows(conn, schema.document_ocr, mixed) == 2
                assert [s for s in seen if "INSERT INTO hopia_id.document_ocr" in s]
        docs, pages = _read(wh)
    assert [d[3] for d in docs] == [
        t.replace("\x00", REPLACEMENT) if t else t for t in TEXTS
    ]  # NUL cleaned, the rest as given ("" stays "", None stays NULL)
    assert [d[1] for d in docs] == [d[3] for d in docs]
    assert [d[2] for d in docs] == [r["doc_date"] for r in _documents()]
    assert [d[4] for d in docs] == [r["ingested_at"] for r in _documents()]
    assert docs[0][0] == 2**40
    assert pages[:2] == [(1, 1, 0.1, True), (1, 2, 99.5, False)]
    if engine != "duckdb":
        assert pages[2:] == [(3, 1, 5.0, False), (3, 2, 7.25, True)]


@pytest.mark.postgres
def test_copy_and_duckdb_read_back_the_same(tmp_path: Path) -> None:
    """The same rows through COPY (PostgreSQL) and the Arrow scan (DuckDB) read back equal."""
    out = {}
    for engine in ("duckdb", "postgres"):
        with engine_warehouse(engine, tmp_path / engine) as wh:
            with wh.begin() as conn:
                wh.insert_rows(conn, schema.document, _documents())
            out[engine] = _read(wh)
    assert out["duckdb"] == out["postgres"]

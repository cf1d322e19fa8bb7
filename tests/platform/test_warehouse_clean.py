"""Text a database refuses (NUL, lone surrogates) is cleaned in one place, the same way on both
engines, whichever path the row takes (bulk insert, DataFrame, plain statement)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from hopia.platform.warehouse import Warehouse, schema
from hopia.platform.warehouse._clean import REPLACEMENT, clean_parameters, clean_text
from tests.conftest import ENGINES
from tests.platform.pg import engine_warehouse


@pytest.fixture(params=ENGINES)
def wh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    with engine_warehouse(request.param, tmp_path) as warehouse:
        yield warehouse


def test_clean_text_replaces_one_for_one() -> None:
    assert clean_text("a\x00b") == "a\ufffdb"
    assert clean_text("é\x00\ud800\udce9z") == "é\ufffd\ufffd\ufffdz"
    assert clean_text("déjà propre") == "déjà propre"
    dirty = "fi\x00èvre \udce9"
    assert len(clean_text(dirty)) == len(dirty)  # offsets into the text stay valid
    assert clean_text(clean_text(dirty)) == clean_text(dirty)


def test_clean_parameters_walks_every_shape() -> None:
    params = [{"a": "x\x00", "b": 3, "c": b"\x00"}, ("y\x00", None), ["z\x00", 1.5]]
    assert clean_parameters(params) == [
        {"a": "x\ufffd", "b": 3, "c": b"\x00"},
        ("y\ufffd", None),
        ["z\ufffd", 1.5],
    ]
    assert clean_parameters(["a\x00", 2]) == ["a\ufffd", 2]  # positional, one statement


def _doc(document_id: int, text: str, path: str) -> dict[str, object]:
    return {
        "document_id": document_id,
        "content_hash": f"h{document_id}",
        "source_path": path,
        "source_ref": path,
        "format": "text",
        "status": "done",
        "text": text,
        "run_id": 1,
        "ingested_at": datetime(2026, 12, 6),
    }


def test_nul_and_surrogates_are_stored_cleaned_on_every_path(wh: Warehouse) -> None:
    doc = schema.document
    frame = pd.DataFrame([_doc(3, "cadre\x00 \udce9", "/in/c.txt")], dtype=object)
    with wh.begin() as conn:
        wh.insert_rows(conn, doc, [_doc(1, "Fièvre\x00 à 39", "/in/r\udce9sum\udce9.txt")])
        conn.execute(doc.insert().values(**_doc(2, "HL7 \x00\x00 fin", "/in/b\x00.hl7")))
        wh.insert_frame(conn, doc, frame)
    with wh.engine.connect() as conn:
        rows = conn.execute(select(doc.c.text, doc.c.source_path).order_by(doc.c.document_id))
        stored = [tuple(r) for r in rows]
    r = REPLACEMENT
    assert stored == [
        (f"Fièvre{r} à 39", f"/in/r{r}sum{r}.txt"),
        (f"HL7 {r}{r} fin", f"/in/b{r}.hl7"),
        (f"cadre{r} {r}", "/in/c.txt"),
    ]


def test_a_lookup_by_a_dirty_value_finds_the_cleaned_row(wh: Warehouse) -> None:
    doc = schema.document
    with wh.begin() as conn:
        wh.insert_rows(conn, doc, [_doc(1, "x", "/in/a\x00.txt")])
    with wh.engine.connect() as conn:
        found = conn.execute(select(doc.c.document_id).where(doc.c.source_ref == "/in/a\x00.txt"))
        assert found.scalars().all() == [1]

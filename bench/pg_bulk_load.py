"""Bulk loads on PostgreSQL: COPY against ``executemany`` (issue 16, item 2).

Synthetic ``note_nlp`` rows (the largest table an ingest appends to; text columns of mention
size), ``--rows`` of them:

- ``executemany``: the insert path before COPY (SQLAlchemy's ``insertmanyvalues`` batching, as
  ``insert_frame`` did: the frame as records);
- ``insert_frame``: :meth:`Warehouse.insert_frame` now (Arrow CSV, ``COPY … FROM STDIN``);
- ``load-parquet``: the same mentions as a Spark output tree (``--rows / 10`` notes, 10 mentions
  each, a third of them coded), through :func:`hopia.data.omop.load_parquet.load_parquet` on
  PostgreSQL and on DuckDB: staging, key resolution, ids, one transaction. Rows/s counts the
  notes and the mentions.

Each measure runs ``--repeat`` times into a fresh throw-away database; median and range.

    OMP_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python bench/pg_bulk_load.py --rows 200000
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import psycopg2
import pyarrow as pa
import pyarrow.parquet as pq

from hopia.data.omop.load_parquet import load_parquet
from hopia.platform.warehouse import Warehouse, schema


def _mentions(rows: int) -> pd.DataFrame:
    words = ["diabète de type 2", "hypertension artérielle", "metformine 1000 mg", "créatinine"]
    return pd.DataFrame(
        {
            "note_nlp_id": range(1, rows + 1),
            "note_id": [1 + i // 10 for i in range(rows)],
            "section_concept_id": 0,
            "snippet": [f"… {words[i % 4]} depuis {i % 30} ans …" for i in range(rows)],
            "offset": [str(i % 5000) for i in range(rows)],
            "lexical_variant": [words[i % 4] for i in range(rows)],
            "note_nlp_concept_id": [0] * rows,
            "nlp_system": "hopia-nlp bench",
            "nlp_date": date(2026, 12, 7),
            "term_exists": "Y",
            "term_modifiers": json.dumps({"label": "diagnostic", "negation": False}),
        }
    )


def _tree(out: Path, rows: int) -> int:
    notes = rows // 10
    note = pa.Table.from_pylist(
        [
            {
                "note_date": date(2026, 1, 1 + i % 28),
                "note_type_concept_id": 32817,
                "note_class_concept_id": 0,
                "note_title": "CRH",
                "note_text": "Compte rendu " * 40,
                "encoding_concept_id": 0,
                "language_concept_id": 0,
                "note_source_value": f"doc:{i:016x}",
                "person_source_value": f"P{i % 5000:015x}",
            }
            for i in range(notes)
        ]
    )
    frame = _mentions(rows).drop(columns=["note_nlp_id", "note_id"])
    frame["note_source_value"] = [f"doc:{i // 10:016x}" for i in range(rows)]
    frame["mention_index"] = [i % 10 for i in range(rows)]
    coded = [i % 3 == 0 for i in range(rows)]
    frame["note_nlp_concept_id"] = [-1 if c else 0 for c in coded]
    frame["concept_vocabulary"] = ["CIM10" if c else None for c in coded]
    frame["concept_code"] = [f"E{10 + i % 40}" if c else None for i, c in enumerate(coded)]
    for name, table in (("note", note), ("note_nlp", pa.Table.from_pandas(frame))):
        path = out / "omop" / name / "month=2026-01" / "part-0.parquet"
        path.parent.mkdir(parents=True)
        pq.write_table(table, path)
    return notes + rows


def _pg(fn: Callable[[Warehouse], int]) -> float:
    admin = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    admin.autocommit = True
    name = f"hopia_bench_{uuid.uuid4().hex[:8]}"
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    try:
        wh = Warehouse(f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}")
        started = time.perf_counter()
        rows = fn(wh)
        seconds = time.perf_counter() - started
        wh.close()
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
    return rows / seconds


def _duckdb(fn: Callable[[Warehouse], int]) -> float:
    with tempfile.TemporaryDirectory() as folder:
        wh = Warehouse(f"duckdb:///{folder}/w.duckdb")
        started = time.perf_counter()
        rows = fn(wh)
        seconds = time.perf_counter() - started
        wh.close()
    return rows / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frame = _mentions(args.rows)
    table = schema.CDM["note_nlp"]

    def executemany(wh: Warehouse) -> int:
        records = frame.astype(object).where(frame.notna(), None).to_dict("records")
        with wh.begin() as conn:
            conn.execute(table.insert(), records)
        return len(frame)

    def copy(wh: Warehouse) -> int:
        with wh.begin() as conn:
            return wh.insert_frame(conn, table, frame)

    with tempfile.TemporaryDirectory() as folder:
        total = _tree(Path(folder), args.rows)

        def parquet(wh: Warehouse) -> int:
            report = load_parquet(wh, Path(folder))
            assert report.rows["omop.note_nlp"] == args.rows
            return total

        cases = {
            "postgres executemany": lambda: _pg(executemany),
            "postgres insert_frame (COPY)": lambda: _pg(copy),
            "postgres load-parquet": lambda: _pg(parquet),
            "duckdb load-parquet": lambda: _duckdb(parquet),
        }
        for label, run in cases.items():
            rates = [run() for _ in range(args.repeat)]
            print(
                f"{label}: median {statistics.median(rates):,.0f} rows/s "
                f"(range {min(rates):,.0f}-{max(rates):,.0f}, n={len(rates)})",
                flush=True,
            )


if __name__ == "__main__":
    main()

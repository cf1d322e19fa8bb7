"""Do ART indexes on the columns the audited reads filter on help DuckDB? (issue 12, migration 12)

Migration 12 gives PostgreSQL an index on each of these columns
(:data:`hopia.platform.warehouse.migrations.READ_INDEXES`). On DuckDB this measures, on a copy
of a warehouse (the 300-patient demo's), with and without the same indexes:

- the reads of the document view and of the patient timeline: each query as the services run
  it, for ``--lookups`` notes and persons, the two copies interleaved, ``--repeat`` rounds;
  median ms per query and its range across rounds;
- the cost on the ingest's write path: every row of ``note_nlp`` (the largest table the ingest
  appends to) inserted again through :meth:`Warehouse.insert_rows`'s Arrow path, into the
  emptied table, with and without its index.

    OMP_NUM_THREADS=1 .venv/bin/python bench/duckdb_read_indexes.py \\
        --warehouse /tmp/benchdemo/demo/warehouse.duckdb --repeat 5
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa
from sqlalchemy import text

from hopia.platform.warehouse import Warehouse
from hopia.platform.warehouse._bulk import _duckdb_insert
from hopia.platform.warehouse.migrations import READ_INDEXES
from hopia.platform.warehouse.schema import CDM

READS = {
    "note_nlp by note_id": 'SELECT "offset", lexical_variant, note_nlp_concept_id, term_exists, '
    "term_modifiers FROM omop.note_nlp WHERE note_id = :k ORDER BY note_nlp_id",
    "document by note_id": "SELECT document_id, text FROM hopia_id.document "
    "WHERE note_id = :k AND status = 'done'",
    "phi_span by document_id": "SELECT start_char, end_char, surrogate FROM hopia_id.phi_span "
    "WHERE document_id = :d ORDER BY start_char",
    "note by person_id": "SELECT note_id, note_date, note_title FROM omop.note "
    "WHERE person_id = :p",
    "visit_occurrence by person_id": "SELECT visit_occurrence_id, care_site_id "
    "FROM omop.visit_occurrence WHERE person_id = :p",
    "condition_occurrence by person_id": "SELECT condition_start_date, condition_source_value "
    "FROM omop.condition_occurrence WHERE person_id = :p",
    "drug_exposure by person_id": "SELECT drug_exposure_start_date, drug_source_value "
    "FROM omop.drug_exposure WHERE person_id = :p",
    "measurement by person_id": "SELECT measurement_date, value_as_number "
    "FROM omop.measurement WHERE person_id = :p",
}


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def keys(wh: Warehouse, n: int) -> list[dict[str, int]]:
    with wh.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT d.note_id AS k, d.document_id AS d, n.person_id AS p FROM hopia_id.document d "
            "JOIN omop.note n ON n.note_id = d.note_id WHERE d.status = 'done' "
            "ORDER BY hash(d.note_id) LIMIT :n"), {"n": n}).mappings().all()  # fmt: skip
    return [dict(r) for r in rows]


def time_reads(wh: Warehouse, ks: list[dict[str, int]]) -> dict[str, float]:
    """Median ms per query, over the keys."""
    out = {}
    with wh.engine.connect() as conn:
        for name, sql in READS.items():
            statement = text(sql)
            spent = []
            for k in ks:
                params = {p: k[p] for p in ("k", "d", "p") if f":{p}" in sql}
                started = time.perf_counter()
                conn.execute(statement, params).all()
                spent.append((time.perf_counter() - started) * 1000)
            out[name] = statistics.median(spent)
    return out


def time_insert(wh: Warehouse, rows: pa.Table) -> float:
    """Seconds to append every row of note_nlp again, into the emptied table."""
    with wh.begin() as conn:
        conn.execute(text("DELETE FROM omop.note_nlp"))
    with wh.begin() as conn:
        started = time.perf_counter()
        _duckdb_insert(conn, CDM["note_nlp"], rows)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"load at start {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        copies = {}
        for variant in ("without", "with"):
            path = Path(tmp) / f"{variant}.duckdb"
            shutil.copyfile(args.warehouse, path)
            copies[variant] = Warehouse(f"duckdb:///{path}")
        with copies["with"].begin() as conn:
            for name, schema_name, table, column in READ_INDEXES:
                conn.execute(text(f'CREATE INDEX {name} ON {schema_name}."{table}" ("{column}")'))
        ks = keys(copies["without"], args.lookups)
        with copies["without"].engine.connect() as conn:
            raw = conn.connection.driver_connection
            nlp_rows = raw.sql("SELECT * FROM omop.note_nlp").to_arrow_table()
        print(f"{len(ks)} notes and their persons; note_nlp: {nlp_rows.num_rows} rows")
        reads: dict[str, dict[str, list[float]]] = {v: {} for v in copies}
        inserts: dict[str, list[float]] = {v: [] for v in copies}
        for round_ in range(args.repeat):
            order = list(copies) if round_ % 2 == 0 else list(reversed(copies))
            for variant in order:
                for name, ms in time_reads(copies[variant], ks).items():
                    reads[variant].setdefault(name, []).append(ms)
                inserts[variant].append(time_insert(copies[variant], nlp_rows))
            print(f"round {round_ + 1}: load {load()}")
        print("\n| read (ms per query, median over rounds, min–max) | without index | with ART |")
        print("|---|---|---|")
        for name in READS:
            cells = []
            for variant in ("without", "with"):
                v = reads[variant][name]
                cells.append(f"{statistics.median(v):.2f} ({min(v):.2f}–{max(v):.2f})")
            print(f"| {name} | {cells[0]} | {cells[1]} |")
        cells = []
        for variant in ("without", "with"):
            v = inserts[variant]
            cells.append(f"{statistics.median(v):.2f} ({min(v):.2f}–{max(v):.2f})")
        print(f"| append all {nlp_rows.num_rows} note_nlp rows (s) | {cells[0]} | {cells[1]} |")
        for wh in copies.values():
            wh.close()
    print(f"load at end {load()}")


if __name__ == "__main__":
    main()

"""PostgreSQL at scale: load a synthetic CHU, time the cohorts and the quality checks, size it.

    PYTHONPATH=src .venv/bin/python bench/scale_pg.py --persons 1000000 [--reuse] [--repeat 3]
        [--db hopia_scale] [--host 127.0.0.1] [--user postgres] [--work /tmp/hopia-scale]
        [--explain out/plans] [--compare-indexes] [--no-quality]

1. (Re)creates the database ``--db`` on the server (never the tests' ``test`` database), with
   Hopia's schema from its own migrations (``Warehouse(url)`` migrates on open, as
   ``hopia init`` does).
2. Generates ``--persons`` persons with :func:`hopia.data.synth.scale.scale_tables` (the rows of
   ``bench/cohort.py``'s DuckDB warehouse: ~50 facts per person, note_nlp mentions with their
   qualifiers) into Parquet files, chunk by chunk, then loads each file with ``COPY … FROM
   STDIN (FORMAT csv)``. The secondary indexes of the migrations are dropped for the load and
   built after it, then ``ANALYZE``; each step is timed (rows/s per table).
   ``--reuse`` skips 1-2 and measures the database as it is.
3. Times, median of ``--repeat`` runs with min-max: the three-criteria cohort of
   ``bench/cohort.py`` (text index + loop diuretic + BNP) and every cohort of
   ``configs/cohorts/``, through :func:`hopia.data.cohorts.run_cohort` (attrition statement
   and characterisation, as a user runs them), and the quality catalogue through
   :func:`hopia.data.quality.run_checks` (total, and its slowest checks). ``--explain DIR``
   writes each cohort's ``EXPLAIN (ANALYZE, BUFFERS)``. ``--compare-indexes`` runs everything
   twice: without the indexes of migration 17, then with them (the before/after).
4. Prints the size of each table (``pg_total_relation_size``) and an extrapolation, stated as
   such, to a warehouse taking 10 M notes a year.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pyarrow as pa  # noqa: E402
import pyarrow.csv as pacsv  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from hopia.platform.warehouse import Warehouse, schema  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from cohort import DEFINITION  # noqa: E402  (bench/cohort.py: the three-criteria cohort)

FACT_TABLES = (
    "visit_occurrence",
    "condition_occurrence",
    "drug_exposure",
    "measurement",
    "note",
    "note_nlp",
)
BATCH_ROWS = 500_000


@dataclass
class LoadReport:
    persons: int
    generate_s: float = 0.0
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    copy_s: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    index_s: float = 0.0
    analyze_s: float = 0.0


def admin_connection(host: str, user: str):  # noqa: ANN201
    import psycopg2

    conn = psycopg2.connect(host=host, port=5432, user=user, dbname="postgres", connect_timeout=5)
    conn.autocommit = True
    return conn


def recreate_database(host: str, user: str, db: str) -> None:
    if db in ("test", "postgres", "template0", "template1"):
        raise SystemExit(f"refusing to recreate the database {db!r}")
    admin = admin_connection(host, user)
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{db}"')
    admin.close()


def secondary_indexes(raw) -> list[tuple[str, str]]:  # noqa: ANN001
    """(name, definition) of the OMOP tables' indexes that are not primary keys."""
    with raw.cursor() as cur:
        cur.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "JOIN pg_class c ON c.relname = i.indexname "
            "JOIN pg_index x ON x.indexrelid = c.oid "
            "WHERE i.schemaname = %s AND NOT x.indisprimary ORDER BY 1",
            (schema.OMOP,),
        )
        return list(cur.fetchall())


def _plain(batch: pa.RecordBatch) -> pa.Table:
    """Dictionary columns decoded: the CSV writer takes plain strings."""
    columns = [
        c.dictionary_decode() if pa.types.is_dictionary(c.type) else c for c in batch.columns
    ]
    return pa.Table.from_arrays(columns, names=batch.schema.names)


def copy_parquet(raw, table: str, path: Path) -> int:  # noqa: ANN001
    """COPY one Parquet file into ``omop.table``, by batches; one transaction."""
    rows = 0
    parquet = pq.ParquetFile(path)
    columns = ", ".join(f'"{c}"' for c in parquet.schema_arrow.names)
    sql = f'COPY {schema.OMOP}."{table}" ({columns}) FROM STDIN WITH (FORMAT csv)'
    options = pacsv.WriteOptions(include_header=False)
    with raw.cursor() as cur:
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
            buffer = io.BytesIO()
            pacsv.write_csv(_plain(batch), buffer, options)
            buffer.seek(0)
            cur.copy_expert(sql, buffer)
            rows += batch.num_rows
    raw.commit()
    return rows


def load(
    raw,  # noqa: ANN001  (a psycopg2 connection to an empty, migrated warehouse)
    persons: int,
    seed: int = 0,
    chunk: int = 100_000,
    work: Path = Path("/tmp/hopia-scale"),
) -> LoadReport:
    """Generate ``persons`` into Parquet files under ``work``, then COPY them into the
    warehouse; its secondary indexes are dropped for the load and built again after it."""
    from hopia.data.synth.scale import scale_tables

    folder = work / f"p{persons}-s{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.parquet"):
        old.unlink()
    report = LoadReport(persons=persons)
    started = time.perf_counter()
    files: list[tuple[str, Path]] = []
    for i, (name, table) in enumerate(scale_tables(persons, seed, chunk)):
        path = folder / f"{i:04d}-{name}.parquet"
        pq.write_table(table, path, compression="zstd")
        files.append((name, path))
    report.generate_s = time.perf_counter() - started

    indexes = secondary_indexes(raw)
    with raw.cursor() as cur:
        for name, _ in indexes:
            cur.execute(f"DROP INDEX {schema.OMOP}.{name}")
    raw.commit()
    for name, path in files:
        start = time.perf_counter()
        report.rows[name] += copy_parquet(raw, name, path)
        report.copy_s[name] += time.perf_counter() - start
    start = time.perf_counter()
    with raw.cursor() as cur:
        for _, definition in indexes:
            cur.execute(definition)
    raw.commit()
    report.index_s = time.perf_counter() - start
    autocommit, raw.autocommit = raw.autocommit, True
    start = time.perf_counter()
    with raw.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    report.analyze_s = time.perf_counter() - start
    raw.autocommit = autocommit
    return report


def print_load(report: LoadReport) -> None:
    total = sum(report.rows.values())
    copy_total = sum(report.copy_s.values())
    print(f"generate (numpy -> Parquet zstd): {total:,} rows in {report.generate_s:.1f} s")
    for name in sorted(report.rows, key=lambda n: -report.rows[n]):
        seconds = report.copy_s[name]
        rate = report.rows[name] / seconds if seconds else float("nan")
        print(f"  COPY {name:<22} {report.rows[name]:>12,} rows {seconds:8.1f} s {rate:>10,.0f} /s")
    print(f"COPY total: {total:,} rows in {copy_total:.1f} s ({total / copy_total:,.0f} rows/s)")
    print(f"secondary indexes built after the load: {report.index_s:.1f} s")
    print(f"VACUUM ANALYZE: {report.analyze_s:.1f} s")


def cohort_definitions() -> list:  # noqa: ANN201
    from hopia.data.cohorts import load_definition, parse_definition

    found = [parse_definition(DEFINITION)]
    found += [load_definition(p) for p in sorted((ROOT / "configs" / "cohorts").glob("*.yaml"))]
    return found


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):8.3f} s (min {min(values):.3f}, max {max(values):.3f})"


def explain(wh: Warehouse, definition, folder: Path, tag: str) -> float:  # noqa: ANN001
    """Write the attrition statement's EXPLAIN (ANALYZE, BUFFERS); its execution time, ms."""
    from sqlalchemy import text

    from hopia.data.cohorts.compile import compile_cohort

    try:
        from hopia.platform.warehouse.analytics import for_analytics
    except ImportError:  # sources from before issue 16 (a before/after run)
        for_analytics = None

    compiled = compile_cohort(definition)
    sql = str(
        compiled.attrition_query().compile(
            dialect=wh.engine.dialect, compile_kwargs={"literal_binds": True}
        )
    ).replace("%%", "%")
    with wh.engine.connect() as conn:
        if for_analytics is not None:  # the settings run_cohort reads with (JIT off)
            for_analytics(conn)
        plan = conn.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql.replace("%", "%%"))).all()
    lines = [r[0] for r in plan]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{tag}-{definition.name}.txt").write_text(sql + "\n\n" + "\n".join(lines) + "\n")
    last = [line for line in lines if line.startswith("Execution Time")]
    return float(last[0].split()[2]) if last else float("nan")


def measure_cohorts(wh: Warehouse, args: argparse.Namespace, tag: str) -> dict[str, float]:
    from hopia.data.cohorts import run_cohort

    medians = {}
    for definition in cohort_definitions():
        attrition, characterisation, counts = [], [], []
        for _ in range(args.repeat):
            result = run_cohort(wh, definition)
            attrition.append(result.seconds["attrition"])
            characterisation.append(result.seconds["characterisation"])
            counts = [s.count for s in result.attrition]
        medians[definition.name] = statistics.median(attrition)
        print(f"  cohort {definition.name}: attrition {counts}")
        print(f"    attrition statement   {_spread(attrition)}")
        print(f"    characterisation      {_spread(characterisation)}")
        if args.explain:
            ms = explain(wh, definition, args.explain, tag)
            print(f"    EXPLAIN ANALYZE: {ms:.0f} ms -> {args.explain}/{tag}-{definition.name}.txt")
    return medians


def measure_quality(wh: Warehouse, args: argparse.Namespace) -> dict[str, float]:
    from hopia.data.quality import run_checks

    totals, per_check = [], defaultdict(list)
    statuses: dict[str, int] = defaultdict(int)
    for _ in range(args.quality_repeat):
        start = time.perf_counter()
        run = run_checks(wh)
        totals.append(time.perf_counter() - start)
        for r in run.results:
            if r.duration_ms is not None:
                per_check[r.check_id].append(r.duration_ms / 1000)
        statuses = defaultdict(int)
        for r in run.results:
            statuses[str(r.status.value)] += 1
    queried = sum(statistics.median(v) for v in per_check.values())
    print(f"  quality: {len(run.results)} checks {dict(statuses)}")
    print(f"    whole catalogue       {_spread(totals)}")
    print(f"    of which queries      {queried:8.3f} s (median per check, summed)")
    slow = sorted(per_check.items(), key=lambda kv: -statistics.median(kv[1]))[: args.top]
    for check_id, values in slow:
        print(f"    slow check {check_id:<60} {_spread(values)}")
    return {"total": statistics.median(totals)} | {
        k: statistics.median(v) for k, v in per_check.items()
    }


def sizes(wh: Warehouse) -> dict[str, tuple[int, int]]:
    """table -> (rows, bytes with indexes and TOAST)."""
    from sqlalchemy import text

    out = {}
    with wh.engine.connect() as conn:
        for name in ("person", *FACT_TABLES):
            rows = conn.execute(text(f'SELECT count(*) FROM {schema.OMOP}."{name}"')).scalar()
            size = conn.execute(
                text(f"SELECT pg_total_relation_size('{schema.OMOP}.\"{name}\"')")
            ).scalar()
            out[name] = (int(rows), int(size))
    return out


def print_sizing(
    measured: dict[str, tuple[int, int]],
    load_rate: float | None,
    cohort_s: float | None,
    notes_per_year: int,
    text_bytes: int,
) -> None:
    total_rows = sum(r for r, _ in measured.values())
    total_bytes = sum(b for _, b in measured.values())
    notes = measured["note"][0]
    print("sizes (pg_total_relation_size: table + indexes + TOAST):")
    for name, (rows, size) in measured.items():
        per = size / rows if rows else 0
        print(f"  {name:<22} {rows:>12,} rows {size / 2**30:8.2f} GiB {per:7.0f} B/row")
    print(f"  total                  {total_rows:>12,} rows {total_bytes / 2**30:8.2f} GiB")
    scale = notes_per_year / notes
    print(
        f"EXTRAPOLATION (linear in rows, not measured) to {notes_per_year:,} notes a year, with "
        f"this data's mix ({total_rows / notes:.1f} OMOP rows per note, "
        f"{measured['note_nlp'][0] / notes:.1f} mentions per note):"
    )
    print(
        f"  rows a year: {total_rows * scale:,.0f}; disk a year without note text: "
        f"{total_bytes * scale / 2**30:,.0f} GiB"
    )
    print(
        f"  note text (assumed {text_bytes:,} B a note after TOAST compression, not measured "
        f"here: the synthetic notes are empty): +{notes_per_year * text_bytes / 2**30:,.0f} GiB "
        "a year"
    )
    if load_rate:
        print(
            f"  COPY at the measured {load_rate:,.0f} rows/s: "
            f"{total_rows * scale / load_rate / 60:,.0f} min of load a year of data "
            "(indexes and ANALYZE apart)"
        )
    if cohort_s is not None:
        print(
            f"  three-criteria cohort: {cohort_s:.2f} s here; linear in rows: "
            f"{cohort_s * scale:.1f} s on one year, {cohort_s * scale * 5:.1f} s on five"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--db", default="hopia_scale")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--user", default="postgres")
    parser.add_argument("--work", type=Path, default=Path("/tmp/hopia-scale"))
    parser.add_argument("--reuse", action="store_true", help="measure the database as it is")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quality-repeat", type=int, default=3)
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--no-cohorts", action="store_true")
    parser.add_argument("--top", type=int, default=12, help="slowest quality checks to print")
    parser.add_argument("--explain", type=Path, default=None, help="folder for the plans")
    parser.add_argument(
        "--compare-indexes",
        action="store_true",
        help="measure without migration 17's indexes, then with them",
    )
    parser.add_argument("--notes-per-year", type=int, default=10_000_000)
    parser.add_argument("--note-text-bytes", type=int, default=2_000)
    args = parser.parse_args()

    url = f"postgresql+psycopg2://{args.user}@{args.host}:5432/{args.db}"
    print(f"date {date.today()}  cores {os.cpu_count()}  load {os.getloadavg()}")
    load_rate = None
    if not args.reuse:
        import psycopg2

        recreate_database(args.host, args.user, args.db)
        Warehouse(url).close()  # the migrations, as on a site's first `hopia init`
        raw = psycopg2.connect(host=args.host, port=5432, user=args.user, dbname=args.db)
        try:
            report = load(raw, args.persons, args.seed, args.chunk, args.work)
        finally:
            raw.close()
        print_load(report)
        load_rate = sum(report.rows.values()) / sum(report.copy_s.values())
    wh = Warehouse(url)  # migrates: a database loaded before migration 17 gets its indexes
    phases = ["after"]
    if args.compare_indexes:
        from hopia.platform.warehouse.migrations import SCALE_INDEXES

        phases = ["before", "after"]
    cohort_s = None
    results: dict[str, dict[str, float]] = {}
    for phase in phases:
        if args.compare_indexes:
            _set_scale_indexes(wh, phase == "after")
            print(f"== {phase} migration 17's indexes ({len(SCALE_INDEXES)})")
        results[phase] = {}
        if not args.no_cohorts:
            results[phase] |= measure_cohorts(wh, args, phase)
            cohort_s = results[phase][DEFINITION["name"]]
        if not args.no_quality:
            results[phase] |= {f"quality:{k}": v for k, v in measure_quality(wh, args).items()}
    if len(phases) == 2:
        print("before -> after migration 17 (medians):")
        before_slow = sorted(
            (k for k in results["before"] if k.startswith("quality:") and k != "quality:total"),
            key=lambda k: -results["before"][k],
        )
        shown = [k for k in results["before"] if not k.startswith("quality:")]
        shown += ["quality:total", *before_slow[: args.top]] if not args.no_quality else []
        for key in shown:
            before, after = results["before"][key], results["after"].get(key)
            if after:
                print(f"  {key:<66} {before:8.3f} s -> {after:8.3f} s ({before / after:5.1f}x)")
    print_sizing(sizes(wh), load_rate, cohort_s, args.notes_per_year, args.note_text_bytes)
    wh.close()
    print(f"load average at the end {os.getloadavg()}")


def _set_scale_indexes(wh: Warehouse, present: bool) -> None:
    from sqlalchemy import text

    from hopia.platform.warehouse.migrations import SCALE_INDEXES, create_scale_indexes

    with wh.engine.begin() as conn:
        if present:
            create_scale_indexes(conn)
        else:
            for name, *_ in SCALE_INDEXES:
                conn.execute(text(f"DROP INDEX IF EXISTS {schema.OMOP}.{name}"))
        conn.execute(text("ANALYZE"))


if __name__ == "__main__":
    main()

"""Cohort speed at scale: Hopia's compiled SQL on DuckDB vs the same cohort written in pandas.

    .venv/bin/python bench/cohort.py [--persons 1000000] [--db PATH] [--repeat 3]

Generates (once, kept in ``--db``) a structured warehouse with ``hopia.data.synth.scale``
(1 M persons: about 50 M rows, note_nlp included), then runs a three-criteria cohort:

1. index: first affirmed, current mention of "insuffisance cardiaque" (``note_nlp`` + ``note``);
2. a loop diuretic (ATC C03C) within 90 days of it;
3. a BNP (LOINC 42637-9) above 400 within 30 days of it.

DuckDB: :func:`hopia.data.cohorts.run_cohort`'s attrition statement (the cohort's counts, one
SQL statement), best of ``--repeat``. pandas: the same logic, vectorised, on DataFrames already in
memory; reading them from the warehouse is timed apart. Both must give the same attrition. Two
ratios are printed, each like for like: data in memory (pandas' frames vs DuckDB's warm run) and
from storage (pandas' read + compute vs DuckDB's first run after opening the file).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pandas as pd  # noqa: E402

from hopia.platform.warehouse import Warehouse  # noqa: E402

DEFINITION = {
    "name": "bench_insuffisance_cardiaque",
    "title": "Insuffisance cardiaque, diurétique de l'anse, BNP > 400",
    "index": {"text": {"terms": ["insuffisance cardiaque"]}},
    "inclusion": [
        {"drug": {"atc": ["C03C"]}, "window": {"start": -90, "end": 90}},
        {
            "measurement": {"loinc": ["42637-9"], "value": {"gt": 400}},
            "window": {"start": -30, "end": 30},
        },
    ],
}


def load_frames(wh: Warehouse) -> dict[str, pd.DataFrame]:
    """The columns the pandas version needs, read from the DuckDB warehouse (not timed)."""
    queries = {
        "person": "SELECT person_id FROM omop.person",
        "concept": "SELECT concept_id, vocabulary_id, concept_code FROM omop.concept",
        "note": "SELECT note_id, person_id, note_date FROM omop.note",
        "note_nlp": "SELECT note_id, lexical_variant, term_exists, term_temporal "
        "FROM omop.note_nlp",
        "drug": "SELECT person_id, drug_concept_id, drug_exposure_start_date "
        "FROM omop.drug_exposure",
        "measurement": "SELECT person_id, measurement_concept_id, measurement_source_value, "
        "value_as_number, measurement_date FROM omop.measurement",
    }
    with wh.engine.connect() as conn:
        raw = conn.connection.driver_connection
        return {name: raw.sql(q).df() for name, q in queries.items()}


def pandas_cohort(f: dict[str, pd.DataFrame]) -> list[int]:
    """The benchmark cohort in plain pandas: attrition [population, index, drug, lab]."""
    nlp = f["note_nlp"]
    hit = (
        nlp["lexical_variant"].str.lower().str.contains("insuffisance cardiaque", regex=False)
        & (nlp["term_exists"] == "Y")
        & (nlp["term_temporal"].fillna("") != "history")
    )
    mentions = nlp.loc[hit, ["note_id"]].merge(f["note"], on="note_id")
    index = mentions.groupby("person_id", as_index=False)["note_date"].min()
    index = index.rename(columns={"note_date": "index_date"})

    concept = f["concept"]
    atc = concept.loc[
        (concept["vocabulary_id"] == "ATC") & concept["concept_code"].str.startswith("C03C"),
        "concept_id",
    ]
    drug = f["drug"]
    drugs = drug[drug["drug_concept_id"].isin(atc)]
    drugs = drugs.merge(index, on="person_id")
    offset = (
        pd.to_datetime(drugs["drug_exposure_start_date"]) - pd.to_datetime(drugs["index_date"])
    ).dt.days
    treated = set(drugs.loc[offset.between(-90, 90), "person_id"])

    loinc = concept.loc[
        (concept["vocabulary_id"] == "LOINC") & (concept["concept_code"] == "42637-9"),
        "concept_id",
    ]
    m = f["measurement"]
    labs = m[
        (m["measurement_concept_id"].isin(loinc) | (m["measurement_source_value"] == "42637-9"))
        & (m["value_as_number"] > 400)
    ].merge(index, on="person_id")
    offset = (pd.to_datetime(labs["measurement_date"]) - pd.to_datetime(labs["index_date"])).dt.days
    raised = set(labs.loc[offset.between(-30, 30), "person_id"])

    indexed = set(index["person_id"])
    after_drug = indexed & treated
    return [len(f["person"]), len(indexed), len(after_drug), len(after_drug & raised)]


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None, help="DuckDB file (kept between runs)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from hopia.data.cohorts import parse_definition, run_cohort
    from hopia.data.synth.scale import generate_scale

    db = args.db or Path(tempfile.gettempdir()) / f"hopia-bench-cohort-{args.persons}.duckdb"
    url = f"duckdb:///{db}"
    fresh = not db.exists()
    wh = Warehouse(url)
    if fresh:
        report = generate_scale(wh, args.persons, seed=args.seed)
        print(
            f"generated {report.persons:,} persons, {report.total_rows:,} rows "
            f"in {report.seconds:.0f} s -> {db}"
        )
    else:
        print(f"reusing {db}")
    definition = parse_definition(DEFINITION)
    walls, cpus, result = [], [], None
    for _ in range(args.repeat):
        cpu = time.process_time()  # all threads of this process: DuckDB's workers included
        result = run_cohort(wh, definition, characterise_members=False)
        cpus.append(time.process_time() - cpu)
        walls.append(result.seconds["attrition"])
    start = time.perf_counter()
    characterised = run_cohort(wh, definition)
    full = time.perf_counter() - start
    duck_counts = [s.count for s in result.attrition]

    start = time.perf_counter()
    frames = load_frames(wh)
    load_s = time.perf_counter() - start
    wh.close()
    rows = sum(len(f) for f in frames.values())
    pandas_walls, pandas_cpus = [], []
    for _ in range(args.repeat):
        start, cpu = time.perf_counter(), time.process_time()
        pandas_counts = pandas_cohort(frames)
        pandas_walls.append(time.perf_counter() - start)
        pandas_cpus.append(time.process_time() - cpu)
    if pandas_counts != duck_counts:
        raise SystemExit(f"MISMATCH duckdb {duck_counts} != pandas {pandas_counts}")

    best, pandas_best = min(walls), min(pandas_walls)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"date {date.today()}  cpu {_cpu()}  cores {os.cpu_count()}  load {load:.1f}")
    print(f"persons {args.persons:,}; attrition {duck_counts} (population, index, +drug, +lab)")
    print(
        f"duckdb  cohort (attrition, 1 statement): best {best:.3f} s wall "
        f"(first {walls[0]:.3f} s), {min(cpus):.3f} s CPU"
    )
    print(
        f"duckdb  with characterisation: {full:.2f} s "
        f"(characterisation {characterised.seconds['characterisation']:.2f} s)"
    )
    print(
        f"pandas  same cohort on {rows:,} in-memory rows: best {pandas_best:.3f} s wall, "
        f"{min(pandas_cpus):.3f} s CPU (reading them from the warehouse: {load_s:.1f} s more)"
    )
    print(
        f"ratio pandas/duckdb, data in memory (pandas' frames vs DuckDB's warm buffers): "
        f"{pandas_best / best:.1f}x wall, {min(pandas_cpus) / min(cpus):.1f}x CPU"
    )
    print(
        f"ratio pandas/duckdb, from storage (pandas reads its tables then computes; DuckDB's "
        f"first run after opening the file): {(pandas_best + load_s) / walls[0]:.1f}x wall"
    )


if __name__ == "__main__":
    main()

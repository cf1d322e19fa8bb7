"""Spark ingest scaling: the same synthetic corpus through Spark ``local[1]`` and ``local[2]``,
and through the local (non-Spark) ingest pinned to one CPU.

    .venv/bin/python bench/scale_spark.py [--docs 300] [--repeats 3] [--partitions 8]

Each variant runs in its own subprocess, in interleaved rotated rounds (a slow minute of a
loaded machine spreads over every variant). A Spark run first ingests a few documents into a
throwaway output, on as many partitions as the timed run, so that its Python workers are
started and have built the components (``hopia.data.ingest.spark.components``: once per
worker); the timed run is then ``hopia.data.ingest.spark.job.ingest`` of the whole corpus into a
fresh output, every stage included (hashing, analysis, tables, visits and patients, publication).
The local ingest's time is its report's (the run itself, its pipeline loaded before).

Prints, per variant, the median documents/s over the rounds and its range; the scaling ratio
``local[2] / local[1]`` (paired round by round; target >= 1.7); and the per-core overhead of
Spark: ``local[1]`` against the local ingest on one CPU. Needs pyspark and Java 17 (the
``spark`` extra). The machine's load (``os.getloadavg``) is printed before and after: on a
loaded machine the ratio means little.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

VARIANTS = ("spark1", "spark2", "local")
LABELS = {"spark1": "Spark local[1]", "spark2": "Spark local[2]", "local": "local ingest, 1 CPU"}


def run_spark(corpus: Path, master: str, partitions: int) -> dict:
    """One timed Spark run (after a warm-up run) in this process."""
    from datetime import date

    from pyspark.sql import SparkSession

    from hopia.data.ingest.spark.components import JobConfig
    from hopia.data.ingest.spark.job import ingest
    from hopia.platform.config import get_settings
    from hopia.platform.keys import load_secret

    os.environ["PYSPARK_PYTHON"] = sys.executable
    spark = (
        SparkSession.builder.master(master)
        .appName("hopia-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.driver.memory", "2g")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    settings = get_settings()
    config = JobConfig.from_settings(settings, load_secret(settings), date.today())
    docs = spark.read.parquet(str(corpus / "documents.parquet"))
    patients = spark.read.parquet(str(corpus / "patients.parquet"))
    out = Path(tempfile.mkdtemp(dir=corpus))
    warm = docs.limit(2 * partitions)
    ingest(spark, warm, out / "warm", config, patients=patients, partitions=partitions)
    start = time.perf_counter()
    report = ingest(spark, docs, out / "run", config, patients=patients, partitions=partitions)
    seconds = time.perf_counter() - start
    spark.stop()
    assert report.errors == 0, report
    return {"docs": report.added, "seconds": seconds, "steps": report.seconds}


def run_local(corpus: Path) -> dict:
    """The local ingest service, as the CLI calls it; its report's time."""
    from hopia.platform.config import get_settings
    from hopia.platform.warehouse import Warehouse
    from hopia.services.context import Context
    from hopia.services.ingest import IngestRequest, ingest

    with Context.local(get_settings()) as ctx:
        ctx.use_warehouse(Warehouse(f"duckdb:///{corpus / f'bench-{os.getpid()}.duckdb'}"))
        request = IngestRequest(
            paths=(corpus / "documents.jsonl",), patients=corpus / "patients.jsonl"
        )
        report = ingest(ctx, request)
    assert not report.errors, report.errors[:3]
    return {"docs": report.added, "seconds": report.seconds}


def _child(variant: str, corpus: Path, partitions: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", variant, "--corpus", str(corpus)]
        + ["--partitions", str(partitions)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _corpus(folder: Path, n_docs: int, seed: int) -> int:
    """``n_docs`` synthetic documents (JSONL for the local ingest, Parquet for Spark) and
    their patients; the number of documents."""
    import pandas as pd

    from hopia.data.synth import generate, write_corpus

    full = folder / "full"
    write_corpus(generate(max(2, n_docs // 4 + 1), seed), full, formats=False)
    lines = (full / "documents.jsonl").read_text("utf-8").splitlines()[:n_docs]
    (folder / "documents.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    (folder / "patients.jsonl").write_bytes((full / "patients.jsonl").read_bytes())
    for name in ("documents", "patients"):
        rows = [json.loads(x) for x in (folder / f"{name}.jsonl").read_text("utf-8").splitlines()]
        pd.DataFrame(rows, dtype=object).to_parquet(folder / f"{name}.parquet")
    return len(lines)


def _spread(values: list[float]) -> str:
    return f"{median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        if args.child == "local":
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # the worker inherits it
            result = run_local(args.corpus)
        else:
            master = "local[1]" if args.child == "spark1" else "local[2]"
            result = run_spark(args.corpus, master, args.partitions)
        print(json.dumps(result))
        return

    load_before = os.getloadavg()
    runs: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        # A Hopia home of the bench's own, its keys made as `hopia init` makes them; the
        # compiled pipeline stays in the configured cache.
        from hopia.platform.config import get_settings
        from hopia.platform.keys import init_keys

        cache = get_settings().cache_dir.resolve()
        os.environ.update(HOPIA_HOME=str(Path(tmp) / "home"), HOPIA_CACHE_DIR=str(cache))
        for name in ("HOPIA_SECRET_KEY", "HOPIA_VAULT_KEY", "HOPIA_AUDIT_KEY"):
            os.environ.pop(name, None)
        get_settings.cache_clear()
        init_keys(get_settings())
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        n_docs = _corpus(corpus, args.docs, args.seed)
        for round_no in range(args.repeats):
            order = VARIANTS[round_no % 3 :] + VARIANTS[: round_no % 3]
            for variant in order:
                result = _child(variant, corpus, args.partitions)
                result["round"] = round_no
                runs[variant].append(result)
                print(
                    f"round {round_no + 1}/{args.repeats} ({LABELS[variant]}): "
                    f"{result['docs'] / result['seconds']:.2f} docs/s",
                    file=sys.stderr,
                )
    load_after = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))

    rate = {v: [r["docs"] / r["seconds"] for r in runs[v]] for v in VARIANTS}
    ratio = [b / a for a, b in zip(rate["spark1"], rate["spark2"], strict=True)]
    overhead = [s / loc for s, loc in zip(rate["spark1"], rate["local"], strict=True)]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"load (1, 5, 15 min): before {load_before}, after {load_after}")
    print(
        f"corpus: {n_docs} synthetic documents; {args.repeats} interleaved rounds; "
        f"{args.partitions} partitions"
    )
    for v in VARIANTS:
        print(f"{LABELS[v]}: {_spread(rate[v])} docs/s")
        if v != "local":
            steps = runs[v][0]["steps"]
            shares = {k: median(r["steps"][k] for r in runs[v]) for k in steps}
            print(
                "  seconds per step (median): "
                + ", ".join(f"{k} {x:.1f}" for k, x in shares.items())
            )
    print(f"scaling local[2] / local[1]: {_spread(ratio)} (target >= 1.7)")
    print(f"Spark local[1] / local ingest on 1 CPU: {_spread(overhead)}")


if __name__ == "__main__":
    main()

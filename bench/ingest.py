"""Ingest throughput: raw EDS-NLP vs Hopia's end-to-end ingest, same corpus, same pipes.

    .venv/bin/python bench/ingest.py [--patients 60] [--seed 7] [--batch-size 32]

(a) anchor: raw EDS-NLP, its own pipes only (``EDS_BASELINE``: sentences, normalizer, sections,
    dates, quantities, drugs, cim10, covid, comorbidities, qualifiers), ``nlp.pipe`` over the
    original texts;
(n) Hopia's NLP pipeline alone (EDS-NLP base pipes + Hopia's pipes), same way;
(b) Hopia: pseudonymise (hybrid: rules, gazetteers, identities and the PHI model) + NLP + write
    everything to a fresh DuckDB warehouse; the PHI model and the clinical NER run in a worker
    process one batch ahead, on the original texts (``nlp.ner_worker``, the default);
(c) the same with rules-only pseudonymisation (HOPIA_DATA__PSEUDO__USE_MODEL=false): the worker runs
    the clinical NER only.
Each runs in its own subprocess (same pipeline, loaded from the cache before timing starts), so
peak memory is measured separately. Prints docs/s, the ratios to (a) and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def _texts(corpus: Path) -> list[str]:
    with (corpus / "documents.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh]


def run_raw(corpus: Path, batch_size: int) -> dict:
    from hopia.data.nlp.evaluate.systems import eds_pipeline
    from hopia.platform.config import get_settings

    return _run_nlp(eds_pipeline(get_settings().cache_dir), corpus, batch_size)


def run_nlp(corpus: Path, batch_size: int) -> dict:
    from hopia.data.nlp import get_nlp
    from hopia.platform.config import get_settings

    return _run_nlp(get_nlp(cache_dir=get_settings().cache_dir), corpus, batch_size)


def _run_nlp(nlp: Any, corpus: Path, batch_size: int) -> dict:
    texts = _texts(corpus)
    for _ in nlp.pipe(texts[:4]):  # lazy loads (compiled lexicons, NER weights) outside timing
        pass
    start = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=batch_size):
        pass
    seconds = time.perf_counter() - start
    return {"docs": len(texts), "chars": sum(map(len, texts)), "seconds": seconds}


def run_hopia(corpus: Path, batch_size: int) -> dict:
    """The ingest service, as the CLI calls it; ``report.seconds`` times the run itself (the
    pipeline and its models are loaded before it starts)."""
    os.environ["HOPIA_DATA__NLP__BATCH_SIZE"] = str(batch_size)
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
    return {"docs": report.added, "chars": report.characters, "seconds": report.seconds}


def _child(mode: str, corpus: Path, batch_size: int, **env: str) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            mode,
            "--corpus",
            str(corpus),
            "--batch-size",
            str(batch_size),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ | env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--child", choices=["raw", "nlp", "hopia"])
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.warm:
        from hopia.data.nlp import get_nlp
        from hopia.data.nlp.evaluate.systems import eds_pipeline
        from hopia.platform.config import get_settings

        get_nlp(cache_dir=get_settings().cache_dir)
        eds_pipeline(get_settings().cache_dir)
        return
    if args.child:
        run = {"raw": run_raw, "nlp": run_nlp, "hopia": run_hopia}[args.child]
        result = run(args.corpus, args.batch_size)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # the PHI model's worker process, when there is one
        result["worker_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(json.dumps(result))
        return

    from hopia.data.synth import generate, write_corpus

    # Build the caches once, outside the timings, in a child: Linux keeps a process's peak RSS
    # across exec, so children forked from a parent that loaded the pipelines would report it.
    subprocess.run([sys.executable, __file__, "--warm"], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        write_corpus(generate(args.patients, args.seed), corpus, formats=False)
        raw = _child("raw", corpus, args.batch_size)
        nlp = _child("nlp", corpus, args.batch_size)
        hopia = _child("hopia", corpus, args.batch_size)
        rules = _child("hopia", corpus, args.batch_size, HOPIA_DATA__PSEUDO__USE_MODEL="false")
    runs = [("a", raw), ("n", nlp), ("b", hopia), ("c", rules)]
    rate = {name: r["docs"] / r["seconds"] for name, r in runs}
    print(f"machine: {_cpu()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"corpus: {raw['docs']} documents, {raw['chars'] / raw['docs']:.0f} characters on average"
    )
    print(f"(a) raw EDS-NLP: {rate['a']:7.2f} docs/s, peak RSS {raw['peak_rss_mb']:.0f} MB")
    print(
        f"(n) Hopia NLP pipeline alone: {rate['n']:7.2f} docs/s, peak RSS "
        f"{nlp['peak_rss_mb']:.0f} MB"
    )
    print(
        f"(b) Hopia ingest, hybrid pseudonymisation (default): {rate['b']:7.2f} docs/s, peak RSS "
        f"{hopia['peak_rss_mb']:.0f} MB + PHI model worker {hopia['worker_rss_mb']:.0f} MB"
    )
    print(
        f"(c) Hopia ingest, rules-only pseudonymisation: {rate['c']:7.2f} docs/s, peak RSS "
        f"{rules['peak_rss_mb']:.0f} MB"
    )
    print(
        f"ratio (n)/(a): {rate['n'] / rate['a']:.2f}  ratio (b)/(a): {rate['b'] / rate['a']:.2f}  "
        f"ratio (c)/(a): {rate['c'] / rate['a']:.2f}  (target >= 0.8)"
    )


if __name__ == "__main__":
    main()

"""Ingest throughput: raw EDS-NLP vs Hopia's end-to-end ingest, same corpus, same pipes.

    .venv/bin/python bench/ingest.py [--patients 40] [--repeats 5] [--cpus all|0|0,1]

(a) anchor: raw EDS-NLP, its own pipes only (``EDS_BASELINE``: sentences, normalizer, sections,
    dates, quantities, drugs, cim10, covid, comorbidities, qualifiers), ``nlp.pipe`` over the
    original texts;
(n) Hopia's NLP pipeline alone (EDS-NLP base pipes + Hopia's pipes), same way;
(b) Hopia: pseudonymise (hybrid: rules, gazetteers, identities and the PHI model) + NLP + write
    everything to a fresh DuckDB warehouse; the PHI model and the clinical NER run in a worker
    process one batch ahead, on the original texts (``nlp.ner_worker``, the default);
(c) the same with rules-only pseudonymisation (HOPIA_DATA__PSEUDO__USE_MODEL=false): the worker runs
    the clinical NER only;
(f) optional (``--variants anbcf``): (b) with the PHI model on every line
    (HOPIA_DATA__PSEUDO__MODEL_FOCUS=false), the default before the focus: the focus's gain.
Each runs in its own subprocess (same pipeline, loaded from the cache before timing starts), so
peak memory is measured separately. The variants run in interleaved, rotated rounds
(``--repeats``), all pinned to the same CPUs (``--cpus``; the ingest's worker inherits the pin),
and each figure is the median over rounds with its range: docs/s (wall clock), CPU milliseconds
per document (the process and its worker, user + system), the cores a variant actually used
(CPU seconds / wall seconds) and the ratios to (a), paired round by round, both per wall second
and per CPU second.
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
from statistics import median
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
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in nlp.pipe(texts, batch_size=batch_size):
        pass
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {
        "docs": len(texts),
        "chars": sum(map(len, texts)),
        "seconds": seconds,
        "cpu_seconds": cpu,
    }


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
    return {
        "docs": report.added,
        "chars": report.characters,
        "seconds": report.seconds,
        "cpu_seconds": report.cpu_seconds,  # this process and the models worker, run only
    }


def _child(mode: str, corpus: Path, batch_size: int, cpus: str, **env: str) -> dict:
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
            "--cpus",
            cpus,
        ],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ | env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# name -> (child mode, extra environment, label)
VARIANTS: dict[str, tuple[str, dict[str, str], str]] = {
    "a": ("raw", {}, "raw EDS-NLP (anchor)"),
    "n": ("nlp", {}, "Hopia NLP pipeline alone"),
    "b": ("hopia", {}, "Hopia ingest, hybrid pseudonymisation (default)"),
    "c": ("hopia", {"HOPIA_DATA__PSEUDO__USE_MODEL": "false"}, "Hopia ingest, rules-only"),
    "f": (
        "hopia",
        {"HOPIA_DATA__PSEUDO__MODEL_FOCUS": "false"},
        "Hopia ingest, hybrid, PHI model on every line (before 0.3.x's focus)",
    ),
}


def _parse_cpus(text: str) -> set[int]:
    if text == "all":
        return set(os.sched_getaffinity(0))
    return {int(part) for part in text.split(",") if part.strip()}


def _spread(values: list[float], digits: int = 2) -> str:
    return f"{median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds")
    parser.add_argument(
        "--cpus",
        default="all",
        help="CPU ids every variant is pinned to, e.g. 0 (one core) or 0,1; default: all",
    )
    parser.add_argument("--variants", default="anbc", help="subset of a, n, b, c, f")
    parser.add_argument("--json", type=Path, help="also write every run to this file")
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
        # Pinned before anything loads: the ingest's worker process inherits the affinity, so
        # every variant gets the same cores.
        os.sched_setaffinity(0, _parse_cpus(args.cpus))
        run = {"raw": run_raw, "nlp": run_nlp, "hopia": run_hopia}[args.child]
        result = run(args.corpus, args.batch_size)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # the model worker process, when there is one
        result["worker_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(json.dumps(result))
        return

    from hopia.data.synth import generate, write_corpus

    names = [name for name in "anbcf" if name in args.variants]
    cpus = sorted(_parse_cpus(args.cpus))
    # Build the caches once, outside the timings, in a child: Linux keeps a process's peak RSS
    # across exec, so children forked from a parent that loaded the pipelines would report it.
    subprocess.run([sys.executable, __file__, "--warm"], check=True)
    runs: dict[str, list[dict]] = {name: [] for name in names}
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
        write_corpus(generate(args.patients, args.seed), corpus, formats=False)
        for round_no in range(args.repeats):
            # Interleaved and rotated: a slow minute of the machine spreads over every variant
            # instead of landing on one.
            order = names[round_no % len(names) :] + names[: round_no % len(names)]
            for name in order:
                mode, env, _ = VARIANTS[name]
                result = _child(mode, corpus, args.batch_size, args.cpus, **env)
                result["round"] = round_no
                runs[name].append(result)
                print(
                    f"round {round_no + 1}/{args.repeats} ({name}): "
                    f"{result['docs'] / result['seconds']:.2f} docs/s",
                    file=sys.stderr,
                )
    if args.json:
        args.json.write_text(json.dumps({"cpus": cpus, "runs": runs}, indent=1))

    first = runs[names[0]][0]
    print(f"machine: {_cpu()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"corpus: {first['docs']} documents, {first['chars'] / first['docs']:.0f} characters on "
        f"average; {args.repeats} interleaved rounds; every variant pinned to CPU(s) {cpus}"
    )
    print("median (min-max) over rounds:")
    rate = {n: [r["docs"] / r["seconds"] for r in runs[n]] for n in names}
    for name in names:
        rs = runs[name]
        cpu_ms = [1000 * r["cpu_seconds"] / r["docs"] for r in rs]
        cores = [r["cpu_seconds"] / r["seconds"] for r in rs]
        rss = median(r["peak_rss_mb"] for r in rs)
        worker = median(r["worker_rss_mb"] for r in rs)
        extra = f" + worker {worker:.0f} MB" if name in "bcf" else ""
        print(
            f"({name}) {VARIANTS[name][2]}: {_spread(rate[name])} docs/s, "
            f"{_spread(cpu_ms, 1)} CPU ms/doc, {median(cores):.2f} cores used, "
            f"peak RSS {rss:.0f} MB{extra}"
        )
    if "a" in names:
        for name in names[1:]:
            wall = [x / a for x, a in zip(rate[name], rate["a"], strict=True)]
            cpu = [
                (ra["cpu_seconds"] / ra["docs"]) / (rx["cpu_seconds"] / rx["docs"])
                for rx, ra in zip(runs[name], runs["a"], strict=True)
            ]
            print(
                f"ratio ({name})/(a), paired by round: docs/s {_spread(wall)}, "
                f"per CPU-second {_spread(cpu)}  (target >= 0.8)"
            )


if __name__ == "__main__":
    main()

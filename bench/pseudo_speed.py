"""Speed of the pseudonymiser alone (detection), one process on one core: docs/s and CPU s/doc,
median and spread of interleaved rounds.

    OMP_NUM_THREADS=1 .venv/bin/python bench/pseudo_speed.py [--rounds 5] [--docs 150] [--json out]

Documents: the texts of a ``hopia synth`` corpus (seed 7, not a training seed of the model), cut
into pieces of ``--chars`` characters. Variants, timed in turn within each round (so a load
change on a shared machine hits them alike): rules and gazetteers only; rules + model on every
line (the default hybrid); rules + model on the lines the rules leave unexplained (``focus``),
when this version of Hopia has it. To compare two versions of the code, run this script under
each, alternately, and compare the medians (``--json`` writes them).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, str(Path(__file__).parent))

SECRET = b"bench-pseudo-speed-0123456789"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--docs", type=int, default=150)
    parser.add_argument("--chars", type=int, default=2000)
    parser.add_argument("--patients", type=int, default=60)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from hopia.data.pseudo import Pseudonymiser
    from pseudo import _one_core, documents

    pinned = _one_core()
    docs = documents(args.patients, 7, args.chars, args.docs)
    variants = {
        "règles et gazetteers": Pseudonymiser(SECRET, use_model=False),
        "hybride (modèle sur tout le texte)": Pseudonymiser(SECRET, use_model=True),
    }
    if "model_focus" in inspect.signature(Pseudonymiser).parameters:
        variants["hybride, modèle sur les lignes inexpliquées"] = Pseudonymiser(
            SECRET, use_model=True, model_focus=True
        )
    for ps in variants.values():  # warm-up: gazetteers, model, caches
        for d in docs[:10]:
            ps.detect(d)
    rates: dict[str, list[float]] = {k: [] for k in variants}
    cpu: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(args.rounds):
        for name, ps in variants.items():
            w0, c0 = time.perf_counter(), time.process_time()
            for d in docs:
                ps.detect(d)
            wall, used = time.perf_counter() - w0, time.process_time() - c0
            rates[name].append(len(docs) / wall)
            cpu[name].append(used / len(docs))
    print(f"{len(docs)} documents de {args.chars} caractères, {args.rounds} tours, {pinned}")
    out = {}
    for name in variants:
        r = rates[name]
        med = statistics.median(r)
        out[name] = {
            "docs_per_s": med,
            "min": min(r),
            "max": max(r),
            "cpu_s_per_doc": statistics.median(cpu[name]),
        }
        print(
            f"{name:45} {med:7.1f} docs/s (min {min(r):.1f}, max {max(r):.1f}), "
            f"{1000 * statistics.median(cpu[name]):.1f} ms CPU/doc"
        )
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Pseudonymisation speed on one core: Hopia's detector vs an anchor (unpii, when installed).

    .venv/bin/python bench/pseudo.py [--patients 120] [--seed 7] [--chars 2000] [--docs 600]

Documents: the texts of a ``hopia synth`` corpus, concatenated and cut into pieces of exactly
``--chars`` characters (one document per piece, no known identity: the pieces mix patients).
Timed: ``Pseudonymiser.detect`` (rules + gazetteers; with and without the statistical model when
the constructor takes ``use_model``) and ``pseudonymise`` (detect + surrogates), after a warm-up.
Anchor: ``unpii.find_spans`` / ``unpii.anonymize`` (Rust, French medical texts) limited to one
thread; ``pip install unpii==0.3.1`` into the venv to get it. Target: >= 200 docs/s for the
rules + gazetteer path.
"""

from __future__ import annotations

import argparse
import inspect
import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

TARGET_DOCS_PER_S = 200.0
SECRET = b"bench-pseudo-secret-0123456789"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def _one_core() -> str:
    """Pin the process to one CPU so that no library spreads work behind our back."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def documents(patients: int, seed: int, chars: int, limit: int) -> list[str]:
    """Synthetic CHU texts, concatenated then cut into ``chars``-character documents."""
    from hopia.data.synth import generate

    corpus = generate(n_patients=patients, seed=seed)
    stream = "\n\n".join(d.text for d in corpus.documents)
    docs = [stream[i : i + chars] for i in range(0, len(stream) - chars + 1, chars)]
    return docs[:limit]


def rate(fn: Callable[[str], Any], docs: Sequence[str], warmup: int = 20) -> float:
    """Documents per second of ``fn`` over ``docs`` (after a warm-up on the first few)."""
    for text in docs[:warmup]:
        fn(text)
    start = time.perf_counter()
    for text in docs:
        fn(text)
    return len(docs) / (time.perf_counter() - start)


def hopia_variants() -> list[tuple[str, dict[str, Any]]]:
    """The Pseudonymiser configurations to time: with and without the model when it has one."""
    from hopia.data.pseudo import Pseudonymiser

    if "use_model" in inspect.signature(Pseudonymiser).parameters:
        return [
            ("rules + gazetteers (use_model=False)", {"use_model": False}),
            ("rules + gazetteers + model (use_model=True)", {"use_model": True}),
        ]
    return [("rules + gazetteers (default)", {})]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--chars", type=int, default=2000)
    parser.add_argument("--docs", type=int, default=600)
    args = parser.parse_args()

    from hopia.data.pseudo import Pseudonymiser

    pinned = _one_core()
    docs = documents(args.patients, args.seed, args.chars, args.docs)
    print(
        f"machine: {_cpu()}, {os.cpu_count()} cores ({pinned}), Python {platform.python_version()}"
    )
    print(f"documents: {len(docs)} of {args.chars} characters (hopia synth, seed {args.seed})")

    results: list[tuple[float, float]] = []  # (detect, detect + replace) docs/s per variant
    for name, kwargs in hopia_variants():
        try:
            ps = Pseudonymiser(SECRET, **kwargs)
        except Exception as exc:  # a model that cannot load must not hide the rules' figure
            print(f"Hopia {name}: not run ({type(exc).__name__}: {exc})")
            continue
        detect = rate(ps.detect, docs)
        full = rate(ps.pseudonymise, docs)
        results.append((detect, full))
        print(f"Hopia {name}: detect {detect:7.1f} docs/s, detect + replace {full:7.1f} docs/s")
    if results:
        verdict = "met" if results[0][0] >= TARGET_DOCS_PER_S else "NOT met"
        print(f"target >= {TARGET_DOCS_PER_S:.0f} docs/s (rules + gazetteers, detect): {verdict}")

    try:
        import unpii
    except ImportError:
        print("anchor: unpii not installed (pip install unpii==0.3.1): no ratio")
        return
    unpii.set_max_threads(1)
    spans = rate(unpii.find_spans, docs)
    anonymize = rate(unpii.anonymize, docs)
    print(
        f"anchor unpii {unpii.__version__} (1 thread): find_spans {spans:7.1f} docs/s, "
        f"anonymize {anonymize:7.1f} docs/s"
    )
    if results:  # the rules + gazetteers path against the anchor
        detect, full = results[0]
        print(f"ratio Hopia detect / unpii find_spans: {detect / spans:.3f}")
        print(f"ratio Hopia detect + replace / unpii anonymize: {full / anonymize:.3f}")


if __name__ == "__main__":
    main()

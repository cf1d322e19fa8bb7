"""Cost of the tamper-evident audit log: the unkeyed chain of 0.2 vs the keyed chain with its
head checkpoint outside the warehouse (one HMAC, one ``stat`` of the checkpoint (read and
checked again only when another process changed it), one in-place, file-locked overwrite of it
per committed transaction, fdatasync'ed at most once a second).

    .venv/bin/python bench/audit.py [--entries 500] [--repeat 3]

Each append is its own transaction (``Warehouse.begin``), as a service writes one entry per
audited access; ``verify`` walks the whole log. Medians of ``--repeat`` runs, interleaved.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from hopia.platform import audit  # noqa: E402
from hopia.platform.warehouse import Warehouse  # noqa: E402


def run(n: int, keyed: bool) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        wh = Warehouse(f"duckdb:///{Path(tmp) / 'w.duckdb'}")
        if keyed:
            bound = audit.AuditAnchor(Path(tmp) / "audit", wh.display_url, lambda: b"k" * 32)
            audit.anchor(wh.engine, bound)
        started = time.perf_counter()
        for i in range(n):
            with wh.begin() as conn:
                audit.record(conn, "dr.x", "cohort.run", f"cohort:{i}", None, {"persons": i})
        appended = time.perf_counter()
        with wh.engine.connect() as conn:
            assert audit.verify(conn).ok
        verified = time.perf_counter()
        wh.close()
    return (appended - started) / n * 1000, (verified - appended) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for _ in range(args.repeat):
        for keyed in (False, True):  # interleaved: the machine's load hits both alike
            results[keyed].append(run(args.entries, keyed))
    for keyed, runs in results.items():
        append = statistics.median(r[0] for r in runs)
        check = statistics.median(r[1] for r in runs)
        name = "keyed + checkpoint" if keyed else "unkeyed (0.2)     "
        print(
            f"{name}: append {append:.1f} ms/entry (min {min(r[0] for r in runs):.1f}, "
            f"max {max(r[0] for r in runs):.1f}); verify {args.entries} entries {check:.0f} ms"
        )


if __name__ == "__main__":
    main()

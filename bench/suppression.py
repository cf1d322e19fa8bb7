"""Complementary suppression: does a reader recover small counts from a cohort's public results?

    .venv/bin/python bench/suppression.py [--tables 400]

Random cohorts (attrition chains with small and zero exclusions, sex and age distributions,
top lists with percentages; the generator of ``tests/data/cohorts/test_suppression_attack.py``)
are published twice: with the previous rule (primary suppression; in a distribution with a
single small cell, the next smallest hidden) and with ``CohortResult.public``
(``hopia.data.cohorts.run``: complementary suppression). The test's reader
(``tests/data/cohorts/attack.py``: every relation of the published rows, solved exactly by
MILP) then tries to pin each small count. Prints the
small counts recovered under each rule, the cells hidden, and the time ``public()`` takes.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.data.cohorts.attack import recovered  # noqa: E402
from tests.data.cohorts.test_suppression_attack import _truth, random_cohort  # noqa: E402

from hopia.data.cohorts.run import CohortResult  # noqa: E402
from hopia.data.cohorts.suppression import suppress  # noqa: E402


def previous_rule(result: CohortResult) -> dict:
    def distribution(counts: dict[str, int]) -> dict[str, int | str]:
        small = {k for k, n in counts.items() if 0 < n < 10}
        extra: set[str] = set()
        if len(small) == 1:
            shown = sorted((n, k) for k, n in counts.items() if k not in small and n > 0)
            extra = {shown[0][1]} if shown else set()
        return {k: "<10" if k in small else "*" if k in extra else n for k, n in counts.items()}

    public = result.public()
    for row, step in zip(public["attrition"], result.attrition, strict=True):
        row["count"] = suppress(step.count)
        row["excluded"] = None if step.excluded is None else suppress(step.excluded)
    c, published = result.characterisation, public.get("characterisation") or {}
    if c is not None and "sex" in published:
        published["persons"] = suppress(c.persons)
        published["sex"] = distribution(c.sex)
        published["age"]["bins"] = distribution(c.age_bins())
        for key in ("conditions", "drugs", "measurements"):
            for item in published[key]["items"]:
                item["percent"] = round(100 * item["persons"] / c.persons, 1)
    return public


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tables", type=int, default=400)
    args = parser.parse_args()
    stats: Counter[str] = Counter()
    times = []
    for seed in range(args.tables):
        result = random_cohort(seed)
        start = time.perf_counter()
        public = result.public()
        times.append(time.perf_counter() - start)
        truth = _truth(result)
        cells = [
            v for s in public["attrition"] for v in (s["count"], s["excluded"]) if v is not None
        ]
        c = public.get("characterisation") or {}
        cells += [
            *(c.get("sex") or {}).values(),
            *((c.get("age") or {}).get("bins") or {}).values(),
        ]
        stats["cells"] += len(cells)
        stats["small counts"] += sum(1 for v in truth.values() if 0 < v < 10)
        stats["complementary cells"] += sum(1 for v in cells if v == "*")
        stats["recovered, complementary suppression"] += len(recovered(public, truth))
        stats["recovered, previous rule"] += len(recovered(previous_rule(result), truth))
    times.sort()
    print(f"{args.tables} random cohorts: " + ", ".join(f"{k} {v}" for k, v in stats.items()))
    print(f"public(): median {1000 * times[len(times) // 2]:.2f} ms, max {1000 * times[-1]:.1f} ms")


if __name__ == "__main__":
    main()

"""Roster solve time and quality (issue 15, item 4): the synthetic service of
``hopia roster example`` (30 nurses × 6 weeks, and 20 × 4), CP-SAT on 2 workers.

    PYTHONPATH=src .venv/bin/python bench/roster.py [--repeat 3] [--time-limit 30] [--workers 2]

For each size, ``--repeat`` solves with solver seeds 0, 1, … of the same example (seed 0):
the time to the first roster that keeps every hard rule, the wall time (model, solve and
tables: the time limit unless optimality is proven first), the objective and its bound (in
the objective's units: weighted hours and shifts, see docs/management/roster.md), and the
hard-rule violations found by the independent check (must be 0). Medians with their range.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from hopia.management.roster import SolveOptions, example, solve, violations  # noqa: E402
from hopia.management.roster.report import coverage  # noqa: E402


def run(nurses: int, weeks: int, repeat: int, limit: float, workers: int) -> dict:
    ex = example.generate(nurses, weeks)
    problem = ex.problem()
    rows = []
    for seed in range(repeat):
        started = time.perf_counter()
        roster = solve(problem, SolveOptions(time_limit_s=limit, workers=workers, seed=seed))
        wall = time.perf_counter() - started
        rows.append(
            {
                "status": roster.status,
                "first_s": roster.first_solution_s,
                "wall_s": wall,
                "objective": roster.objective,
                "bound": roster.bound,
                "violations": len(violations(problem, roster.assignments)),
                "missing": int(coverage(roster)["missing"].sum()),
            }
        )

    def stat(key: str) -> list[float]:
        values = [r[key] for r in rows if r[key] is not None]
        return (
            [round(statistics.median(values), 2), round(min(values), 2), round(max(values), 2)]
            if values
            else []
        )

    return {
        "size": f"{nurses} x {weeks}",
        "statuses": [r["status"] for r in rows],
        "first_solution_s [median, min, max]": stat("first_s"),
        "wall_s": stat("wall_s"),
        "objective": stat("objective"),
        "bound": stat("bound"),
        "violations": sum(r["violations"] for r in rows),
        "missing": sum(r["missing"] for r in rows),
        "shifts_asked": int(ex.demand["required"].sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[0]
    print(f"load before: {load}", file=sys.stderr)
    for nurses, weeks in ((30, 6), (20, 4)):
        result = run(nurses, weeks, args.repeat, args.time_limit, args.workers)
        print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()

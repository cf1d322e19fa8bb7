"""Bed-needs backtest and steering timings on the synthetic hospital of the tests.

    OMP_NUM_THREADS=1 .venv/bin/python bench/beds.py [--paths 500] [--repeat 3]

Data: ``tests/management/steering/data.py`` (synthetic: five services, 30 months of inpatient
stays with weekday and seasonal admissions, gamma lengths of stay, 8 % early returns). Bed
needs: rolling-origin backtest over the last 365 days of the data (origins every 7 days,
horizon 14 days, only data before each origin), Monte Carlo against the seasonal naive
benchmark; pinball loss and P80/P95 coverage. Steering: :func:`hopia.management.steering.compute`
on 24 months (the LP-checked suppression of four tables). Times: median and spread of
``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402
from tests.management.steering import data  # noqa: E402

from hopia.management.beds import backtest  # noqa: E402
from hopia.management.steering import compute  # noqa: E402
from hopia.management.steering.chapters import chapter  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--paths", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frames = data.frames()
    v = frames["visit_occurrence"]
    v = v[v["visit_concept_id"] != data.OUTPATIENT]
    stays = pd.DataFrame(
        {
            "site": v["care_site_id"].astype("int64").to_numpy(),
            "start": pd.to_datetime(v["visit_start_date"]).to_numpy(),
            "end": pd.to_datetime(v["visit_end_date"]).to_numpy(),
        }
    )
    end = pd.Timestamp(data.LAST) - pd.Timedelta(days=1)
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        bt = backtest(stays, end, horizon=14, step=7, span=365, paths=args.paths, seed=0)
        times.append(time.perf_counter() - started)
    print(
        f"{len(stays)} stays, {len(bt.origins)} origins {bt.origins[0].date()} .. "
        f"{bt.origins[-1].date()}, paths {args.paths}"
    )
    pd.set_option("display.width", 200)
    print(bt.scores.round(3).to_string(index=False))
    print(
        f"backtest: median {statistics.median(times):.2f} s "
        f"(min {min(times):.2f}, max {max(times):.2f}, {args.repeat} runs)"
    )

    steer = stays.rename(columns={"site": "care_site_id"}).assign(
        visit_occurrence_id=v["visit_occurrence_id"].to_numpy(),
        person_id=v["person_id"].to_numpy(),
        care_site=v["care_site_id"].map({k: n for k, (n, *_) in data.SITES.items()}).to_numpy(),
    )
    mains = frames["_main"].assign(chapter=lambda f: f["code"].map(chapter))
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = compute(steer, mains, date(2023, 7, 1), date(2025, 6, 30), 10)
        times.append(time.perf_counter() - started)
    hidden = sum(
        len(p.complementary)
        for p in (result.admissions, result.discharges, result.readmissions, result.case_mix)
    )
    print(
        f"steering, 24 months x 5 services: median {statistics.median(times):.2f} s "
        f"(min {min(times):.2f}, max {max(times):.2f}); complementary cells {hidden}"
    )


if __name__ == "__main__":
    main()

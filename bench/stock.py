"""Purchasing and stock: the service level the policy achieves against its target per class,
and the time to compute the policy, on the synthetic pharmacy.

    OMP_NUM_THREADS=1 .venv/bin/python bench/stock.py [--items 200] [--seed 1] [--repeat 5]

Generates the pharmacy (``hopia stock synth``), backtests the policy (the last
``--holdout-months`` months held back) at the default targets (V 99 %, E 95 %, N 90 %) and at
one target for every class (80, 90, 95, 99 %), and times ``policy.compute`` (forecasts, ABC,
reorder points, EOQ) over the whole history, ``--repeat`` times (median and spread).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import pandas as pd  # noqa: E402

from hopia.management.stock import backtest, inventory, policy, synth  # noqa: E402


def _typed(made: synth.SynthStock) -> tuple[pd.DataFrame, pd.DataFrame]:
    items = made.items.copy()
    items["shelf_life_days"] = items["shelf_life_days"].astype(float)
    moves = made.movements.copy()
    moves["date"] = pd.to_datetime(moves["date"])
    moves["expiry_date"] = pd.to_datetime(moves["expiry_date"].replace("", None))
    moves["quantity"] = moves["quantity"].astype(float)
    sign = moves["type"].map({"issue": -1.0, "expiry": -1.0, "receipt": 1.0, "adjustment": 1.0})
    moves["delta"] = sign * moves["quantity"]
    return items, moves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--holdout-months", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    items, moves = _typed(synth.generate(args.items, args.seed))
    end = inventory.as_of_default(moves)
    cut = end - pd.DateOffset(months=args.holdout_months)
    print(f"{len(items)} items, {len(moves)} movements, test {cut:%Y-%m-%d} .. {end:%Y-%m-%d}")
    result = backtest.run(items, moves, cut, end)
    shown = result.classes[
        ["abc", "ven", "items", "target", "cycles", "cycle_service", "fill_rate", "stockout_days"]
    ]
    print("default targets, per ABC x VEN cell:")
    print(shown.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    by_ven = backtest.summarise(result.items, ["ven"])
    print(
        by_ven[["ven", "items", "target", "cycles", "cycle_service", "fill_rate"]].to_string(
            index=False
        )
    )
    print("one target for every class:")
    for level in (0.80, 0.90, 0.95, 0.99):
        run = backtest.run(
            items, moves, cut, end, policy.PolicySettings({"V": level, "E": level, "N": level})
        )
        o = run.overall
        print(
            f"  target {level:.2f}: achieved {o['cycle_service']:.3f} over "
            f"{o['cycles']:.0f} cycles, "
            f"fill rate {o['fill_rate']:.4f}, stock-out days {o['stockout_days']:.0f}, "
            f"average stock {o['avg_stock_value']:,.0f} EUR"
        )
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        policy.compute(items, moves, end)
        times.append(time.perf_counter() - started)
    print(
        f"policy.compute, {len(items)} items x {(end - moves['date'].min()).days} days: median "
        f"{statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f}, "
        f"{args.repeat} runs)"
    )


if __name__ == "__main__":
    main()

"""Backtest of the policy: computed on the history before a cut-off, simulated on the issues
held back after it.

Each day, per item: the orders due that day arrive; if the inventory position (on hand + on
order) is at or below the reorder point ``s``, an order up to ``S`` is placed, arriving
``lead_time_days`` later; then the day's issues (the demand, the held-back ``issue`` movements)
are served from the stock, what cannot be served is lost (an emergency supply outside the
pharmacy). Each item starts with ``S`` on hand and nothing on order.

A replenishment cycle is an order, from its placing to its arrival (the days when its lead
time can run out of stock); the achieved cycle service level is the share of cycles without
a stock-out; the fill rate the share of the demand served.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hopia.management.stock import inventory, policy


@dataclass(frozen=True)
class Backtest:
    cut: pd.Timestamp
    end: pd.Timestamp
    items: pd.DataFrame  # per item
    classes: pd.DataFrame  # per ABC × VEN cell
    overall: dict[str, float]


def simulate(plan: pd.DataFrame, demand: np.ndarray) -> pd.DataFrame:
    """Run the (s, S) policy of ``plan`` (rows aligned with ``demand``, items × days)."""
    n, days = demand.shape
    s = plan["reorder_point"].to_numpy(dtype=float)
    big_s = plan["order_up_to"].to_numpy(dtype=float)
    lead = plan["lead_time_days"].to_numpy(dtype=int)
    cost = plan["unit_cost"].to_numpy(dtype=float)
    stock = big_s.copy()
    arrivals = np.zeros((n, days + int(lead.max(initial=1)) + 1))
    on_order = np.zeros(n)
    open_cycles: list[list[int]] = [[] for _ in range(n)]  # arrival days of pending orders
    short_cycle: list[dict[int, bool]] = [{} for _ in range(n)]
    served = np.zeros(n)
    stockout_days = np.zeros(n, dtype=int)
    value = np.zeros(n)
    cycles = np.zeros(n, dtype=int)
    cycles_short = np.zeros(n, dtype=int)
    for t in range(days):
        stock += arrivals[:, t]
        on_order -= arrivals[:, t]
        for i in np.flatnonzero(arrivals[:, t]):
            for due in [d for d in open_cycles[i] if d == t]:
                open_cycles[i].remove(due)
                cycles[i] += 1
                cycles_short[i] += short_cycle[i].pop(due)
        position = stock + on_order
        order = (position <= s) & (big_s > 0)
        for i in np.flatnonzero(order):
            due = t + int(lead[i])
            quantity = big_s[i] - position[i]
            arrivals[i, due] += quantity
            on_order[i] += quantity
            open_cycles[i].append(due)
            short_cycle[i][due] = short_cycle[i].get(due, False)
        take = np.minimum(stock, demand[:, t])
        short = demand[:, t] - take > 1e-9
        stock -= take
        served += take
        stockout_days += short
        for i in np.flatnonzero(short):
            for due in open_cycles[i]:
                short_cycle[i][due] = True
        value += stock * cost
    total = demand.sum(axis=1)
    out = plan[["item_id", "ven", "abc", "demand_class", "service_level", "unit_cost"]].copy()
    out["demand"] = total
    out["served"] = served
    out["fill_rate"] = np.where(total > 0, served / np.where(total > 0, total, 1), np.nan)
    out["cycles"] = cycles
    out["cycles_short"] = cycles_short
    out["cycle_service"] = np.where(
        cycles > 0, 1 - cycles_short / np.where(cycles > 0, cycles, 1), np.nan
    )
    out["stockout_days"] = stockout_days
    out["avg_stock_value"] = value / max(days, 1)
    return out


def summarise(per_item: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group: items, mean target, cycles, achieved cycle service level (pooled over the
    cycles), fill rate (pooled over the demand), stock-out days, items with a stock-out,
    average stock value (sum)."""
    grouped = per_item.groupby(by, sort=True)
    out = grouped.agg(
        items=("item_id", "size"),
        target=("service_level", "mean"),
        cycles=("cycles", "sum"),
        cycles_short=("cycles_short", "sum"),
        demand=("demand", "sum"),
        served=("served", "sum"),
        stockout_days=("stockout_days", "sum"),
        items_short=("stockout_days", lambda d: int((d > 0).sum())),
        avg_stock_value=("avg_stock_value", "sum"),
    ).reset_index()
    out["cycle_service"] = np.where(
        out["cycles"] > 0, 1 - out["cycles_short"] / out["cycles"].clip(lower=1), np.nan
    )
    out["fill_rate"] = np.where(
        out["demand"] > 0, out["served"] / out["demand"].clip(lower=1e-12), np.nan
    )
    return out


def run(
    items: pd.DataFrame,
    movements: pd.DataFrame,
    cut: pd.Timestamp,
    end: pd.Timestamp,
    settings: policy.PolicySettings | None = None,
) -> Backtest:
    """The policy computed with the movements before ``cut``, simulated on the issues of
    ``[cut, end)``."""
    plan = policy.compute(items, movements, cut, settings)
    demand = inventory.daily_issues(items, movements, cut, end)
    per_item = simulate(plan, demand)
    classes = summarise(per_item, ["abc", "ven"])
    whole = summarise(per_item.assign(all="all"), ["all"]).iloc[0]
    overall = {
        k: float(whole[k])
        for k in (
            "items",
            "target",
            "cycles",
            "cycle_service",
            "fill_rate",
            "stockout_days",
            "items_short",
            "avg_stock_value",
        )
    }
    return Backtest(cut, end, per_item, classes, overall)

"""A synthetic hospital pharmacy: an item master, two years of daily movements with lots and
expiry dates, and the open orders, seeded (the same seed gives the same files).

Demand per item: smooth (daily Poisson, weekdays busier), erratic (the weekly level varies,
issues in ward batches), intermittent (rare issues of a few units) or lumpy (rare issues of
variable size). The pharmacy replenishes with its own (s, Q) rule from the true demand rate,
receives each order as a new lot with an expiry date, issues first-expiring lots first,
destroys expired lots (an ``expiry`` movement), corrects a few inventory counts
(``adjustment``). A few items receive an unplanned large delivery (overstock), and lots
expired in the last week are not yet destroyed (alerts to see in the demo).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hopia.management.stock._catalogue import DEVICES, DRUGS

END = pd.Timestamp("2025-12-31")
MIN_ITEMS, MAX_ITEMS = 10, 300


@dataclass(frozen=True)
class SynthStock:
    items: pd.DataFrame
    movements: pd.DataFrame
    orders: pd.DataFrame

    def write(self, out: Path) -> dict[str, Path]:
        """``items.csv``, ``movements.csv``, ``orders.csv`` under ``out`` (created)."""
        out.mkdir(parents=True, exist_ok=True)
        paths = {name: out / f"{name}.csv" for name in ("items", "movements", "orders")}
        self.items.to_csv(paths["items"], index=False)
        self.movements.to_csv(paths["movements"], index=False)
        self.orders.to_csv(paths["orders"], index=False)
        return paths


def _catalogue(rng: np.random.Generator, n: int) -> pd.DataFrame:
    base = [(*row, "médicament") for row in DRUGS] + [
        (*row, "dispositif médical") for row in DEVICES
    ]
    picked = list(rng.permutation(len(base))[: min(n, len(base))])
    rows = [base[i] for i in picked]
    for i in rng.integers(0, len(base), size=max(0, n - len(base))):
        label, unit, price, ven, shelf, use, kind = base[i]
        rows.append((f"{label} (titulaire B)", unit, price * 1.1, ven, shelf, use * 0.3, kind))
    frame = pd.DataFrame(
        rows, columns=["label", "unit", "price", "ven", "shelf", "use", "category"]
    ).sort_values(["category", "label"], kind="stable", ignore_index=True)
    drug = frame["category"] == "médicament"
    number = frame.groupby("category").cumcount() + 1
    frame["item_id"] = np.where(drug, "MED", "DM") + number.map("{:04d}".format)
    return frame


class _Receiver:
    """Receives an item's deliveries: each a new lot with its expiry date."""

    def __init__(
        self, item_id: str, life: float, lots: list, moves: list, rng: np.random.Generator
    ) -> None:
        self.item_id, self.life, self.lots, self.moves, self.rng = item_id, life, lots, moves, rng
        self.serial = 0

    def __call__(self, day: pd.Timestamp, quantity: float) -> None:
        self.serial += 1
        lot = f"{self.item_id[-4:]}{day:%y%m}{self.serial:03d}"
        expiry = day + pd.Timedelta(days=int(self.life * self.rng.uniform(0.5, 0.95)))
        self.lots.append([lot, expiry, quantity])
        self.lots.sort(key=lambda x: x[1])
        self.moves.append((day, self.item_id, "receipt", quantity, lot, expiry))


def _demand(rng: np.random.Generator, rate: float, kind: str, days: int) -> np.ndarray:
    weekday = np.array([1.1, 1.1, 1.1, 1.1, 1.1, 0.8, 0.7])
    weekday = weekday / weekday.mean()
    f = np.resize(weekday, days)
    if kind == "smooth":
        return rng.poisson(rate * f).astype(float)
    if kind == "erratic":
        weekly = np.repeat(rng.gamma(0.7, 1 / 0.7, size=days // 7 + 1), 7)[:days]
        batch = rng.random(days) < 0.3
        return np.where(batch, rng.poisson(rate * f * weekly / 0.3), 0).astype(float)
    size = 1.0 + rng.uniform(0, 3) if kind == "intermittent" else 2.0 + rng.uniform(0, 6)
    p = min(0.5, rate / size)
    hits = rng.random(days) < p
    if kind == "intermittent":
        sizes = 1 + rng.poisson(size - 1, size=days)
    else:
        sizes = np.maximum(1, np.round(rng.lognormal(np.log(size), 0.9, size=days)))
    return np.where(hits, sizes, 0).astype(float)


def generate(
    n_items: int = 200, seed: int = 1, days: int = 730, end: pd.Timestamp = END
) -> SynthStock:
    """``n_items`` items (10–300) and ``days`` days of movements ending the day before
    ``end`` + 1 (``end`` is the last day)."""
    if not MIN_ITEMS <= n_items <= MAX_ITEMS:
        raise ValueError(f"n_items must be within {MIN_ITEMS}..{MAX_ITEMS}")
    rng = np.random.default_rng(seed)
    cat = _catalogue(rng, n_items)
    n = len(cat)
    start = end - pd.Timedelta(days=days - 1)
    dates = pd.date_range(start, periods=days, freq="D")
    volume = rng.lognormal(0.0, 0.6, size=n)
    rare = rng.random(n) < 0.3  # items this hospital seldom uses
    rate = cat["use"].to_numpy() * volume * np.where(rare, rng.uniform(0.005, 0.05, n), 1.0)
    kinds = np.where(
        rate >= 1.5,
        np.where(rng.random(n) < 0.25, "erratic", "smooth"),
        np.where(rng.random(n) < 0.5, "intermittent", "lumpy"),
    )
    is_drug = (cat["category"] == "médicament").to_numpy()
    lead = np.where(
        is_drug, rng.choice([2, 3, 5, 7, 10, 14], n), rng.choice([3, 5, 7, 10, 14, 21], n)
    )
    shelf = cat["shelf"].to_numpy(dtype=float)
    shelf = np.where(~is_drug & (rng.random(n) < 0.5), np.nan, shelf)
    items = pd.DataFrame(
        {
            "item_id": cat["item_id"],
            "label": cat["label"],
            "unit": cat["unit"],
            "unit_cost": np.maximum(0.01, np.round(cat["price"] * rng.lognormal(0, 0.15, n), 2)),
            "lead_time_days": lead,
            "order_cost": np.round(rng.uniform(25, 80, n)),
            "holding_rate": rng.choice([0.15, 0.2, 0.25], n),
            "ven": cat["ven"],
            "shelf_life_days": pd.array(
                [None if np.isnan(s) else int(s) for s in shelf], dtype="Int64"
            ),
            "category": cat["category"],
        }
    )
    overstock = rng.random(n) < 0.04
    moves: list[tuple] = []
    open_orders: list[tuple] = []
    for i in range(n):
        demand = _demand(rng, rate[i], str(kinds[i]), days)
        mean = max(demand.mean(), 1e-3)
        sd = demand.std() if demand.std() > 0 else 1.0
        lt = int(lead[i])
        s = np.ceil(mean * lt + 2.3 * sd * np.sqrt(lt))
        q = max(1.0, np.ceil(mean * rng.choice([14, 21, 30, 45])))
        if not np.isnan(shelf[i]):
            q = max(1.0, min(q, np.floor(mean * shelf[i] * 0.4)))
        item_id = items["item_id"].iat[i]
        lots: list[list] = []  # [lot, expiry, quantity]
        pending: list[tuple[int, float]] = []  # (arrival day, quantity)
        life = shelf[i] if not np.isnan(shelf[i]) else 1825.0
        receive = _Receiver(item_id, life, lots, moves, rng)
        receive(dates[0], s + q)
        extra_day = days - int(rng.integers(60, 150))
        for t in range(days):
            for due, quantity in [p for p in pending if p[0] == t]:
                pending.remove((due, quantity))
                receive(dates[t], quantity)
            if overstock[i] and t == extra_day:
                receive(dates[t], np.ceil(mean * 200) + 5)
            for lot in [x for x in lots if x[1] <= dates[t] and x[2] > 0]:
                if t < days - 7:  # expired in the last week: not yet destroyed
                    moves.append((dates[t], item_id, "expiry", lot[2], lot[0], pd.NaT))
                    lot[2] = 0.0
            lots[:] = [x for x in lots if x[2] > 0]
            want = demand[t]
            usable = [x for x in lots if x[1] > dates[t]]
            served = min(want, sum(x[2] for x in usable))
            left = served
            for lot in usable:
                take = min(lot[2], left)
                lot[2] -= take
                left -= take
            if served > 0:
                moves.append((dates[t], item_id, "issue", served, "", pd.NaT))
            if lots and rng.random() < 0.002:
                lot = lots[-1]
                delta = float(rng.choice([-2, -1, 1, 2]))
                delta = max(delta, -lot[2])
                if delta:
                    lot[2] += delta
                    moves.append((dates[t], item_id, "adjustment", delta, lot[0], pd.NaT))
            position = sum(x[2] for x in lots) + sum(p[1] for p in pending)
            if position <= s:
                pending.append((t + lt, s + q - position))
        for due, quantity in pending:
            open_orders.append((item_id, quantity, dates[-1] + pd.Timedelta(days=due - days + 1)))
    movements = pd.DataFrame(
        moves, columns=["date", "item_id", "type", "quantity", "lot", "expiry_date"]
    ).sort_values(["date", "item_id"], kind="stable", ignore_index=True)
    movements["date"] = movements["date"].dt.strftime("%Y-%m-%d")
    movements["expiry_date"] = movements["expiry_date"].dt.strftime("%Y-%m-%d").fillna("")
    movements["quantity"] = movements["quantity"].map(lambda x: f"{x:g}")
    orders = pd.DataFrame(open_orders, columns=["item_id", "quantity", "expected_date"])
    orders.insert(0, "order_id", [f"CDE{k + 1:05d}" for k in range(len(orders))])
    orders["expected_date"] = orders["expected_date"].dt.strftime("%Y-%m-%d")
    orders["quantity"] = orders["quantity"].map(lambda x: f"{x:g}")
    return SynthStock(items, movements, orders)

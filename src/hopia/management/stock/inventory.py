"""Stock on hand per item and per lot, and the daily consumption, derived from the movements.

The stock of an item on a day is the sum of its signed movements before that day (receipts
and positive adjustments in; issues, expiries and negative adjustments out). Per lot: a movement
that names a lot counts for that lot; what goes out without a lot is taken from the lots first
expiring first (FEFO), as the pharmacy issues them; what comes in without a lot is stock
« sans lot ». The consumption is the ``issue`` movements (expiries are losses, not demand).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

NO_LOT = ""


def as_of_default(movements: pd.DataFrame) -> pd.Timestamp:
    """The day after the last movement: the stock « today » for the data."""
    if movements.empty:
        return pd.Timestamp(dt.date.today())
    return movements["date"].max() + pd.Timedelta(days=1)


def before(movements: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The movements dated before ``as_of`` (the stock at the start of that day)."""
    return movements[movements["date"] < as_of]


def on_hand(items: pd.DataFrame, movements: pd.DataFrame) -> pd.Series:
    """Stock on hand per item (index ``item_id``, every item, 0 without movement)."""
    total = movements.groupby("item_id")["delta"].sum()
    return total.reindex(items["item_id"], fill_value=0.0).astype(float)


def lots(movements: pd.DataFrame) -> pd.DataFrame:
    """Stock per lot: ``item_id, lot, expiry_date, quantity`` (quantity > 0 only), the lots of
    an item in FEFO order; stock without a lot appears with an empty ``lot``."""
    rows: list[tuple[str, str, pd.Timestamp, float]] = []
    if movements.empty:
        return pd.DataFrame(rows, columns=["item_id", "lot", "expiry_date", "quantity"])
    expiry = (
        movements[(movements["lot"] != NO_LOT) & movements["expiry_date"].notna()]
        .groupby(["item_id", "lot"])["expiry_date"]
        .first()
    )
    net = movements.groupby(["item_id", "lot"])["delta"].sum()
    for item_id, per_lot in net.groupby(level=0):
        balances: dict[str, float] = {
            lot: float(q) for (_, lot), q in per_lot.items() if lot != NO_LOT
        }
        loose = float(per_lot.get((item_id, NO_LOT), 0.0))
        order = sorted(
            balances,
            key=lambda lot: (expiry.get((item_id, lot), pd.Timestamp.max), lot),
        )
        if loose < 0:  # outflows without a lot: FEFO over the lots still in stock
            need = -loose
            for lot in order:
                take = min(max(balances[lot], 0.0), need)
                balances[lot] -= take
                need -= take
            loose = -need
        for lot in order:
            if balances[lot] > 0:
                rows.append((item_id, lot, expiry.get((item_id, lot), pd.NaT), balances[lot]))
        if loose > 0:
            rows.append((item_id, NO_LOT, pd.NaT, loose))
    return pd.DataFrame(rows, columns=["item_id", "lot", "expiry_date", "quantity"])


def on_order(items: pd.DataFrame, orders: pd.DataFrame) -> pd.Series:
    """Quantity on order per item (open purchase orders)."""
    total = orders.groupby("item_id")["quantity"].sum()
    return total.reindex(items["item_id"], fill_value=0.0).astype(float)


def daily_issues(
    items: pd.DataFrame, movements: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> np.ndarray:
    """Issued quantity per item and day, ``[start, end)``: an array (items × days), the rows
    in the order of ``items``."""
    days = int((end - start).days)
    out = np.zeros((len(items), max(days, 0)))
    if days <= 0:
        return out
    issues = movements[
        (movements["type"] == "issue") & (movements["date"] >= start) & (movements["date"] < end)
    ]
    if issues.empty:
        return out
    row = pd.Index(items["item_id"]).get_indexer(issues["item_id"])
    col = (issues["date"] - start).dt.days.to_numpy()
    np.add.at(out, (row, col), issues["quantity"].to_numpy(dtype=float))
    return out


def weekly(daily: np.ndarray) -> np.ndarray:
    """Daily quantities summed by 7-day periods counted back from the last day (a leading
    incomplete week is dropped)."""
    weeks = daily.shape[1] // 7
    if weeks == 0:
        return np.zeros((daily.shape[0], 0))
    tail = daily[:, daily.shape[1] - 7 * weeks :]
    return tail.reshape(daily.shape[0], weeks, 7).sum(axis=2)

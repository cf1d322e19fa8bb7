"""Stock per item and per lot: lots named by the movements, the rest first-expiring first."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hopia.management.stock import inventory


def _moves(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["date", "item_id", "type", "quantity", "lot", "expiry_date"]
    )
    frame["date"] = pd.to_datetime(frame["date"])
    frame["expiry_date"] = pd.to_datetime(frame["expiry_date"])
    sign = frame["type"].map({"issue": -1, "expiry": -1, "receipt": 1, "adjustment": 1})
    frame["delta"] = sign * frame["quantity"]
    return frame


MOVES = _moves(
    [
        ("2025-01-01", "A", "receipt", 50, "late", "2026-01-01"),
        ("2025-01-02", "A", "receipt", 30, "early", "2025-06-01"),
        ("2025-01-03", "A", "issue", 40, "", None),  # no lot: FEFO, early (30) then late (10)
        ("2025-01-04", "A", "issue", 5, "late", None),
        ("2025-01-04", "B", "receipt", 8, "", None),
        ("2025-01-05", "B", "issue", 3, "", None),
    ]
)


def test_stock_per_item_and_per_lot() -> None:
    items = pd.DataFrame({"item_id": ["A", "B", "C"]})
    assert inventory.on_hand(items, MOVES).tolist() == [35.0, 5.0, 0.0]
    lots = inventory.lots(MOVES)
    assert lots[["item_id", "lot", "quantity"]].values.tolist() == [
        ["A", "late", 35.0],
        ["B", "", 5.0],
    ]


def test_stock_before_a_day_and_daily_issues() -> None:
    items = pd.DataFrame({"item_id": ["A", "B"]})
    past = inventory.before(MOVES, pd.Timestamp("2025-01-03"))
    assert inventory.on_hand(items, past).tolist() == [80.0, 0.0]
    days = inventory.daily_issues(
        items, MOVES, pd.Timestamp("2025-01-01"), pd.Timestamp("2025-01-06")
    )
    np.testing.assert_array_equal(days, [[0, 0, 40, 5, 0], [0, 0, 0, 0, 3]])
    assert inventory.weekly(np.ones((1, 16))).tolist() == [[7.0, 7.0]]

"""Alerts on planted stock situations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hopia.management.stock import alerts

AS_OF = pd.Timestamp("2025-03-01")


def _plan(**rows: dict) -> pd.DataFrame:
    base = {
        "label": "article",
        "ven": "E",
        "abc": "B",
        "daily_demand": 10.0,
        "lead_time_days": 7,
        "lt_demand": 70.0,
        "reorder_point": 100.0,
        "order_up_to": 300.0,
    }
    return pd.DataFrame([{"item_id": k, **base, **v} for k, v in rows.items()])


def test_each_rule_fires_on_its_situation() -> None:
    plan = _plan(
        empty={"ven": "V"},
        short={},
        low={},
        fine={},
        heavy={"daily_demand": 1.0},
    )
    stock = pd.Series({"empty": 0, "short": 40, "low": 90, "fine": 200, "heavy": 500.0})
    ordered = pd.Series({"empty": 0, "short": 20, "low": 0, "fine": 0, "heavy": 0.0})
    lots = pd.DataFrame(
        {
            "item_id": ["fine", "fine", "heavy"],
            "lot": ["F1", "F2", "H1"],
            "expiry_date": pd.to_datetime(["2025-03-11", "2025-04-10", "2025-02-20"]),
            "quantity": [150.0, 50.0, 20.0],
        }
    )
    found = alerts.compute(plan, stock, ordered, lots, AS_OF)
    kinds = {(r.item_id, r.alert, r.level) for r in found.itertuples()}
    assert ("empty", "rupture", "critique") in kinds
    assert ("short", "rupture_avant_livraison", "haute") in kinds
    assert ("low", "sous_point_commande", "moyenne") in kinds
    assert ("heavy", "surstock", "basse") in kinds
    assert ("heavy", "perime", "haute") in kinds
    assert not any(item == "fine" and kind != "peremption" for item, kind, _ in kinds)
    low = found[found["alert"] == "sous_point_commande"].iloc[0]
    assert low["order_quantity"] == 210.0  # up to 300 from a position of 90
    # F1 expires in 10 days: 100 used, 50 left; F2 (40 days, 400 of use left): all used
    expiring = found[found["alert"] == "peremption"].set_index("lot")
    assert expiring.loc["F1", "quantity"] == 50.0 and expiring.loc["F1", "level"] == "moyenne"
    assert expiring.loc["F2", "quantity"] == 0.0 and expiring.loc["F2", "level"] == "basse"
    assert found["level"].iloc[0] == "critique"  # most urgent first


def test_expiring_at_risk_uses_lots_first_expiring_first() -> None:
    lots = pd.DataFrame(
        {
            "quantity": [30.0, 30.0],
            "expiry_date": pd.to_datetime(["2025-03-03", "2025-03-06"]),
        }
    )
    # 10 a day: 20 of the first lot by its expiry (10 wasted); the second has 50 - 20 = 30
    risk = alerts.expiring_at_risk(lots, 10.0, AS_OF)
    np.testing.assert_allclose(risk, [10.0, 0.0])
    assert alerts.expiring_at_risk(lots, 0.0, AS_OF).sum() == pytest.approx(60.0)

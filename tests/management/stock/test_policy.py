"""ABC classes, service levels, safety stock, reorder point, EOQ and order-up-to level."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hopia.management.stock import policy


def test_eoq_is_wilsons_formula() -> None:
    # D = 1 200 units/year, K = 50 €, h = 20 %, c = 3 €: sqrt(2 * 1200 * 50 / 0.6) = 447.2
    assert policy.eoq(1200, 50, 3.0, 0.2) == pytest.approx(math.sqrt(2 * 1200 * 50 / 0.6))
    assert policy.eoq(0, 50, 3.0, 0.2) == 0.0


def test_safety_factor_is_the_normal_quantile() -> None:
    assert policy.safety_factor(0.95) == pytest.approx(1.6449, abs=1e-4)
    assert policy.safety_factor(0.5) == pytest.approx(0.0, abs=1e-12)


def test_abc_thresholds_at_80_and_95_percent() -> None:
    value = pd.Series([50.0, 25.0, 10.0, 6.0, 5.0, 4.0, 0.0], index=list("abcdefg"))
    # before each item: 0, 50, 75, 85, 91, 96 % of 100
    assert list(policy.abc_classes(value)) == ["A", "A", "A", "B", "B", "C", "C"]
    assert list(policy.abc_classes(value, (0.5, 0.9))) == ["A", "B", "B", "B", "C", "C", "C"]
    assert list(policy.abc_classes(pd.Series([0.0, 0.0]))) == ["C", "C"]


def test_service_levels_per_ven_class_and_per_cell() -> None:
    default = policy.PolicySettings()
    assert (default.level("V", "C"), default.level("E", "A"), default.level("N", "B")) == (
        0.99,
        0.95,
        0.90,
    )
    custom = policy.PolicySettings({"N": 0.8, "NA": 0.92})
    assert (custom.level("N", "A"), custom.level("N", "C"), custom.level("V", "A")) == (
        0.92,
        0.8,
        0.99,
    )


def test_lead_time_quantile_and_undershoot() -> None:
    daily = np.array([0, 0, 5, 0, 0, 0, 5, 0, 0, 0], dtype=float)
    # 3-day windows: 5,5,5,5,5,5,5,0 (8 windows) -> the median is 5, the 10th percentile 0
    assert policy.lead_time_quantile(daily, 3, 0.5) == 5.0
    assert policy.lead_time_quantile(daily, 3, 0.05) == 0.0
    assert policy.lead_time_quantile(daily, 6, 0.5) is None  # shorter than two lead times
    assert policy.undershoot(np.array([1.0, 0, 1, 1]))[0] == 0.0  # unit issues: none
    assert policy.undershoot(np.array([4.0, 4.0]))[0] == pytest.approx((16 - 4) / 8)


def _items(n: int, **values: object) -> pd.DataFrame:
    base = {
        "label": "article",
        "unit": "unité",
        "unit_cost": 2.0,
        "lead_time_days": 7,
        "order_cost": 40.0,
        "holding_rate": 0.2,
        "ven": "E",
        "shelf_life_days": np.nan,
        "category": "",
    }
    frame = pd.DataFrame([{**base, **values} for _ in range(n)])
    frame.insert(0, "item_id", [f"A{i}" for i in range(n)])
    return frame


def _issues(item: str, days: int, quantity: float) -> pd.DataFrame:
    dates = pd.date_range("2025-01-06", periods=days, freq="D")
    return pd.DataFrame(
        {
            "date": dates,
            "item_id": item,
            "type": "issue",
            "quantity": quantity,
            "lot": "",
            "expiry_date": pd.NaT,
            "delta": -quantity,
        }
    )


def test_policy_of_a_constant_demand() -> None:
    items = _items(1)
    moves = _issues("A0", 140, 10.0)  # 20 weeks of 10 a day
    as_of = moves["date"].max() + pd.Timedelta(days=1)
    plan = policy.compute(items, moves, as_of).iloc[0]
    assert plan["demand_class"] == "smooth" and plan["daily_demand"] == pytest.approx(10.0)
    assert plan["lt_demand"] == pytest.approx(70.0) and plan["lt_sigma"] == pytest.approx(0.0)
    # no forecast error: the reorder point is the lead-time demand plus the undershoot (mean
    # (100 - 10) / 20 = 4.5 units) and z times the undershoot's spread
    over, var = policy.undershoot(np.full(10, 10.0))
    assert over == pytest.approx(4.5)
    assert plan["reorder_point"] == math.ceil(70 + 4.5 + 1.6449 * math.sqrt(var))
    assert plan["eoq"] == math.ceil(math.sqrt(2 * 3650 * 40 / (0.2 * 2.0)))
    assert plan["order_up_to"] == plan["reorder_point"] + plan["eoq"]
    assert plan["abc"] == "A" and plan["service_level"] == 0.95


def test_shelf_life_caps_the_order_quantity_and_spread_raises_the_reorder_point() -> None:
    items = _items(2, shelf_life_days=30)
    rng = np.random.default_rng(3)
    steady = _issues("A0", 140, 10.0)
    noisy = _issues("A1", 140, 0.0)
    noisy["quantity"] = rng.poisson(10, 140).astype(float)
    noisy["delta"] = -noisy["quantity"]
    moves = pd.concat([steady, noisy], ignore_index=True)
    as_of = moves["date"].max() + pd.Timedelta(days=1)
    plan = policy.compute(items, moves, as_of)
    assert plan["eoq"].iloc[0] == 300  # 30 days of 10: less than Wilson's 855
    assert plan["safety_stock"].iloc[1] > plan["safety_stock"].iloc[0]
    high = policy.compute(items, moves, as_of, policy.PolicySettings({"E": 0.99}))
    assert high["reorder_point"].iloc[1] > plan["reorder_point"].iloc[1]

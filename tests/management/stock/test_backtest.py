"""The backtest: a hand-run simulation, and the service level achieved rising with the target."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hopia.management.stock import backtest, contract, policy, synth


def test_simulation_by_hand() -> None:
    plan = pd.DataFrame(
        {
            "item_id": ["A"],
            "ven": ["V"],
            "abc": ["A"],
            "demand_class": ["smooth"],
            "service_level": [0.99],
            "unit_cost": [1.0],
            "reorder_point": [4.0],
            "order_up_to": [10.0],
            "lead_time_days": [2],
        }
    )
    # start 10; day 0: 3 -> 7; day 1: 3 -> 4; day 2: position 4 <= 4, order 6 (due day 4),
    # 3 -> 1; day 3: 1 served, 2 short (that cycle is short); day 4: +6, 3 -> 3; day 5:
    # order 7 (due day 7), 3 -> 0; days 6-7: no demand, day 7: +7 (a clean cycle)
    demand = np.array([[3, 3, 3, 3, 3, 3, 0, 0]], dtype=float)
    got = backtest.simulate(plan, demand).iloc[0]
    assert got["demand"] == 18 and got["served"] == 16
    assert got["cycles"] == 2 and got["cycles_short"] == 1 and got["stockout_days"] == 1
    assert got["cycle_service"] == 0.5
    assert got["fill_rate"] == pytest.approx(16 / 18)


@pytest.fixture(scope="module")
def pharmacy(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = synth.generate(40, seed=7, days=450).write(tmp_path_factory.mktemp("stock"))
    items = contract.read_items(folder["items"])
    return items, contract.read_movements(folder["movements"], items)


def test_service_level_rises_with_the_target(pharmacy) -> None:  # noqa: ANN001
    items, moves = pharmacy
    end = moves["date"].max() + pd.Timedelta(days=1)
    cut = end - pd.DateOffset(months=4)
    achieved = []
    for level in (0.6, 0.9, 0.995):
        levels = policy.PolicySettings({"V": level, "E": level, "N": level})
        result = backtest.run(items, moves, cut, end, levels)
        assert result.overall["cycles"] > 20
        achieved.append(result.overall)
    service = [a["cycle_service"] for a in achieved]
    stock_value = [a["avg_stock_value"] for a in achieved]
    assert service[0] < service[1] < service[2], service
    assert stock_value[0] < stock_value[1] < stock_value[2]
    assert service[2] > 0.9
    assert set(result.classes["abc"]) <= {"A", "B", "C"} and result.classes["items"].sum() == 40

from __future__ import annotations

import numpy as np
import pandas as pd

from hopia.management.beds import backtest, daily_census, naive, pinball


def test_pinball() -> None:
    y, q = np.array([10.0, 10.0]), np.array([8.0, 12.0])
    assert np.allclose(pinball(y, q, 0.8), [0.8 * 2, 0.2 * 2])


def test_naive_is_last_week_plus_empirical_changes(stays: pd.DataFrame) -> None:
    census = daily_census(stays, stays["start"].min(), pd.Timestamp("2025-06-30"))[1]
    origin = pd.Timestamp("2025-04-07")
    q = naive(census, origin, 14, (0.5, 0.8, 0.95))
    assert (q[0.5] <= q[0.8]).all() and (q[0.8] <= q[0.95]).all()
    past = census[census.index < origin]
    change = (past.iloc[-365:] - past.iloc[-365:].shift(7)).dropna()
    expected = past.iloc[-7] + np.quantile(change, 0.5, method="inverted_cdf")
    assert q[0.5][0] == max(0.0, expected)


def test_backtest_uses_rolling_origins_and_beats_the_naive(stays: pd.DataFrame) -> None:
    end = pd.Timestamp("2025-06-29")
    bt = backtest(stays, end, horizon=7, step=14, span=84, paths=200, sites=[1, 2])
    assert len(bt.origins) == 6 and bt.origins[-1] == end - pd.Timedelta(days=6)
    assert (bt.rows["day"] <= end).all()
    scores = bt.scores.set_index(["method", "site"])
    mc, nv = scores.loc[("monte-carlo", "Total")], scores.loc[("naïf", "Total")]
    assert mc["jours"] == 6 * 7 * 2
    assert mc["pinball moyen"] < nv["pinball moyen"]
    assert 0.5 < mc["couverture P80"] <= 1 and 0.7 < mc["couverture P95"] <= 1


def test_naive_without_history_is_an_empty_ward() -> None:
    census = pd.Series([3, 4], index=pd.date_range("2025-01-10", periods=2))
    q = naive(census, pd.Timestamp("2025-01-01"), 3, (0.5, 0.95))
    assert q[0.5].tolist() == [0, 0, 0] and q[0.95].tolist() == [0, 0, 0]

from __future__ import annotations

import numpy as np
import pandas as pd

from hopia.management.beds import daily_census, forecast, table

ORIGIN = pd.Timestamp("2025-03-03")


def test_quantiles_never_cross_and_start_from_the_census(stays: pd.DataFrame) -> None:
    found = forecast(stays, ORIGIN, horizon=14, paths=400, seed=1)
    assert [f.site for f in found] == [1, 2, 3, 4, 5]
    census = daily_census(stays, stays["start"].min(), ORIGIN)
    for f in found:
        q50, q80, q95 = f.quantiles[0.5], f.quantiles[0.8], f.quantiles[0.95]
        assert (q50 <= q80).all() and (q80 <= q95).all()
        assert f.present == census.loc[ORIGIN - pd.Timedelta(days=1), f.site]
        assert f.samples.shape == (400, 14) and (f.samples >= 0).all()
    cardio = found[0]
    truth = census.loc[ORIGIN - pd.Timedelta(days=1), 1]
    assert abs(cardio.quantiles[0.5][0] - truth) <= 0.3 * truth + 2
    frame = table(found, {1: "Cardiologie"})
    assert list(frame.columns) == ["care_site_id", "service", "jour", "P50", "P80", "P95"]
    assert len(frame) == 5 * 14


def test_only_data_before_the_origin_is_used(stays: pd.DataFrame) -> None:
    before = forecast(stays, ORIGIN, horizon=7, paths=200, seed=5, sites=[2])
    # Change the future: admissions after the origin vanish, discharges after it move.
    future = stays.copy()
    future = future[future["start"] < ORIGIN]
    late = future["end"] >= ORIGIN
    future.loc[late, "end"] = future.loc[late, "end"] + pd.Timedelta(days=30)
    after = forecast(future, ORIGIN, horizon=7, paths=200, seed=5, sites=[2])
    assert np.array_equal(before[0].samples, after[0].samples)


def test_a_service_without_history(stays: pd.DataFrame) -> None:
    found = forecast(stays, ORIGIN, horizon=3, paths=100, seed=0, sites=[99])
    assert found[0].present == 0 and (found[0].samples == 0).all()

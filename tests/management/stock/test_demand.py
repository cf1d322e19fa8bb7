"""Demand classes and the forecasting methods on series whose values were worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from hopia.management.stock import demand

SERIES = np.array([[0, 2, 0, 0, 4]], dtype=float)


def test_croston_by_hand() -> None:
    # first demand at period 1: z = 2, p = 2 -> 1; at period 4 (interval 3), alpha 0.5:
    # z = 2 + 0.5 (4 - 2) = 3, p = 2 + 0.5 (3 - 2) = 2.5 -> 1.2
    fitted = demand.croston(SERIES, 0.5)
    np.testing.assert_allclose(fitted[0], [np.nan, np.nan, 1.0, 1.0, 1.0, 1.2])


def test_sba_is_croston_debiased() -> None:
    np.testing.assert_allclose(demand.sba(SERIES, 0.5)[0, 2:], [0.75, 0.75, 0.75, 0.9])


def test_tsb_by_hand() -> None:
    # first demand at period 1: d = 1/2, z = 2 -> 1; then d decays by half each empty period
    # (0.25, 0.125) and rises at period 4: d = 0.125 + 0.5 (1 - 0.125) = 0.5625, z = 3
    fitted = demand.tsb(SERIES, 0.5, 0.5)
    np.testing.assert_allclose(fitted[0, 2:], [1.0, 0.5, 0.25, 0.5625 * 3])


def test_ses_and_mean_by_hand() -> None:
    y = np.array([[1.0, 3.0, 2.0]])
    np.testing.assert_allclose(demand.ses(y, 0.5)[0, 1:], [1.0, 2.0, 2.0])
    np.testing.assert_allclose(demand.mean_forecast(y)[0, 1:], [1.0, 2.0, 2.0])


def test_series_are_independent_rows() -> None:
    both = np.vstack([SERIES, [[5, 5, 5, 5, 5]]])
    np.testing.assert_allclose(demand.croston(both, 0.5)[0], demand.croston(SERIES, 0.5)[0])
    assert demand.croston(both, 0.5)[1, -1] == pytest.approx(5.0)


def test_syntetos_boylan_classes() -> None:
    y = np.array(
        [
            [10, 11, 9, 10, 10, 11, 9, 10],  # every period, steady sizes
            [1, 30, 2, 25, 1, 40, 2, 1],  # every period, sizes vary
            [0, 0, 3, 0, 0, 3, 0, 4],  # rare, steady sizes
            [0, 0, 1, 0, 0, 30, 0, 0],  # rare, sizes vary
            [0, 0, 0, 0, 0, 0, 0, 0],
        ],
        dtype=float,
    )
    got = demand.classify(y)
    assert list(got["demand_class"]) == ["smooth", "erratic", "intermittent", "lumpy", "none"]
    assert got["adi"][2] == pytest.approx(8 / 3)
    sizes = np.array([1.0, 30.0])
    assert got["cv2"][3] == pytest.approx((sizes.std() / sizes.mean()) ** 2)


def test_forecast_picks_a_method_of_the_class_on_the_history() -> None:
    rng = np.random.default_rng(0)
    smooth = rng.poisson(20, (2, 104)).astype(float)
    rare = (rng.random((2, 104)) < 0.15) * rng.poisson(4, (2, 104)) + 0.0
    got = demand.forecast(np.vstack([smooth, rare]))
    assert set(got["method"][:2]) <= {"ses", "mean"}
    assert set(got["method"][2:]) <= {"croston", "sba", "tsb"}
    assert got["forecast"][:2].between(17, 23).all()
    assert (got["forecast"][2:] < 2).all() and (got["rmse"] > 0).all()

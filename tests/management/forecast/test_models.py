"""The forecaster contract: long frames in and out, quantiles that never cross, no leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hopia.management.forecast import (
    DEFAULT_QUANTILES,
    FORECASTERS,
    backtest,
    frames_from_long,
    make_forecaster,
)
from hopia.management.forecast._counts import count_quantiles
from hopia.platform.exceptions import InvalidRequestError, RegistryError

from .conftest import weekly_counts

MODELS = ["seasonal_naive", "hour_of_week", "poisson", "negbin", "ensemble"]


def test_registry_lists_the_models() -> None:
    assert set(MODELS) <= set(FORECASTERS.names())
    with pytest.raises(RegistryError):
        make_forecaster("arima-magique")


@pytest.mark.parametrize("name", MODELS)
def test_predict_long_frame_sorted(name: str, series: pd.DataFrame) -> None:
    fc = make_forecaster(name).fit(series.assign(unique_id="urgences"))
    out = fc.predict(24)
    assert list(out.columns) == ["unique_id", "ds", "quantile", "value"]
    assert len(out) == 24 * len(DEFAULT_QUANTILES)
    assert out["ds"].min() == series["ds"].max() + pd.Timedelta(hours=1)
    wide = out.pivot(index="ds", columns="quantile", values="value").to_numpy()
    assert np.all(np.diff(wide, axis=1) >= 0)  # never crossing
    assert np.isfinite(wide).all()


def test_crossing_member_quantiles_are_sorted() -> None:
    """A model whose raw quantiles cross is sorted by the base class."""
    from hopia.management.forecast import Forecaster

    class Crossing(Forecaster):
        alias = "crossing"

        def _fit_series(self, frame, end, previous=None):  # noqa: ANN001, ANN202
            return None

        def _forecast_series(self, state, frame, end, h, quantiles):  # noqa: ANN001, ANN202
            return np.tile(np.linspace(5, 1, len(quantiles)), (h, 1))

    out = Crossing().fit(weekly_counts(3)).predict(2, [0.1, 0.5, 0.9])
    assert out["value"].tolist() == [1.0, 3.0, 5.0, 1.0, 3.0, 5.0]


def test_counts_mid_quantiles_calibrated() -> None:
    rng = np.random.default_rng(1)
    mu = rng.uniform(1, 12, 4000)
    y = rng.poisson(mu)
    q = count_quantiles(mu, 0.0, np.array([0.05, 0.25, 0.75, 0.95]))
    inside90 = ((q[:, 0] <= y) & (y <= q[:, 3])).mean()
    inside50 = ((q[:, 1] <= y) & (y <= q[:, 2])).mean()
    assert 0.87 < inside90 < 0.93
    assert 0.46 < inside50 < 0.56


def test_negbin_learns_the_weekly_pattern(series: pd.DataFrame) -> None:
    fc = make_forecaster("negbin", country=None).fit(series)
    med = fc.predict(168, [0.5]).set_index("ds")["value"]
    afternoon = med[med.index.hour == 14].mean()
    night = med[med.index.hour == 3].mean()
    assert afternoon > night + 2


@pytest.mark.parametrize("name", MODELS)
def test_no_leakage(name: str) -> None:
    """A forecast at T is the same whatever the rows stamped T or later hold."""
    df = weekly_counts(10)
    frame = frames_from_long(df)["serie"]
    origin = df["ds"].iloc[24 * 7 * 8 + 5]
    later = frames_from_long(df.assign(y=np.where(df["ds"] >= origin, 50 + df["y"] * 3, df["y"])))[
        "serie"
    ]
    q = np.array(DEFAULT_QUANTILES)
    origins = pd.DatetimeIndex([origin - pd.Timedelta(hours=30), origin]).as_unit("ns")
    model = make_forecaster(name)
    a = backtest(model, frame, origins, 48, q, refit_every=pd.Timedelta(days=7))
    b = backtest(model, later, origins, 48, q, refit_every=pd.Timedelta(days=7))
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.array_equal(a.actual, b.actual)  # the outcomes did change


def test_bad_quantiles_and_unfitted() -> None:
    fc = make_forecaster("hour_of_week")
    with pytest.raises(InvalidRequestError):
        fc.predict(3)
    fc.fit(weekly_counts(3))
    with pytest.raises(InvalidRequestError):
        fc.predict(3, [0.0, 0.5])


def test_daily_series(series: pd.DataFrame) -> None:
    daily = series.set_index("ds")["y"].resample("D").sum().reset_index()
    out = make_forecaster("negbin").fit(daily).predict(7, [0.05, 0.5, 0.95])
    assert out["ds"].diff().dropna().max() == pd.Timedelta(days=1)
    assert (out["value"] > 50).all()

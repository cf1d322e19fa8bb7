from __future__ import annotations

import numpy as np
import pandas as pd

from hopia.management.beds import NegativeBinomialAdmissions


def test_recovers_weekday_effect_and_overdispersion() -> None:
    rng = np.random.default_rng(3)
    days = pd.date_range("2022-01-01", "2024-12-31", freq="D")
    mu = np.where(days.dayofweek < 5, 6.0, 2.0) * (
        1 + 0.3 * np.cos(2 * np.pi * days.dayofyear / 365.25)
    )
    alpha = 0.2
    y = rng.poisson(rng.gamma(1 / alpha, alpha * mu))
    model = NegativeBinomialAdmissions().fit(pd.Series(y, index=days))
    fitted = model.mean(days)
    assert model.annual_
    assert abs(fitted[days.dayofweek == 2].mean() / fitted[days.dayofweek == 6].mean() - 3) < 0.4
    assert 0.1 < model.alpha_ < 0.3
    future = pd.date_range("2025-01-06", periods=7, freq="D")  # Monday to Sunday
    draws = model.sample(future, 4000, np.random.default_rng(0))
    assert draws.shape == (4000, 7)
    assert np.allclose(draws.mean(axis=0), model.mean(future), rtol=0.08)
    assert draws[:, 0].var() > draws[:, 0].mean()  # overdispersed


def test_short_history_fits_the_weekdays_only() -> None:
    days = pd.date_range("2024-01-01", periods=60, freq="D")
    model = NegativeBinomialAdmissions().fit(pd.Series(np.full(60, 4), index=days))
    assert not model.annual_
    assert np.allclose(model.mean(days), 4, rtol=1e-3) and model.alpha_ == 0.0

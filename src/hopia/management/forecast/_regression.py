"""Poisson and negative-binomial regressions on calendar features.

``log E[y_t] = season(t) + annual Fourier(t) + holidays(t) + exog(t) @ b``, fitted by weighted
IRLS on a trailing window (recent rows weigh more, half-life ``half_life_days``), the NB2
dispersion by moments on the Pearson residuals. Between refits the fitted curve is re-anchored
on the recent level: the forecast is multiplied by ``(sum y + c) / (sum mu + c)`` over the last
``level_days`` (``c`` a shrinkage pseudo-count), which is cheap and follows slow drifts.
Quantiles are the mid-quantiles of the predictive Poisson or NB distribution.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from hopia.management.forecast._base import Forecaster, SeriesFrame
from hopia.management.forecast._calendar import HolidayCalendar
from hopia.management.forecast._counts import count_quantiles, nb_dispersion, poisson_irls
from hopia.platform.exceptions import InvalidRequestError


@dataclass
class _State:
    beta: np.ndarray
    alpha: float
    end: int


class CountRegressionForecaster(Forecaster):
    """Poisson (``family="poisson"``) or NB2 (``"negbin"``) regression on the calendar.

    Parameters
    ----------
    family:
        ``"negbin"`` (dispersion estimated, Poisson when none) or ``"poisson"``.
    window_days:
        Trailing training window.
    half_life_days:
        Half-life of the exponential weights of past rows (``None``: equal weights).
    fourier_order:
        Sin/cos pairs of the annual cycle.
    level_days, level_prior:
        Re-anchoring window and its shrinkage pseudo-count (``level_days=0``: no re-anchoring).
    dispersion_inflation:
        Extra NB dispersion added to the fitted one, for the uncertainty of the mean itself.
    country, subdivision, school_periods:
        The holiday calendar (``holidays`` country code, France by default).
    exog:
        Exogenous columns of the frame (known in the future: ``X_future``).
    ridge:
        Ridge penalty per unit of weight.
    """

    alias: ClassVar[str] = "negbin"

    def __init__(
        self,
        family: str = "negbin",
        *,
        window_days: int = 3 * 365,
        half_life_days: float | None = 365.0,
        fourier_order: int = 3,
        level_days: int = 28,
        level_prior: float = 200.0,
        dispersion_inflation: float = 0.0,
        country: str | None = "FR",
        subdivision: str | None = None,
        school_periods: tuple[tuple[date, date], ...] = (),
        exog: tuple[str, ...] = (),
        ridge: float = 1e-4,
    ) -> None:
        if family not in ("poisson", "negbin"):
            raise InvalidRequestError(f"famille inconnue : {family} (poisson, negbin)")
        self.family = family
        self.window_days = window_days
        self.half_life_days = half_life_days
        self.fourier_order = fourier_order
        self.level_days = level_days
        self.level_prior = level_prior
        self.dispersion_inflation = dispersion_inflation
        self.country = country
        self.subdivision = subdivision
        self.school_periods = tuple(school_periods)
        self.exog = tuple(exog)
        self.ridge = ridge

    @property
    def calendar(self) -> HolidayCalendar:
        return HolidayCalendar(self.country, self.subdivision, self.school_periods)

    def _steps(self, frame: SeriesFrame, days: float) -> int:
        return max(1, int(round(pd.Timedelta(days=days) / frame.step)))

    def _fit_series(self, frame: SeriesFrame, end: int, previous: Any = None) -> _State:
        X = frame.design(self.fourier_order, self.calendar)  # noqa: N806
        start = max(0, end - self._steps(frame, self.window_days))
        y = frame.y[start:end]
        ok = np.isfinite(y)
        if ok.sum() < 2 * frame.season or np.nanmin(y) < 0:
            raise InvalidRequestError(
                f"{frame.uid} : régression de comptages impossible (au moins deux saisons de "
                "valeurs positives ou nulles sont nécessaires)"
            )
        Xw, yw = X[start:end][ok], y[ok]  # noqa: N806
        if self.half_life_days:
            age = (end - 1 - np.arange(start, end)[ok]) / self._steps(frame, self.half_life_days)
            w = 0.5**age
        else:
            w = np.ones(len(yw))
        # columns never seen in the window (a season position, a holiday) stay at 0
        seen = (np.abs(Xw) > 0).any(axis=0)
        beta = np.zeros(X.shape[1])
        beta0 = previous.beta[seen] if isinstance(previous, _State) else None
        beta[seen] = poisson_irls(Xw[:, seen], yw, w, beta0=beta0, ridge=self.ridge)
        alpha = 0.0
        if self.family == "negbin":
            alpha = nb_dispersion(yw, np.exp(Xw @ beta), w)
        return _State(beta, alpha + self.dispersion_inflation, end)

    def mean_forecast(self, state: _State, frame: SeriesFrame, end: int, h: int) -> np.ndarray:
        """The re-anchored predictive mean of rows ``[end, end + h)``."""
        X = frame.design(self.fourier_order, self.calendar)  # noqa: N806
        mu = np.exp(np.clip(X[end : end + h] @ state.beta, -30, 30))
        if self.level_days > 0:
            lo = max(0, end - self._steps(frame, self.level_days))
            recent = frame.y[lo:end]
            ok = np.isfinite(recent)
            fitted = np.exp(np.clip(X[lo:end][ok] @ state.beta, -30, 30))
            ratio = (recent[ok].sum() + self.level_prior) / (fitted.sum() + self.level_prior)
            mu = mu * ratio
        return mu

    def _forecast_series(
        self, state: _State, frame: SeriesFrame, end: int, h: int, quantiles: np.ndarray
    ) -> np.ndarray:
        mu = self.mean_forecast(state, frame, end, h)
        return count_quantiles(mu, state.alpha, quantiles)


class PoissonRegressionForecaster(CountRegressionForecaster):
    """:class:`CountRegressionForecaster` with ``family="poisson"``."""

    alias: ClassVar[str] = "poisson"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("poisson", **kwargs)

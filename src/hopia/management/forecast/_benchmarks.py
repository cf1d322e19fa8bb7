"""Benchmarks every model must beat: the seasonal naive and empirical seasonal quantiles.

``SeasonalEmpiricalForecaster`` is the hour-of-week benchmark of Rostami-Tabar, Browell and
Svetunkov (2023, "Probabilistic forecasting of hourly emergency department arrivals", Health
Systems): the forecast for an hour is the empirical distribution of the same hour of the week
over the last ``weeks`` weeks. For a daily series the season is the day of the week, for a
weekly one the week of the year.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from hopia.management.forecast._base import Forecaster, SeriesFrame, recent_same_season


def _nanquantile(values: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """Row-wise empirical quantiles (linear interpolation), NaN ignored; ``(h, nq)``."""
    out = np.nanquantile(values, quantiles, axis=1).T
    if np.isnan(out).any():  # rows with no history at all: the overall quantiles
        out = np.where(np.isnan(out), np.nanquantile(values, quantiles)[None, :], out)
    return out


class SeasonalEmpiricalForecaster(Forecaster):
    """Empirical quantiles of the same season position over the last ``weeks`` seasons.

    Parameters
    ----------
    weeks:
        How many past seasons (weeks for an hourly or daily series) feed each quantile.
    """

    alias: ClassVar[str] = "hour_of_week"

    def __init__(self, weeks: int = 8) -> None:
        self.weeks = weeks

    def _fit_series(self, frame: SeriesFrame, end: int, previous: Any = None) -> Any:
        return None

    def _forecast_series(
        self, state: Any, frame: SeriesFrame, end: int, h: int, quantiles: np.ndarray
    ) -> np.ndarray:
        past = recent_same_season(frame.y[:end], end, h, frame.season, self.weeks)
        return _nanquantile(past, quantiles)


class SeasonalNaiveForecaster(Forecaster):
    """The value one season ago, with the empirical quantiles of the seasonal differences
    ``y_t - y_{t-m}`` of the last ``window`` seasons around it (clipped at 0 for counts).

    Parameters
    ----------
    window:
        How many past seasons of differences set the spread.
    """

    alias: ClassVar[str] = "seasonal_naive"

    def __init__(self, window: int = 8) -> None:
        self.window = window

    def _fit_series(self, frame: SeriesFrame, end: int, previous: Any = None) -> Any:
        return None

    def _forecast_series(
        self, state: Any, frame: SeriesFrame, end: int, h: int, quantiles: np.ndarray
    ) -> np.ndarray:
        y, m = frame.y[:end], frame.season
        point = recent_same_season(y, end, h, m, 1)[:, 0]
        start = max(m, end - self.window * m)
        diffs = y[start:end] - y[start - m : end - m]
        if np.isfinite(diffs).sum() == 0:
            spread = np.zeros(len(quantiles))
        else:
            spread = np.nanquantile(diffs, quantiles)
        # several seasons ahead: the differences add up (random-walk scaling)
        k = np.ceil((np.arange(h) + 1) / m)
        fill = np.nanmean(y) if np.isfinite(y).any() else 0.0
        point = np.where(np.isnan(point), fill, point)
        out = point[:, None] + np.sqrt(k)[:, None] * spread[None, :]
        if np.nanmin(y) >= 0:
            out = np.maximum(out, 0.0)
        return out

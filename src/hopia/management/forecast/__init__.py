"""Forecasts of hospital activity with their uncertainty (statsforecast's shape).

Input: a long frame ``unique_id, ds, y`` (+ exogenous columns); output: quantile forecasts
``unique_id, ds, quantile, value`` for any levels (0.05 … 0.95 by default), never crossing.

>>> import numpy as np, pandas as pd
>>> ds = pd.date_range("2024-01-01", periods=24 * 7 * 6, freq="h")
>>> y = np.random.default_rng(0).poisson(5 + 3 * np.sin(2 * np.pi * ds.hour / 24))
>>> fc = make_forecaster("negbin").fit(pd.DataFrame({"ds": ds, "y": y}))
>>> out = fc.predict(48, quantiles=[0.1, 0.5, 0.9])
>>> list(out.columns), len(out)
(['unique_id', 'ds', 'quantile', 'value'], 144)

Models (:data:`FORECASTERS`): ``seasonal_naive`` and ``hour_of_week`` (benchmarks),
``poisson`` and ``negbin`` (count regressions on the calendar), ``ensemble``.
"""

from hopia.management.forecast._backtest import BacktestResult, backtest, origin_grid
from hopia.management.forecast._base import (
    DEFAULT_QUANTILES,
    Forecaster,
    SeriesFrame,
    check_quantiles,
)
from hopia.management.forecast._benchmarks import (
    SeasonalEmpiricalForecaster,
    SeasonalNaiveForecaster,
)
from hopia.management.forecast._calendar import HolidayCalendar, read_school_periods
from hopia.management.forecast._data import frames_from_long, read_series_csv
from hopia.management.forecast._ensemble import QuantileAverageForecaster
from hopia.management.forecast._metrics import coverage, pinball, scores
from hopia.management.forecast._pipeline import (
    BacktestReport,
    PredictReport,
    parse_quantiles,
    run_backtest,
    run_predict,
    score_predictions,
)
from hopia.management.forecast._registry import FORECASTERS, make_forecaster
from hopia.management.forecast._regression import (
    CountRegressionForecaster,
    PoissonRegressionForecaster,
)

__all__ = [
    "DEFAULT_QUANTILES",
    "FORECASTERS",
    "BacktestReport",
    "BacktestResult",
    "CountRegressionForecaster",
    "Forecaster",
    "HolidayCalendar",
    "PoissonRegressionForecaster",
    "PredictReport",
    "QuantileAverageForecaster",
    "SeasonalEmpiricalForecaster",
    "SeasonalNaiveForecaster",
    "SeriesFrame",
    "backtest",
    "check_quantiles",
    "coverage",
    "frames_from_long",
    "make_forecaster",
    "origin_grid",
    "parse_quantiles",
    "pinball",
    "read_school_periods",
    "read_series_csv",
    "run_backtest",
    "run_predict",
    "score_predictions",
    "scores",
]

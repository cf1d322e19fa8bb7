"""Consumption forecasts per item: the demand class (Syntetos-Boylan), then Croston, SBA or TSB
for intermittent demand and simple exponential smoothing or the mean for smooth demand.

Every method runs on many series at once: ``y`` is an array (series × periods) and the result
holds the one-step-ahead forecasts, ``fitted[:, t]`` made with ``y[:, :t]`` only, and, in the
last column, the forecast of the next period (a flat forecast: every future period alike).
Before a series' first demand, Croston-type methods have no forecast (NaN).

Parameters and, within a class, the method are chosen on the history only: the one-step mean
squared error over the second half of the periods (the first half warms the methods up).

References
----------
- Croston, J. D. (1972). Forecasting and stock control for intermittent demands. *Operational
  Research Quarterly*, 23(3), 289–303.
- Syntetos, A. A., & Boylan, J. E. (2005). The accuracy of intermittent demand estimates.
  *International Journal of Forecasting*, 21(2), 303–314 (SBA).
- Syntetos, A. A., Boylan, J. E., & Croston, J. D. (2005). On the categorization of demand
  patterns. *JORS*, 56(5), 495–503 (ADI 1.32, CV² 0.49).
- Teunter, R. H., Syntetos, A. A., & Babai, M. Z. (2011). Intermittent demand: linking
  forecasting to inventory obsolescence. *EJOR*, 214(3), 606–615 (TSB).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

ADI_CUT = 1.32
CV2_CUT = 0.49
ALPHAS = (0.05, 0.1, 0.2, 0.3, 0.5)
BETAS = (0.05, 0.1, 0.2, 0.3, 0.5)
CLASSES = ("smooth", "erratic", "intermittent", "lumpy", "none")
CLASS_FR = {
    "smooth": "régulière",
    "erratic": "erratique",
    "intermittent": "intermittente",
    "lumpy": "sporadique",
    "none": "sans consommation",
}


def classify(y: np.ndarray) -> pd.DataFrame:
    """ADI (average inter-demand interval: periods per period with demand), CV² of the
    non-zero demand sizes, and the class: smooth (ADI < 1.32, CV² < 0.49), erratic (ADI <
    1.32), intermittent (CV² < 0.49), lumpy (both high); ``none`` without any demand."""
    y = np.atleast_2d(np.asarray(y, dtype=float))
    positive = y > 0
    count = positive.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        adi = np.where(count > 0, y.shape[1] / count, np.inf)
        sizes = np.where(positive, y, np.nan)
        mean = np.nanmean(np.where(count[:, None] > 0, sizes, 0.0), axis=1)
        std = np.nanstd(np.where(count[:, None] > 0, sizes, 0.0), axis=1)
        cv2 = np.where(count > 0, (std / mean) ** 2, np.nan)
    klass = np.where(
        count == 0,
        "none",
        np.where(
            adi < ADI_CUT,
            np.where(cv2 < CV2_CUT, "smooth", "erratic"),
            np.where(cv2 < CV2_CUT, "intermittent", "lumpy"),
        ),
    )
    return pd.DataFrame({"adi": adi, "cv2": cv2, "demand_class": klass})


def ses(y: np.ndarray, alpha: float) -> np.ndarray:
    """Simple exponential smoothing, the level started at the first value."""
    y = np.atleast_2d(np.asarray(y, dtype=float))
    n, t_max = y.shape
    fitted = np.full((n, t_max + 1), np.nan)
    if t_max == 0:
        return fitted
    level = y[:, 0].copy()
    for t in range(1, t_max + 1):
        fitted[:, t] = level
        if t < t_max:
            level += alpha * (y[:, t] - level)
    return fitted


def mean_forecast(y: np.ndarray) -> np.ndarray:
    """The mean of the periods so far."""
    y = np.atleast_2d(np.asarray(y, dtype=float))
    n, t_max = y.shape
    fitted = np.full((n, t_max + 1), np.nan)
    if t_max:
        fitted[:, 1:] = np.cumsum(y, axis=1) / np.arange(1, t_max + 1)
    return fitted


def croston(y: np.ndarray, alpha: float, *, debias: float = 1.0) -> np.ndarray:
    """Croston's method: sizes ``z`` and intervals ``p`` smoothed at each demand (``alpha``),
    forecast ``debias · z / p``. At the first demand (period ``i``, 0-based) ``z`` is its size
    and ``p = i + 1``. ``debias = 1 - alpha / 2`` is the SBA (:func:`sba`)."""
    y = np.atleast_2d(np.asarray(y, dtype=float))
    n, t_max = y.shape
    fitted = np.full((n, t_max + 1), np.nan)
    z, p = np.zeros(n), np.ones(n)
    last = np.full(n, -1)
    started = np.zeros(n, dtype=bool)
    for t in range(t_max):
        fitted[started, t] = debias * z[started] / p[started]
        demand = y[:, t] > 0
        first = demand & ~started
        later = demand & started
        z[first], p[first] = y[first, t], t + 1.0
        z[later] += alpha * (y[later, t] - z[later])
        p[later] += alpha * ((t - last[later]) - p[later])
        last[demand] = t
        started |= demand
    fitted[started, t_max] = debias * z[started] / p[started]
    return fitted


def sba(y: np.ndarray, alpha: float) -> np.ndarray:
    """Syntetos-Boylan approximation: Croston times ``1 - alpha / 2`` (bias correction)."""
    return croston(y, alpha, debias=1.0 - alpha / 2.0)


def tsb(y: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """Teunter-Syntetos-Babai: the demand probability ``d`` updated every period (``beta``),
    the size ``z`` at each demand (``alpha``), forecast ``d · z``. At the first demand (period
    ``i``) ``z`` is its size and ``d = 1 / (i + 1)``."""
    y = np.atleast_2d(np.asarray(y, dtype=float))
    n, t_max = y.shape
    fitted = np.full((n, t_max + 1), np.nan)
    z, d = np.zeros(n), np.zeros(n)
    started = np.zeros(n, dtype=bool)
    for t in range(t_max):
        fitted[started, t] = d[started] * z[started]
        demand = y[:, t] > 0
        first = demand & ~started
        z[first], d[first] = y[first, t], 1.0 / (t + 1.0)
        later = started
        hit = later & demand
        d[later] += beta * (demand[later].astype(float) - d[later])
        z[hit] += alpha * (y[hit, t] - z[hit])
        started |= demand
    fitted[started, t_max] = d[started] * z[started]
    return fitted


@dataclass(frozen=True)
class Candidate:
    method: str
    params: str
    run: Callable[[np.ndarray], np.ndarray]


def candidates(demand_class: str) -> list[Candidate]:
    """The methods and parameter grids tried for a demand class."""
    if demand_class in ("intermittent", "lumpy"):
        out = [Candidate("croston", f"alpha={a}", lambda y, a=a: croston(y, a)) for a in ALPHAS]
        out += [Candidate("sba", f"alpha={a}", lambda y, a=a: sba(y, a)) for a in ALPHAS]
        out += [
            Candidate("tsb", f"alpha={a} beta={b}", lambda y, a=a, b=b: tsb(y, a, b))
            for a in ALPHAS
            for b in BETAS
        ]
        return out
    out = [Candidate("ses", f"alpha={a}", lambda y, a=a: ses(y, a)) for a in ALPHAS]
    return out + [Candidate("mean", "", mean_forecast)]


def _mse(y: np.ndarray, fitted: np.ndarray, start: int) -> np.ndarray:
    err = fitted[:, start:-1] - y[:, start:]
    # before the first demand a Croston-type method forecasts nothing: read as zero
    err = np.where(np.isnan(err), y[:, start:], err)
    return np.mean(err**2, axis=1) if err.shape[1] else np.zeros(len(y))


def forecast(y: np.ndarray) -> pd.DataFrame:
    """The forecast of the next period per series (rows of ``y``, periods in columns).

    Returns ``adi, cv2, demand_class, method, params, forecast`` (mean demand per period) and
    ``rmse`` (the one-step error of the chosen method over the second half: the spread used
    for the safety stock)."""
    y = np.atleast_2d(np.asarray(y, dtype=float))
    out = classify(y)
    n, t_max = y.shape
    out["method"], out["params"] = "none", ""
    out["forecast"], out["rmse"] = 0.0, 0.0
    start = t_max // 2
    for klass in ("smooth", "erratic", "intermittent", "lumpy"):
        rows = np.flatnonzero(out["demand_class"].to_numpy() == klass)
        if not len(rows):
            continue
        sub = y[rows]
        best_mse = np.full(len(rows), np.inf)
        best_fc = np.zeros(len(rows))
        best_method = np.full(len(rows), "", dtype=object)
        best_params = np.full(len(rows), "", dtype=object)
        for cand in candidates(klass):
            fitted = cand.run(sub)
            mse = _mse(sub, fitted, start)
            better = mse < best_mse - 1e-12
            best_mse[better] = mse[better]
            best_fc[better] = np.nan_to_num(fitted[better, -1])
            best_method[better], best_params[better] = cand.method, cand.params
        out.loc[rows, "method"] = best_method
        out.loc[rows, "params"] = best_params
        out.loc[rows, "forecast"] = best_fc
        out.loc[rows, "rmse"] = np.sqrt(best_mse)
    return out

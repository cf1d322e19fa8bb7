"""Rolling-origin backtest: forecasts issued at each origin from the rows before it.

At origin ``T`` the model sees only rows stamped strictly before ``T`` and forecasts
``T, T + step, …, T + (h-1) step``. Fitting at every origin is the costly part, so the model is
refitted when ``refit_every`` has passed since its last fit (weekly by default) and re-anchored
on the newest rows in between (what ``_forecast_series`` does from the history before ``T``).
The benchmarks have nothing to fit and are exact at every origin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hopia.management.forecast._base import Forecaster, SeriesFrame
from hopia.platform.exceptions import InvalidRequestError


@dataclass
class BacktestResult:
    """Forecasts ``values`` of shape ``(origins, h, nq)``, the outcomes ``actual``
    ``(origins, h)`` (NaN where unknown) and the stamps ``targets`` ``(origins, h)``."""

    origins: pd.DatetimeIndex
    quantiles: np.ndarray
    values: np.ndarray
    actual: np.ndarray
    targets: np.ndarray
    fits: int

    def long(self) -> pd.DataFrame:
        """``origin, timestamp, quantile, value`` rows."""
        n, h, nq = self.values.shape
        return pd.DataFrame(
            {
                "origin": np.repeat(self.origins.to_numpy(), h * nq),
                "timestamp": np.repeat(self.targets.reshape(-1), nq),
                "quantile": np.tile(self.quantiles, n * h),
                "value": self.values.reshape(-1),
            }
        )


def origin_grid(
    frame: SeriesFrame, start: pd.Timestamp, end: pd.Timestamp, every: pd.Timedelta
) -> pd.DatetimeIndex:
    """Origins ``start, start + every, … <= end``, each on the series' grid and with history
    before it."""
    if every <= pd.Timedelta(0):
        raise InvalidRequestError("l'intervalle entre origines doit être positif", fields=["every"])
    if end < start:
        raise InvalidRequestError("fin des origines avant leur début", fields=["origins_end"])
    origins = pd.date_range(start, end, freq=every).as_unit("ns")
    off = (origins.asi8 - frame.ds.asi8[0]) % frame.step.value
    if np.any(off != 0):
        raise InvalidRequestError(
            f"origine {origins[off != 0][0].isoformat()} hors du pas de la série ({frame.step})",
            fields=["origins_start"],
        )
    if origins[0] <= frame.ds[0]:
        raise InvalidRequestError(
            f"première origine {origins[0].isoformat()} sans historique (données à partir du "
            f"{frame.ds[0].isoformat()})",
            fields=["origins_start"],
        )
    if origins[-1] > frame.ds[-1] + frame.step:
        raise InvalidRequestError(
            f"dernière origine {origins[-1].isoformat()} après la fin des données "
            f"({frame.ds[-1].isoformat()})",
            fields=["origins_end"],
        )
    return origins


def backtest(
    model: Forecaster,
    frame: SeriesFrame,
    origins: pd.DatetimeIndex,
    h: int,
    quantiles: np.ndarray,
    refit_every: pd.Timedelta | None = pd.Timedelta(days=7),
) -> BacktestResult:
    """Forecasts of ``model`` at every origin (see the module's docstring)."""
    if h < 1:
        raise InvalidRequestError("l'horizon doit être d'au moins un pas", fields=["horizon"])
    origins = origins.as_unit("ns")
    ends = ((origins.asi8 - frame.ds.asi8[0]) // frame.step.value).astype(np.int64)
    need = int(ends.max()) + h - len(frame.y)
    work = frame
    if need > 0:  # forecasts past the data's end: exogenous values carried forward
        fut = None if frame.exog is None else np.repeat(frame.exog[-1:], need, axis=0)
        work = frame.extended(need, fut)
    values = np.empty((len(origins), h, len(quantiles)))
    state, fitted_at, fits = None, None, 0
    for i, (origin, end) in enumerate(zip(origins, ends, strict=True)):
        if state is None or refit_every is None or origin - fitted_at >= refit_every:
            state = model._fit_series(work, int(end), state)
            fitted_at, fits = origin, fits + 1
        values[i] = model.forecast_array(state, work, int(end), h, quantiles)
    idx = ends[:, None] + np.arange(h)[None, :]
    actual = np.full(idx.shape, np.nan)
    known = idx < len(frame.y)
    actual[known] = frame.y[idx[known]]
    targets = work.ds.to_numpy()[idx]
    return BacktestResult(origins, quantiles, values, actual, targets, fits)

"""The forecaster contract (statsforecast's shape) and the per-series frame it works on.

A forecaster takes a long frame ``unique_id, ds, y`` (plus optional exogenous columns), is
fitted with ``fit(df)`` and returns quantile forecasts as a long frame
``unique_id, ds, quantile, value`` from ``predict(h, quantiles, X_future)``. Quantiles never
cross: each row is sorted after predicting.

Inside, each model implements two array functions on a :class:`SeriesFrame` (one series on a
regular grid, history and future together): ``_fit_series(frame, end)`` learns from rows
``[0, end)`` only, and ``_forecast_series(state, frame, end, h, quantiles)`` forecasts rows
``[end, end + h)`` from those parameters and the history ``[0, end)`` (re-anchoring a level is
allowed, refitting is not). The backtest calls them directly, refitting on a schedule; no
function reads ``y`` at or after ``end``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from hopia.management.forecast._calendar import HolidayCalendar, season_index, season_length
from hopia.platform.exceptions import InvalidRequestError

DEFAULT_QUANTILES: tuple[float, ...] = tuple(round(0.05 * k, 2) for k in range(1, 20))


def check_quantiles(quantiles: Sequence[float] | None) -> np.ndarray:
    """Sorted, distinct quantile levels strictly between 0 and 1 (default 0.05 … 0.95)."""
    q = np.array(DEFAULT_QUANTILES if quantiles is None else list(quantiles), dtype=float)
    if q.size == 0 or np.any((q <= 0) | (q >= 1)) or not np.all(np.isfinite(q)):
        raise InvalidRequestError("niveaux de quantiles hors de ]0, 1[", fields=["quantiles"])
    return np.unique(np.round(q, 6))


@dataclass
class SeriesFrame:
    """One series on a regular grid: stamps, values (NaN where missing or in the future),
    exogenous columns, and cached design matrices."""

    uid: str
    ds: pd.DatetimeIndex
    y: np.ndarray
    step: pd.Timedelta
    exog: np.ndarray | None = None
    exog_names: tuple[str, ...] = ()
    _cache: dict[Any, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def season(self) -> int:
        return season_length(self.step)

    def season_idx(self) -> np.ndarray:
        key = ("season",)
        if key not in self._cache:
            self._cache[key] = season_index(self.ds, self.step)
        return self._cache[key]

    def design(self, fourier_order: int, calendar: HolidayCalendar) -> np.ndarray:
        """The calendar design over every row (history and future), computed once."""
        from hopia.management.forecast._calendar import design

        key = ("design", fourier_order, calendar)
        if key not in self._cache:
            self._cache[key] = design(
                self.ds,
                self.step,
                fourier_order=fourier_order,
                calendar=calendar,
                exog=self.exog,
            )
        return self._cache[key]

    def extended(self, h: int, exog_future: np.ndarray | None) -> SeriesFrame:
        """The same series with ``h`` future rows (``y`` NaN) appended."""
        future = pd.date_range(self.ds[-1] + self.step, periods=h, freq=self.step).as_unit("ns")
        exog = None
        if self.exog is not None:
            if exog_future is None or len(exog_future) != h:
                raise InvalidRequestError(
                    f"{self.uid} : les variables exogènes {', '.join(self.exog_names)} "
                    f"doivent être données pour les {h} pas à prévoir",
                    fields=["X_future"],
                )
            exog = np.vstack([self.exog, exog_future])
        return SeriesFrame(
            self.uid,
            self.ds.append(future),
            np.concatenate([self.y, np.full(h, np.nan)]),
            self.step,
            exog,
            self.exog_names,
        )


class Forecaster:
    """Base class: the long-frame API around ``_fit_series`` / ``_forecast_series``.

    Subclasses set ``alias`` (the registry name and the column label) and keep their
    hyper-parameters as keyword arguments (scikit-learn's rule); fitted state ends in ``_``.
    """

    alias: ClassVar[str] = "forecaster"
    #: exogenous column names the model reads from the frame (others are ignored)
    exog: tuple[str, ...] = ()

    # -- to implement ---------------------------------------------------------------------

    def _fit_series(self, frame: SeriesFrame, end: int, previous: Any = None) -> Any:
        """Parameters learnt from rows ``[0, end)``; ``previous`` is the last state of the
        same series (a warm start), or ``None``."""
        raise NotImplementedError

    def _forecast_series(
        self, state: Any, frame: SeriesFrame, end: int, h: int, quantiles: np.ndarray
    ) -> np.ndarray:
        raise NotImplementedError

    # -- public API -----------------------------------------------------------------------

    def forecast_array(
        self, state: Any, frame: SeriesFrame, end: int, h: int, quantiles: np.ndarray
    ) -> np.ndarray:
        """``(h, len(quantiles))`` forecasts for rows ``[end, end + h)``, sorted per row."""
        out = np.asarray(self._forecast_series(state, frame, end, h, quantiles), dtype=float)
        return np.sort(out, axis=1)

    def fit(self, df: pd.DataFrame, freq: str | pd.Timedelta | None = None) -> Forecaster:
        """Fit on a long frame ``unique_id, ds, y`` (+ the model's exogenous columns)."""
        from hopia.management.forecast._data import frames_from_long

        self.frames_ = frames_from_long(df, freq=freq, exog=self.exog)
        self.states_ = {uid: self._fit_series(f, len(f.y)) for uid, f in self.frames_.items()}
        return self

    def predict(
        self,
        h: int,
        quantiles: Sequence[float] | None = None,
        X_future: pd.DataFrame | None = None,  # noqa: N803 (statsforecast's name)
    ) -> pd.DataFrame:
        """Quantile forecasts for the ``h`` steps after each series' last stamp, as a long
        frame ``unique_id, ds, quantile, value``. ``X_future`` (``unique_id, ds`` + the
        exogenous columns) is required when the model uses exogenous columns."""
        if not hasattr(self, "states_"):
            raise InvalidRequestError("modèle non ajusté : appelez fit() d'abord")
        if h < 1:
            raise InvalidRequestError("l'horizon doit être d'au moins un pas", fields=["h"])
        q = check_quantiles(quantiles)
        rows = []
        for uid, frame in self.frames_.items():
            exog_future = None
            if self.exog:
                if X_future is None:
                    raise InvalidRequestError(
                        f"X_future manquant (colonnes {', '.join(self.exog)})",
                        fields=["X_future"],
                    )
                fut = X_future[X_future["unique_id"].astype(str) == uid].sort_values("ds")
                exog_future = fut[list(self.exog)].to_numpy(dtype=float)[:h]
            ext = frame.extended(h, exog_future)
            end = len(frame.y)
            values = self.forecast_array(self.states_[uid], ext, end, h, q)
            rows.append(long_frame(uid, ext.ds[end : end + h], q, values))
        return pd.concat(rows, ignore_index=True)


def long_frame(
    uid: str, ds: pd.DatetimeIndex, quantiles: np.ndarray, values: np.ndarray
) -> pd.DataFrame:
    """``unique_id, ds, quantile, value`` rows from an ``(h, nq)`` array."""
    h, nq = values.shape
    return pd.DataFrame(
        {
            "unique_id": uid,
            "ds": np.repeat(ds.to_numpy(), nq),
            "quantile": np.tile(quantiles, h),
            "value": values.reshape(-1),
        }
    )


def recent_same_season(y: np.ndarray, end: int, h: int, season: int, n: int) -> np.ndarray:
    """``(h, n)`` values of ``y`` at the same season position as rows ``end … end+h-1``, the
    ``n`` most recent before ``end`` (NaN where the history is too short)."""
    t = end + np.arange(h)
    first = -(-(t - end + 1) // season)  # smallest k with t - k*season < end
    k = first[:, None] + np.arange(n)[None, :]
    idx = t[:, None] - k * season
    out = np.full(idx.shape, np.nan)
    ok = idx >= 0
    out[ok] = y[idx[ok]]
    return out

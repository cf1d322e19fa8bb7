"""Quantile averaging (Vincentisation): the mean, level by level, of several models'
quantiles, which keeps them sorted when each model's are (Lichtendahl, Grushka-Cockayne and
Winkler 2013, "Is it better to average probabilities or quantiles?")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from hopia.management.forecast._base import Forecaster, SeriesFrame


class QuantileAverageForecaster(Forecaster):
    """Weighted average of the members' quantiles, level by level.

    Parameters
    ----------
    members:
        The forecasters to average.
    weights:
        One weight per member (equal by default), normalised to sum to 1.
    """

    alias: ClassVar[str] = "ensemble"

    def __init__(
        self, members: Sequence[Forecaster], weights: Sequence[float] | None = None
    ) -> None:
        self.members = tuple(members)
        self.weights = None if weights is None else tuple(float(w) for w in weights)
        self.exog = tuple(dict.fromkeys(c for m in self.members for c in m.exog))

    def _fit_series(self, frame: SeriesFrame, end: int, previous: Any = None) -> Any:
        prev = previous or [None] * len(self.members)
        return [m._fit_series(frame, end, p) for m, p in zip(self.members, prev, strict=True)]

    def _forecast_series(
        self, state: Any, frame: SeriesFrame, end: int, h: int, quantiles: np.ndarray
    ) -> np.ndarray:
        w = np.ones(len(self.members)) if self.weights is None else np.array(self.weights)
        w = w / w.sum()
        parts = [
            m.forecast_array(s, frame, end, h, quantiles)
            for m, s in zip(self.members, state, strict=True)
        ]
        return np.tensordot(w, np.stack(parts), axes=1)

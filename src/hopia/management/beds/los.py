"""Lengths of stay: the empirical distribution of a service, and draws of the remaining stay
of a patient already in bed, conditional on the time already spent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class EmpiricalLos:
    """The lengths of stay (whole days) of a service's completed stays.

    ``draw_total(elapsed)``: a length of stay ``L`` drawn among the observed ones with
    ``L >= elapsed`` (a patient in bed for ``elapsed`` nights stays at least that long). When
    none is that long, ``L = elapsed + r`` with ``r`` drawn among the residuals beyond the 90th
    percentile (``L - P90`` of the longest tenth, at least 1): a long stayer keeps the tail of
    the long stays."""

    values: np.ndarray  # sorted lengths of stay, days

    @classmethod
    def of(cls, lengths: np.ndarray, fallback: float = 5.0) -> EmpiricalLos:
        lengths = np.asarray(lengths, dtype=np.int64)
        lengths = lengths[lengths >= 0]
        if len(lengths) == 0:  # a service without history: a geometric guess, mean ``fallback``
            lengths = np.random.default_rng(0).geometric(1 / fallback, 200)
        return cls(np.sort(lengths))

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.values[rng.integers(0, len(self.values), n)]

    def draw_total(self, elapsed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One length of stay per entry of ``elapsed`` (days already spent), ``L >= elapsed``."""
        elapsed = np.asarray(elapsed, dtype=np.int64)
        v = self.values
        first = np.searchsorted(v, elapsed, side="left")  # index of the first L >= elapsed
        room = len(v) - first
        out = np.empty(len(elapsed), dtype=np.int64)
        some = room > 0
        pick = first[some] + (rng.random(some.sum()) * room[some]).astype(np.int64)
        out[some] = v[np.minimum(pick, len(v) - 1)]
        if (~some).any():
            p90 = np.percentile(v, 90)
            tail = np.maximum(1, (v[v >= p90] - p90).astype(np.int64))
            out[~some] = elapsed[~some] + tail[rng.integers(0, len(tail), (~some).sum())]
        return out

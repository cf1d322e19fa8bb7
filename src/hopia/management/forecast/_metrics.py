"""Scores of quantile forecasts: pinball loss and interval coverage.

The pinball (quantile) loss of level ``tau`` for the forecast ``q`` and the outcome ``y`` is
``tau (y - q)`` when ``y >= q`` and ``(1 - tau)(q - y)`` otherwise (Koenker and Bassett 1978);
the score is its mean over every forecast point and level. The coverage of the central
``p`` interval is the share of outcomes with ``q_{(1-p)/2} <= y <= q_{(1+p)/2}``, bounds
included. Points without an outcome (past the data's end, or a gap) are left out.
"""

from __future__ import annotations

import numpy as np


def pinball(actual: np.ndarray, values: np.ndarray, quantiles: np.ndarray) -> float:
    """Mean pinball loss; ``actual`` has shape ``S``, ``values`` ``S + (nq,)``."""
    y = np.asarray(actual, dtype=float)[..., None]
    ok = np.isfinite(y[..., 0])
    diff = (y - values)[ok]
    q = np.asarray(quantiles, dtype=float)
    loss = np.maximum(q * diff, (q - 1) * diff)
    return float(loss.mean()) if loss.size else float("nan")


def coverage(
    actual: np.ndarray, values: np.ndarray, quantiles: np.ndarray, level: float
) -> float | None:
    """Share of outcomes inside the central ``level`` interval; ``None`` when its two bounds
    are not among the quantile levels."""
    q = np.round(np.asarray(quantiles, dtype=float), 6)
    lo, hi = round((1 - level) / 2, 6), round((1 + level) / 2, 6)
    if lo not in q or hi not in q:
        return None
    i, j = int(np.flatnonzero(q == lo)[0]), int(np.flatnonzero(q == hi)[0])
    y = np.asarray(actual, dtype=float)
    ok = np.isfinite(y)
    inside = (values[..., i] <= y) & (y <= values[..., j])
    return float(inside[ok].mean()) if ok.any() else None


def scores(actual: np.ndarray, values: np.ndarray, quantiles: np.ndarray) -> dict[str, object]:
    """Pinball, coverage of the 50 % and 90 % intervals and the number of points scored."""
    return {
        "pinball": pinball(actual, values, quantiles),
        "coverage_50": coverage(actual, values, quantiles, 0.5),
        "coverage_90": coverage(actual, values, quantiles, 0.9),
        "points": int(np.isfinite(np.asarray(actual, dtype=float)).sum()),
    }

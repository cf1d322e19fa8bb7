"""A daily admissions count model: negative binomial with day-of-week and annual effects.

``log E[y_d] = b0 + weekday(d) + sum_k a_k sin(2πk t/365.25) + c_k cos(2πk t/365.25)`` (two
harmonics), fitted by Poisson maximum likelihood (iteratively reweighted least squares), the
negative binomial dispersion ``α`` (``Var = μ + α μ²``) then by moments on the Pearson
residuals (Cameron & Trivedi 2013, §3.2). Any object with ``fit(y)`` and ``sample(days, paths,
rng)`` can replace it in :func:`hopia.management.beds.forecast` (``admissions_model``): the
forecasting package ``hopia.management.forecast`` is meant to, once merged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

HARMONICS = 2


class AdmissionsModel(Protocol):
    """What the bed simulation needs of a daily admissions model."""

    def fit(self, y: pd.Series) -> AdmissionsModel: ...

    def sample(self, days: pd.DatetimeIndex, paths: int, rng: np.random.Generator) -> np.ndarray:
        """Counts of shape ``(paths, len(days))``."""
        ...


def design(days: pd.DatetimeIndex) -> np.ndarray:
    """Intercept, six weekday indicators (Monday is the reference) and the annual harmonics."""
    t = days.dayofyear.to_numpy(float)
    cols = [np.ones(len(days))]
    weekday = days.dayofweek.to_numpy()
    cols += [(weekday == k).astype(float) for k in range(1, 7)]
    for k in range(1, HARMONICS + 1):
        cols += [np.sin(2 * np.pi * k * t / 365.25), np.cos(2 * np.pi * k * t / 365.25)]
    return np.column_stack(cols)


@dataclass
class NegativeBinomialAdmissions:
    """Daily admissions of one service (see the module docstring). ``annual``: fit the annual
    harmonics only when the history covers ``min_days_annual`` days (else weekday only)."""

    min_days_annual: int = 365
    coef_: np.ndarray = field(default_factory=lambda: np.zeros(0))
    alpha_: float = 0.0
    annual_: bool = False

    def _x(self, days: pd.DatetimeIndex) -> np.ndarray:
        x = design(days)
        return x if self.annual_ else x[:, :7]

    def fit(self, y: pd.Series) -> NegativeBinomialAdmissions:
        days = pd.DatetimeIndex(y.index)
        values = y.to_numpy(float)
        self.annual_ = len(values) >= self.min_days_annual
        x = self._x(days)
        mean = max(values.mean(), 1e-3)
        beta = np.zeros(x.shape[1])
        beta[0] = np.log(mean)
        for _ in range(50):  # IRLS for the Poisson log-linear model
            eta = np.clip(x @ beta, -20, 20)
            mu = np.exp(eta)
            z = eta + (values - mu) / mu
            w = mu
            xtw = x.T * w
            new = np.linalg.lstsq(xtw @ x + 1e-6 * np.eye(x.shape[1]), xtw @ z, rcond=None)[0]
            if np.max(np.abs(new - beta)) < 1e-8:
                beta = new
                break
            beta = new
        self.coef_ = beta
        mu = np.exp(np.clip(x @ beta, -20, 20))
        dof = max(1, len(values) - x.shape[1])
        self.alpha_ = float(max(0.0, np.sum(((values - mu) ** 2 - mu) / mu**2) / dof))
        return self

    def mean(self, days: pd.DatetimeIndex) -> np.ndarray:
        return np.exp(np.clip(self._x(days) @ self.coef_, -20, 20))

    def sample(self, days: pd.DatetimeIndex, paths: int, rng: np.random.Generator) -> np.ndarray:
        mu = self.mean(days)
        if self.alpha_ < 1e-9:
            return rng.poisson(mu, size=(paths, len(days)))
        # NB2 as a gamma-Poisson mixture: λ ~ Gamma(1/α, α μ).
        shape = 1.0 / self.alpha_
        lam = rng.gamma(shape, self.alpha_ * mu, size=(paths, len(days)))
        return rng.poisson(lam)

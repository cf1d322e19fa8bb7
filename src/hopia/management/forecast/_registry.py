"""Forecasters by name: ``FORECASTERS.get("negbin")(**params)``.

A hospital adds its own under the ``hopia.forecasters`` entry-point group; each entry is a
callable taking keyword hyper-parameters and returning a :class:`Forecaster`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hopia.management.forecast._base import Forecaster
from hopia.platform.registry import Registry

_P = "hopia.management.forecast"
FORECASTERS: Registry[Callable[..., Forecaster]] = Registry(
    "modèle de prévision",
    "hopia.forecasters",
    {
        "seasonal_naive": f"{_P}._benchmarks:SeasonalNaiveForecaster",
        "hour_of_week": f"{_P}._benchmarks:SeasonalEmpiricalForecaster",
        "poisson": f"{_P}._regression:PoissonRegressionForecaster",
        "negbin": f"{_P}._regression:CountRegressionForecaster",
        "ensemble": f"{_P}._registry:default_ensemble",
    },
)

DEFAULT_MODEL = "negbin"
BENCHMARK_MODEL = "hour_of_week"


def default_ensemble(**params: Any) -> Forecaster:
    """NB regression (``params``) averaged with the hour-of-week benchmark, equal weights."""
    from hopia.management.forecast._benchmarks import SeasonalEmpiricalForecaster
    from hopia.management.forecast._ensemble import QuantileAverageForecaster
    from hopia.management.forecast._regression import CountRegressionForecaster

    weeks = params.pop("weeks", 52)
    return QuantileAverageForecaster(
        [CountRegressionForecaster(**params), SeasonalEmpiricalForecaster(weeks=weeks)]
    )


def make_forecaster(name: str, **params: Any) -> Forecaster:
    """A forecaster of the registry, built with ``params``."""
    return FORECASTERS.get(name)(**params)

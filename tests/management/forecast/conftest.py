"""A small generated hourly series: Poisson counts with a daily and weekly pattern."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def weekly_counts(weeks: int = 12, seed: int = 0, start: str = "2024-01-01") -> pd.DataFrame:
    """``ds, y``: hourly Poisson counts, busier by day and on Mondays."""
    ds = pd.date_range(start, periods=weeks * 168, freq="h")
    hour, dow = ds.hour.to_numpy(), ds.dayofweek.to_numpy()
    mean = 3 + 4 * np.exp(-((hour - 14) ** 2) / 18) + 1.5 * (dow == 0)
    y = np.random.default_rng(seed).poisson(mean)
    return pd.DataFrame({"ds": ds, "y": y})


@pytest.fixture
def series() -> pd.DataFrame:
    return weekly_counts()


@pytest.fixture
def series_csv(tmp_path: Path, series: pd.DataFrame) -> Path:
    """The series as a CSV with a timestamp column ``horodatage`` and ``arrivees``."""
    path = tmp_path / "arrivees.csv"
    out = pd.DataFrame(
        {
            "horodatage": series["ds"].dt.strftime("%Y-%m-%dT%H:%M:%S"),
            "arrivees": series["y"],
        }
    )
    out.to_csv(path, index=False)
    return path

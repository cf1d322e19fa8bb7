"""The real UIHC emergency arrivals (shared data; skipped when absent), on a few origins."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from hopia.management.forecast import run_backtest
from tests.conftest import shared_path


def test_uihc_few_origins(tmp_path: Path) -> None:
    data = shared_path("timeseries", "uihc_ed_arrivals_hourly_2013_2018.csv")
    out = tmp_path / "PRED.csv"
    report = run_backtest(
        data,
        ds="Date,Hour",
        y="Arrivals",
        origins_start="2016-06-01T00:00",
        origins_end="2016-06-07T12:00",
        every="12h",
        horizon=48,
        quantiles="0.05:0.95:0.05",
        output=out,
    )
    assert report.origins == 14 and report.points == 14 * 48
    assert report.step == "1h" and report.missing_steps == 0
    assert report.model.pinball < report.benchmark.pinball  # beats 8 weeks of hour-of-week
    assert 0.75 <= report.model.coverage_90 <= 1.0
    pred = pd.read_csv(out, dtype={"origin": str, "timestamp": str})
    assert pred["origin"].iloc[0] == "2016-06-01T00:00:00"
    assert pred["timestamp"].iloc[-1] == "2016-06-09T11:00:00"
    assert json.loads(out.with_name("PRED.metrics.json").read_text())["origins"] == 14

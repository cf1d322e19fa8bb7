"""``hopia forecast backtest``: the contract checked from outside (columns, clock, leads,
metrics file, French errors on bad files)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hopia.cli.main import app

from .conftest import weekly_counts

ARGS = [
    "--ds",
    "horodatage",
    "--y",
    "arrivees",
    "--origins-start",
    "2024-03-04T00:00",
    "--origins-end",
    "2024-03-06T12:00",
    "--every",
    "12h",
    "--horizon",
    "48",
    "--quantiles",
    "0.05:0.95:0.05",
]


def _run(*args: str) -> object:
    return CliRunner().invoke(app, ["forecast", *args])


def _flat(result: object) -> str:
    """The output on one line (rich wraps it at the terminal's width)."""
    return " ".join(result.output.split())


def test_backtest_contract(series_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "PRED.csv"
    result = _run("backtest", "--data", str(series_csv), *ARGS, "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "Ratio pinball" in _flat(result) and "Couverture 90" in _flat(result)
    pred = pd.read_csv(out, dtype={"origin": str, "timestamp": str})
    assert list(pred.columns) == ["origin", "timestamp", "quantile", "value"]
    assert pred["origin"].nunique() == 6  # 4 Mar 00:00 … 6 Mar 12:00 every 12 h
    assert len(pred) == 6 * 48 * 19
    first = pred[pred["origin"] == "2024-03-04T00:00:00"]
    leads = sorted(first["timestamp"].unique())
    assert leads[0] == "2024-03-04T00:00:00" and leads[-1] == "2024-03-05T23:00:00"
    assert len(leads) == 48
    wide = first.pivot(index="timestamp", columns="quantile", values="value").to_numpy()
    assert np.all(np.diff(wide, axis=1) >= 0)
    metrics = json.loads((tmp_path / "PRED.metrics.json").read_text(encoding="utf-8"))
    assert metrics["origins"] == 6 and metrics["points"] == 6 * 48
    assert set(metrics["model"]) >= {"pinball", "coverage_50", "coverage_90", "seconds"}
    assert metrics["ratio"] == pytest.approx(
        metrics["model"]["pinball"] / metrics["benchmark"]["pinball"], abs=1e-4
    )
    assert metrics["seconds"] > 0


def test_backtest_no_leakage_through_the_file(series_csv: Path, tmp_path: Path) -> None:
    """Rows stamped at or after the last origin, rewritten: its forecasts do not move."""
    raw = pd.read_csv(series_csv)
    last = "2024-03-06T12:00:00"
    changed = raw.assign(arrivees=np.where(raw["horodatage"] >= last, 99, raw["arrivees"]))
    other = tmp_path / "autre.csv"
    changed.to_csv(other, index=False)
    preds = []
    for i, data in enumerate((series_csv, other)):
        out = tmp_path / f"P{i}.csv"
        result = _run("backtest", "--data", str(data), *ARGS, "--output", str(out))
        assert result.exit_code == 0, result.output
        p = pd.read_csv(out, dtype={"origin": str})
        preds.append(p[p["origin"] == last]["value"].to_numpy())
    np.testing.assert_array_equal(preds[0], preds[1])


def test_date_and_hour_columns(tmp_path: Path) -> None:
    df = weekly_counts(6)
    path = tmp_path / "uihc_like.csv"
    pd.DataFrame(
        {
            "Date": df["ds"].dt.strftime("%Y-%m-%d"),
            "Hour": df["ds"].dt.hour,
            "Arrivals": df["y"],
            "temp": 10 + df["ds"].dt.hour / 2,
        }
    ).to_csv(path, index=False)
    out = tmp_path / "PRED.csv"
    result = _run(
        "backtest",
        "--data",
        str(path),
        "--ds",
        "Date,Hour",
        "--y",
        "Arrivals",
        "--exog",
        "temp",
        "--origins-start",
        "2024-02-05T00:00",
        "--origins-end",
        "2024-02-05T12:00",
        "--horizon",
        "24",
        "--quantiles",
        "0.1,0.5,0.9",
        "--model",
        "poisson",
        "--output",
        str(out),
    )
    assert result.exit_code == 0, result.output
    pred = pd.read_csv(out, dtype={"timestamp": str})
    assert len(pred) == 2 * 24 * 3
    assert pred["timestamp"].iloc[-1] == "2024-02-06T11:00:00"


def test_predict_from_the_end(series_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "F.csv"
    result = _run(
        "predict",
        "--data",
        str(series_csv),
        "--ds",
        "horodatage",
        "--y",
        "arrivees",
        "--horizon",
        "24",
        "--output",
        str(out),
    )
    assert result.exit_code == 0, result.output
    pred = pd.read_csv(out, dtype={"origin": str, "timestamp": str})
    assert len(pred) == 24 * 19
    assert pred["origin"].unique().tolist() == ["2024-03-25T00:00:00"]


def _bad(tmp_path: Path, text: str, *extra: str) -> object:
    path = tmp_path / "mauvais.csv"
    path.write_text(text, encoding="utf-8")
    return _run("backtest", "--data", str(path), *ARGS, *extra, "--output", str(tmp_path / "P"))


def _lines(n: int, start: str = "2024-01-01", skip: int | None = None) -> list[str]:
    ds = pd.date_range(start, periods=n, freq="h")
    return [f"{t:%Y-%m-%dT%H:%M:%S},{i % 11}" for i, t in enumerate(ds) if i != skip]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("date,arrivees\n2024-01-01,3\n", "colonne(s) absente(s) : horodatage"),
        ("horodatage,arrivees\n2024-01-01T00:00,trois\n", "non numérique"),
        ("horodatage,arrivees\nhier,3\n", "horodatage illisible"),
    ],
)
def test_bad_files(tmp_path: Path, body: str, expected: str) -> None:
    result = _bad(tmp_path, body)
    assert result.exit_code == 2
    assert expected in _flat(result) and "mauvais.csv" in _flat(result)


def test_duplicate_stamp_is_an_error(tmp_path: Path) -> None:
    lines = _lines(24 * 70)
    lines.insert(10, lines[10])
    result = _bad(tmp_path, "horodatage,arrivees\n" + "\n".join(lines) + "\n")
    assert result.exit_code == 2 and "horodatage en double" in _flat(result)


def test_off_grid_stamp_is_an_error(tmp_path: Path) -> None:
    lines = _lines(24 * 70)
    lines[20] = "2024-01-01T20:30:00,4"
    result = _bad(tmp_path, "horodatage,arrivees\n" + "\n".join(lines) + "\n")
    assert result.exit_code == 2 and "hors du pas" in _flat(result)


def test_gaps_are_kept_missing(tmp_path: Path) -> None:
    lines = _lines(24 * 70, skip=300)
    result = _bad(tmp_path, "horodatage,arrivees\n" + "\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    assert "1 pas manquants" in _flat(result)


def test_bad_quantiles_and_origins(series_csv: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "P.csv")
    args = [a if a != "0.05:0.95:0.05" else "0.05:1.2:0.05" for a in ARGS]
    result = _run("backtest", "--data", str(series_csv), *args, "--output", out)
    assert result.exit_code == 2 and "quantiles" in _flat(result)
    args = [a if a != "2024-03-04T00:00" else "2023-01-01T00:00" for a in ARGS]
    result = _run("backtest", "--data", str(series_csv), *args, "--output", out)
    assert result.exit_code == 2 and "sans historique" in _flat(result)

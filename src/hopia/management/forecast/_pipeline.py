"""File to forecasts: the backtest and the forecast behind ``hopia forecast``.

``run_backtest`` reads a CSV series, forecasts at every origin with the chosen model and with
the hour-of-week benchmark, writes ``PRED.csv`` (``origin,timestamp,quantile,value``) and
``PRED.metrics.json`` next to it, and returns the scores. Stamps are written as the file
writes them (ISO 8601, the file's clock: no time-zone conversion).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hopia.management.forecast._backtest import BacktestResult, backtest, origin_grid
from hopia.management.forecast._base import SeriesFrame, check_quantiles
from hopia.management.forecast._benchmarks import SeasonalEmpiricalForecaster
from hopia.management.forecast._data import read_series_csv, regular_frame
from hopia.management.forecast._metrics import scores
from hopia.management.forecast._registry import BENCHMARK_MODEL, make_forecaster
from hopia.platform.exceptions import InvalidRequestError, SourceError

#: hour-of-week windows whose ratios the metrics file also reports, for context
SWEEP_WEEKS = (4, 8, 13, 26, 52)


def parse_quantiles(text: str) -> np.ndarray:
    """``0.05:0.95:0.05`` (start:stop:step, stop included) or ``0.1,0.5,0.9``."""
    try:
        if ":" in text:
            start, stop, step = (float(p) for p in text.split(":"))
            if step <= 0:
                raise ValueError
            n = int(np.floor((stop - start) / step + 1e-9)) + 1
            values = [round(start + k * step, 6) for k in range(n)]
        else:
            values = [float(p) for p in text.split(",") if p.strip()]
    except ValueError as exc:
        raise InvalidRequestError(
            f"quantiles illisibles : « {text} » (début:fin:pas ou liste à virgules)",
            fields=["quantiles"],
        ) from exc
    return check_quantiles(values)


def parse_duration(text: str, field_name: str = "every") -> pd.Timedelta:
    """``12h``, ``1D``, ``30min`` as a duration."""
    try:
        value = pd.Timedelta(text.strip())
    except ValueError as exc:
        raise InvalidRequestError(f"durée illisible : « {text} »", fields=[field_name]) from exc
    if value <= pd.Timedelta(0):
        raise InvalidRequestError(f"durée non positive : « {text} »", fields=[field_name])
    return value


def step_label(step: pd.Timedelta) -> str:
    """``1h``, ``1D``, ``7D``, ``30min``: the step as ``--freq`` takes it."""
    seconds = int(step.total_seconds())
    for unit, size in (("D", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def iso(stamps: np.ndarray | pd.DatetimeIndex) -> np.ndarray:
    """ISO 8601 text of each stamp, as the clock of the file (offset kept if it had one)."""
    idx = pd.DatetimeIndex(stamps)
    uniq, inverse = np.unique(idx.asi8, return_inverse=True)
    u = (
        pd.DatetimeIndex(uniq.view("datetime64[ns]")).tz_localize(idx.tz)
        if idx.tz
        else (pd.DatetimeIndex(uniq.view("datetime64[ns]")))
    )
    text = np.array([t.isoformat() for t in u], dtype=object)
    return text[inverse.reshape(-1)]


@dataclass
class ModelScore:
    """One model's scores on the backtest's origins."""

    model: str
    pinball: float
    coverage_50: float | None
    coverage_90: float | None
    seconds: float
    fits: int


@dataclass
class BacktestReport:
    """What ``hopia forecast backtest`` prints and writes."""

    data: str
    output: str
    metrics_file: str
    step: str
    rows: int
    missing_steps: int
    origins: int
    first_origin: str
    last_origin: str
    horizon: int
    quantiles: list[float]
    points: int
    model: ModelScore
    benchmark: ModelScore
    benchmark_weeks: int
    ratio: float
    seconds: float
    refit_every: str | None
    sweep: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_frame(
    path: str | Path, ds: str, y: str, exog: Sequence[str] = (), freq: str | None = None
) -> tuple[SeriesFrame, int]:
    """The file's series on its regular grid and its number of missing steps."""
    df, _ = read_series_csv(path, ds, y, exog)
    x = df[list(exog)].to_numpy(dtype=float) if exog else None
    if x is not None and np.isnan(x).all(axis=0).any():
        raise SourceError(path, "colonne exogène vide")
    return regular_frame(
        Path(path).stem, df["ds"], df["y"].to_numpy(), x, exog, freq=freq, where=str(path)
    )


def _timed_backtest(
    name: str,
    model: Any,
    frame: SeriesFrame,
    origins: pd.DatetimeIndex,
    h: int,
    q: np.ndarray,
    refit: pd.Timedelta | None,
) -> tuple[BacktestResult, ModelScore]:
    t0 = time.perf_counter()
    result = backtest(model, frame, origins, h, q, refit_every=refit)
    seconds = time.perf_counter() - t0
    s = scores(result.actual, result.values, q)
    return result, ModelScore(
        name, s["pinball"], s["coverage_50"], s["coverage_90"], round(seconds, 3), result.fits
    )


def write_predictions(result: BacktestResult, output: Path) -> None:
    """``origin,timestamp,quantile,value`` (values rounded to 4 decimals)."""
    n, h, nq = result.values.shape
    frame = pd.DataFrame(
        {
            "origin": np.repeat(iso(result.origins), h * nq),
            "timestamp": np.repeat(iso(result.targets.reshape(-1)), nq),
            "quantile": np.tile(np.round(result.quantiles, 6), n * h),
            "value": np.round(result.values.reshape(-1), 4),
        }
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(output, index=False)


def metrics_path(output: Path) -> Path:
    """``PRED.csv`` -> ``PRED.metrics.json`` (same folder)."""
    return output.with_name(re.sub(r"\.csv$", "", output.name, flags=re.I) + ".metrics.json")


def run_backtest(
    data: str | Path,
    *,
    ds: str,
    y: str,
    origins_start: str,
    origins_end: str,
    every: str,
    horizon: int,
    quantiles: str,
    output: str | Path,
    model: str = "negbin",
    exog: Sequence[str] = (),
    params: dict[str, Any] | None = None,
    benchmark_weeks: int = 8,
    refit_every: str | None = "7D",
    freq: str | None = None,
) -> BacktestReport:
    """The rolling-origin backtest of ``model`` on a CSV file (module docstring)."""
    t0 = time.perf_counter()
    q = parse_quantiles(quantiles)
    step_every = parse_duration(every)
    refit = parse_duration(refit_every, "refit_every") if refit_every else None
    if horizon < 1:
        raise InvalidRequestError("l'horizon doit être d'au moins un pas", fields=["horizon"])
    params = dict(params or {})
    if exog:
        params["exog"] = tuple(exog)
    forecaster = make_forecaster(model, **params)
    frame, missing = load_frame(data, ds, y, tuple(getattr(forecaster, "exog", ())), freq)
    try:
        start, end = pd.Timestamp(origins_start), pd.Timestamp(origins_end)
    except ValueError as exc:
        raise InvalidRequestError(f"origine illisible ({exc})", fields=["origins_start"]) from exc
    if frame.ds.tz is not None:
        start = start.tz_localize(frame.ds.tz) if start.tz is None else start
        end = end.tz_localize(frame.ds.tz) if end.tz is None else end
    origins = origin_grid(frame, start, end, step_every)
    result, score = _timed_backtest(model, forecaster, frame, origins, horizon, q, refit)
    bench_result, bench = _timed_backtest(
        BENCHMARK_MODEL,
        SeasonalEmpiricalForecaster(weeks=benchmark_weeks),
        frame,
        origins,
        horizon,
        q,
        None,
    )
    sweep = {}
    for weeks in SWEEP_WEEKS:
        r = backtest(SeasonalEmpiricalForecaster(weeks=weeks), frame, origins, horizon, q, None)
        ref = scores(r.actual, r.values, q)["pinball"]
        sweep[str(weeks)] = round(score.pinball / ref, 4) if ref > 0 else float("nan")
    out = Path(output)
    write_predictions(result, out)
    report = BacktestReport(
        data=str(data),
        output=str(out),
        metrics_file=str(metrics_path(out)),
        step=step_label(frame.step),
        rows=int(np.isfinite(frame.y).sum()),
        missing_steps=missing,
        origins=len(origins),
        first_origin=iso(origins[:1])[0],
        last_origin=iso(origins[-1:])[0],
        horizon=horizon,
        quantiles=[float(v) for v in q],
        points=int(np.isfinite(result.actual).sum()),
        model=score,
        benchmark=bench,
        benchmark_weeks=benchmark_weeks,
        ratio=round(score.pinball / bench.pinball, 4) if bench.pinball > 0 else float("nan"),
        seconds=0.0,
        refit_every=step_label(refit) if refit is not None else None,
        sweep=sweep,
        params={k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()},
    )
    report.seconds = round(time.perf_counter() - t0, 3)
    metrics_path(out).write_text(
        json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str) + "\n",
        encoding="utf-8",
    )
    return report


def score_predictions(
    predictions: str | Path, data: str | Path, *, ds: str, y: str
) -> dict[str, object]:
    """Scores of a ``origin,timestamp,quantile,value`` file (Hopia's or another tool's)
    against the series of ``data``: pinball, coverage 50/90, points; quantiles are scored as
    written (crossing ones are not repaired)."""
    frame, _ = load_frame(data, ds, y)
    pred = pd.read_csv(predictions)
    missing = {"origin", "timestamp", "quantile", "value"} - set(pred.columns)
    if missing:
        raise SourceError(predictions, f"colonne(s) absente(s) : {', '.join(sorted(missing))}")
    pred["timestamp"] = pd.to_datetime(pred["timestamp"], format="mixed")
    wide = pred.pivot_table(
        index=["origin", "timestamp"], columns="quantile", values="value", aggfunc="first"
    )
    q = np.array(wide.columns, dtype=float)
    stamps = pd.DatetimeIndex(wide.index.get_level_values("timestamp")).as_unit("ns")
    pos = (stamps.asi8 - frame.ds.asi8[0]) // frame.step.value
    actual = np.full(len(pos), np.nan)
    ok = (pos >= 0) & (pos < len(frame.y))
    actual[ok] = frame.y[pos[ok]]
    return {
        **scores(actual, wide.to_numpy(dtype=float), q),
        "origins": int(wide.index.get_level_values("origin").nunique()),
    }


@dataclass
class PredictReport:
    """What ``hopia forecast predict`` writes."""

    output: str
    origin: str
    horizon: int
    step: str
    rows: int
    seconds: float


def run_predict(
    data: str | Path,
    *,
    ds: str,
    y: str,
    horizon: int,
    quantiles: str,
    output: str | Path,
    model: str = "negbin",
    exog: Sequence[str] = (),
    params: dict[str, Any] | None = None,
    freq: str | None = None,
) -> PredictReport:
    """Forecast the ``horizon`` steps after the last value of ``y``. With exogenous columns,
    their future values are read from the file's rows after that last value (``y`` empty)."""
    t0 = time.perf_counter()
    q = parse_quantiles(quantiles)
    if horizon < 1:
        raise InvalidRequestError("l'horizon doit être d'au moins un pas", fields=["horizon"])
    params = dict(params or {})
    if exog:
        params["exog"] = tuple(exog)
    forecaster = make_forecaster(model, **params)
    frame, _ = load_frame(data, ds, y, tuple(getattr(forecaster, "exog", ())), freq)
    end = int(np.flatnonzero(np.isfinite(frame.y))[-1]) + 1
    work = frame
    if end + horizon > len(frame.y):
        need = end + horizon - len(frame.y)
        if frame.exog is not None:
            raise SourceError(
                data,
                f"valeurs futures des variables exogènes manquantes : {need} pas après la "
                f"dernière ligne (lignes à « {y} » vide attendues jusqu'à l'horizon)",
            )
        work = frame.extended(need, None)
    state = forecaster._fit_series(work, end)
    values = forecaster.forecast_array(state, work, end, horizon, q)
    origin = work.ds[end]
    result = BacktestResult(
        pd.DatetimeIndex([origin]),
        q,
        values[None],
        np.full((1, horizon), np.nan),
        work.ds.to_numpy()[end : end + horizon][None],
        1,
    )
    out = Path(output)
    write_predictions(result, out)
    return PredictReport(
        str(out),
        iso(result.origins)[0],
        horizon,
        step_label(frame.step),
        len(values) * len(q),
        round(time.perf_counter() - t0, 3),
    )

"""Forecast benchmark (issue 15, items 3 and 9): the benchmarks (seasonal naive, hour-of-week),
Hopia's models and a statsforecast anchor on the same rolling origins, scored by Hopia.

    OMP_NUM_THREADS=1 .venv/bin/python bench/forecast.py [--repeat 3] [--no-statsforecast]

Defaults: the UIHC emergency arrivals (``../shared/data/timeseries``), origins every 12 h over
the data's last year (2017-04-01 → 2018-03-31 12:00: the test year; the hyper-parameters were
chosen on 2016-04 → 2017-03, ``--origins-start 2016-04-01T00:00 --origins-end
2017-03-31T12:00``), horizon 48, quantiles 0.05 … 0.95. Each Hopia model is timed ``--repeat``
times (median and range); the whole ``hopia forecast backtest`` (model, benchmark, the
benchmark sweep and the writing of PRED.csv) is timed too.

statsforecast 2.1.1 declares ``pandas<3`` and needs statsmodels, neither of which Hopia's venv
can take; the anchor runs in a throw-away venv created here under
``~/.cache/hopia/bench-statsforecast`` (``pip install statsforecast==2.1.1 "pandas<3"``, the one
step that needs the network), fits MSTL (seasons 24 and 168, AutoETS trend, its own normal
intervals) on the last ``--sf-weeks`` weeks before each origin, and writes a PRED.csv that
Hopia's scorer (``score_predictions``) scores like the others.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "timeseries" / "uihc_ed_arrivals_hourly_2013_2018.csv"
SF_VENV = Path.home() / ".cache" / "hopia" / "bench-statsforecast"

_SF_CHILD = r"""
import sys, time
import numpy as np, pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import MSTL, AutoETS
series, origins_file, out = sys.argv[1:4]
h, weeks = int(sys.argv[4]), int(sys.argv[5])
q = [float(v) for v in sys.argv[6].split(",")]
df = pd.read_csv(series, parse_dates=["ds"])
df["unique_id"] = "s"
origins = pd.to_datetime(pd.read_csv(origins_file)["origin"])
levels = sorted({int(round(abs(1 - 2 * t) * 100)) for t in q if abs(t - 0.5) > 1e-9})
model = MSTL(season_length=[24, 168], trend_forecaster=AutoETS(model="ZZN"))
sf = StatsForecast(models=[model], freq="h", n_jobs=1)
rows = []
t0 = time.perf_counter()
for origin in origins:
    hist = df[(df["ds"] < origin) & (df["ds"] >= origin - pd.Timedelta(weeks=weeks))]
    hist = hist.dropna(subset=["y"])
    fc = sf.forecast(df=hist[["unique_id", "ds", "y"]], h=h, level=levels)
    for t in q:
        if abs(t - 0.5) < 1e-9:
            col = "MSTL"
        else:
            lv = int(round(abs(1 - 2 * t) * 100))
            col = f"MSTL-lo-{lv}" if t < 0.5 else f"MSTL-hi-{lv}"
        rows.append(pd.DataFrame({"origin": origin, "timestamp": fc["ds"].to_numpy(),
                                  "quantile": t, "value": fc[col].to_numpy()}))
seconds = time.perf_counter() - t0
pred = pd.concat(rows, ignore_index=True)
pred["origin"] = pd.to_datetime(pred["origin"]).dt.strftime("%Y-%m-%dT%H:%M:%S")
pred["timestamp"] = pd.to_datetime(pred["timestamp"]).dt.strftime("%Y-%m-%dT%H:%M:%S")
pred.to_csv(out, index=False)
print(seconds)
"""


def _venv() -> Path:
    python = SF_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(SF_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "statsforecast==2.1.1", "pandas<3"],
            check=True,
        )
    return python


def _summary(times: list[float]) -> str:
    return f"{statistics.median(times):.1f} s ({min(times):.1f}–{max(times):.1f}, n={len(times)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--ds", default="Date,Hour")
    parser.add_argument("--y", default="Arrivals")
    parser.add_argument("--origins-start", default="2017-04-01T00:00")
    parser.add_argument("--origins-end", default="2018-03-31T12:00")
    parser.add_argument("--every", default="12h")
    parser.add_argument("--horizon", type=int, default=48)
    parser.add_argument("--quantiles", default="0.05:0.95:0.05")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--models", default="negbin,poisson,ensemble")
    parser.add_argument("--benchmark-weeks", default="8,52")
    parser.add_argument("--statsforecast", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--sf-weeks", type=int, default=12)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    import numpy as np
    import pandas as pd

    from hopia.management.forecast import (
        SeasonalEmpiricalForecaster,
        SeasonalNaiveForecaster,
        backtest,
        make_forecaster,
        origin_grid,
        parse_quantiles,
        run_backtest,
        score_predictions,
        scores,
    )
    from hopia.management.forecast._pipeline import load_frame

    q = parse_quantiles(args.quantiles)
    frame, _ = load_frame(args.data, args.ds, args.y)
    origins = origin_grid(
        frame,
        pd.Timestamp(args.origins_start),
        pd.Timestamp(args.origins_end),
        pd.Timedelta(args.every),
    )
    print(f"load {os.getloadavg()[0]:.2f}; {len(origins)} origins; horizon {args.horizon}")
    candidates: list[tuple[str, object, pd.Timedelta | None]] = [
        ("seasonal_naive", SeasonalNaiveForecaster(), None)
    ]
    for weeks in args.benchmark_weeks.split(","):
        w = int(weeks)
        candidates.append((f"hour_of_week_{w}w", SeasonalEmpiricalForecaster(weeks=w), None))
    for name in args.models.split(","):
        candidates.append((name, make_forecaster(name), pd.Timedelta(days=7)))
    results: dict[str, dict] = {}
    for name, model, refit in candidates:
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            r = backtest(model, frame, origins, args.horizon, q, refit_every=refit)
            times.append(time.perf_counter() - t0)
        results[name] = {**scores(r.actual, r.values, q), "seconds": times}
    with tempfile.TemporaryDirectory() as tmp:
        whole = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            run_backtest(
                args.data,
                ds=args.ds,
                y=args.y,
                origins_start=args.origins_start,
                origins_end=args.origins_end,
                every=args.every,
                horizon=args.horizon,
                quantiles=args.quantiles,
                output=Path(tmp) / "PRED.csv",
            )
            whole.append(time.perf_counter() - t0)
        if args.statsforecast:
            python = _venv()
            series = Path(tmp) / "series.csv"
            pd.DataFrame({"ds": frame.ds, "y": frame.y}).to_csv(series, index=False)
            ofile = Path(tmp) / "origins.csv"
            pd.DataFrame({"origin": origins}).to_csv(ofile, index=False)
            pred = Path(tmp) / "PRED-statsforecast.csv"
            t0 = time.perf_counter()
            done = subprocess.run(
                [
                    str(python),
                    "-c",
                    _SF_CHILD,
                    str(series),
                    str(ofile),
                    str(pred),
                    str(args.horizon),
                    str(args.sf_weeks),
                    ",".join(str(v) for v in q),
                ],
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "OMP_NUM_THREADS": "1"},
            )
            wall = time.perf_counter() - t0
            s = score_predictions(pred, args.data, ds=args.ds, y=args.y)
            fit_s = float(done.stdout.strip().splitlines()[-1])
            results["statsforecast_mstl"] = {**s, "seconds": [fit_s], "wall": wall}
    ref = results.get("hour_of_week_8w", next(iter(results.values())))["pinball"]
    ref52 = results.get("hour_of_week_52w", {}).get("pinball", float("nan"))
    print(f"{'model':<22}{'pinball':>9}{'/how8':>8}{'/how52':>8}{'cov50':>8}{'cov90':>8}  time")
    for name, r in results.items():
        print(
            f"{name:<22}{r['pinball']:>9.4f}{r['pinball'] / ref:>8.3f}"
            f"{r['pinball'] / ref52:>8.3f}{r['coverage_50'] or np.nan:>8.3f}"
            f"{r['coverage_90'] or np.nan:>8.3f}  {_summary(r['seconds'])}"
        )
    print(f"whole `hopia forecast backtest` (negbin): {_summary(whole)}")
    print(f"load {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "whole": whole}, indent=2))


if __name__ == "__main__":
    main()

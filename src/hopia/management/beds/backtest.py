"""Backtest of the bed forecasts, the way forecasts are judged: rolling origins, only the data
strictly before each origin, the true midnight census afterwards.

Origins every ``step`` days over the last ``span`` days of the data (the last one leaves a full
horizon before the end). Scores per service and overall, averaged over origins and horizon days:

- pinball (quantile) loss at 0.5, 0.8, 0.95, and their mean (lower is better);
- coverage of P80 and P95: the share of days whose true census is at most the forecast;
- the same for a naive benchmark: the census of the same weekday in the last observed week
  (``y[d - 7k]``, ``k = ceil((d - t + 1) / 7)``) plus the empirical quantiles of that same-lag
  change (``y[s] - y[s - 7k]``) over the 365 days before the origin — the seasonal naive
  forecast with empirical errors; its quantiles never cross either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .admissions import AdmissionsModel, NegativeBinomialAdmissions
from .census import daily_census
from .forecast import LEVELS, forecast


def pinball(y: np.ndarray, q: np.ndarray, level: float) -> np.ndarray:
    diff = y - q
    return np.maximum(level * diff, (level - 1) * diff)


@dataclass
class Backtest:
    origins: list[pd.Timestamp]
    rows: pd.DataFrame  # one row per (origin, site, day, method): y and the quantiles
    scores: pd.DataFrame  # per method and site (and "Total"): pinball per level, coverage


def naive(census: pd.Series, origin: pd.Timestamp, horizon: int, levels: Sequence[float]) -> dict:
    """Seasonal naive quantiles for the ``horizon`` days from ``origin`` (see module doc)."""
    past = census[census.index < origin]
    out = {q: np.zeros(horizon) for q in levels}
    if past.empty:  # nothing observed before the origin: an empty ward
        return out
    for h in range(horizon):
        k = h // 7 + 1
        base = past.iloc[-7 * k + (h % 7)] if len(past) >= 7 * k else past.iloc[-1]
        window = past.iloc[-365:]
        change = (window - window.shift(7 * k)).dropna().to_numpy()
        if len(change) == 0:
            change = np.zeros(1)
        for q in levels:
            out[q][h] = max(0.0, base + np.quantile(change, q, method="inverted_cdf"))
    return out


def backtest(
    stays: pd.DataFrame,
    end: pd.Timestamp,
    horizon: int = 14,
    step: int = 7,
    span: int = 365,
    paths: int = 500,
    seed: int = 0,
    sites: Sequence[int] | None = None,
    levels: Sequence[float] = LEVELS,
    admissions_model: Callable[[], AdmissionsModel] = NegativeBinomialAdmissions,
) -> Backtest:
    """Rolling-origin backtest up to ``end`` (the last day of the data)."""
    end = pd.Timestamp(end).normalize()
    last_origin = end - pd.Timedelta(days=horizon - 1)
    origins = list(pd.date_range(last_origin - pd.Timedelta(days=span - 1), last_origin))[::-1][
        ::step
    ][::-1]
    first = stays["start"].min().normalize()
    truth = daily_census(stays, first, end)
    chosen = sorted(stays["site"].unique()) if sites is None else list(sites)
    records = []
    for i, origin in enumerate(origins):
        fc = forecast(
            stays,
            origin,
            horizon,
            paths,
            seed + i,
            chosen,
            admissions_model,
        )
        days = pd.date_range(origin, periods=horizon, freq="D")
        for f in fc:
            y = truth.loc[days, f.site].to_numpy(float)
            nv = naive(truth[f.site], origin, horizon, levels)
            for method, qs in (("monte-carlo", f.quantiles), ("naïf", nv)):
                for h, day in enumerate(days):
                    records.append(
                        {
                            "origin": origin,
                            "site": f.site,
                            "day": day,
                            "h": h + 1,
                            "method": method,
                            "y": y[h],
                            **{q: float(qs[q][h]) for q in levels},
                        }
                    )
    rows = pd.DataFrame.from_records(records)
    return Backtest(origins, rows, score(rows, levels))


def score(rows: pd.DataFrame, levels: Sequence[float]) -> pd.DataFrame:
    """Mean pinball loss per level and coverage per method and site, then over all sites."""
    both = pd.concat([rows.astype({"site": object}), rows.assign(site="Total")])
    out = []
    for (method, site), g in both.groupby(["method", "site"], sort=False):
        y = g["y"].to_numpy()
        rec: dict[str, object] = {"method": method, "site": site}
        losses = []
        for q in levels:
            loss = float(pinball(y, g[q].to_numpy(), q).mean())
            rec[f"pinball P{round(q * 100)}"] = loss
            losses.append(loss)
        rec["pinball moyen"] = float(np.mean(losses))
        for q in levels:
            if q >= 0.8:
                rec[f"couverture P{round(q * 100)}"] = float((y <= g[q].to_numpy()).mean())
        rec["jours"] = len(g)
        out.append(rec)
    return pd.DataFrame.from_records(out)

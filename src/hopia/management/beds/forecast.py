"""Bed needs of the next days by Monte Carlo, per service.

At the forecast origin ``t`` (the first forecast day) only what happened before ``t`` is known:
the stays admitted up to ``t - 1``, and which of them were discharged before ``t``. Each path
of the simulation:

1. keeps every patient present at the origin (admitted before ``t``, not discharged before it)
   in bed for a length of stay drawn from the service's empirical distribution conditional on
   the nights already spent (:class:`.los.EmpiricalLos`);
2. admits, on each forecast day, a count drawn from the daily admissions model fitted on the
   history before ``t`` (:mod:`.admissions`), each new patient with an unconditional length of
   stay;
3. counts the midnight census of each forecast day (``start <= d < end``).

The P50/P80/P95 bed needs of a day are the empirical quantiles of its census over the paths
(``inverted_cdf``: values that occur in the sample, so whole beds), which never cross.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .admissions import AdmissionsModel, NegativeBinomialAdmissions
from .census import daily_admissions
from .los import EmpiricalLos

LEVELS: tuple[float, ...] = (0.5, 0.8, 0.95)
HISTORY_DAYS = 730  # admissions and lengths of stay fitted on the last two years before t


@dataclass
class ServiceForecast:
    site: int
    days: pd.DatetimeIndex
    present: int  # patients in bed at the origin (the census of t - 1)
    samples: np.ndarray  # (paths, days) census
    quantiles: dict[float, np.ndarray]


def _known(stays: pd.DataFrame, origin: pd.Timestamp) -> pd.DataFrame:
    """What is known at ``origin``: stays admitted before it, discharge dates only when the
    discharge happened before it (``end`` unknown otherwise)."""
    known = stays[stays["start"] < origin].copy()
    known.loc[known["end"] >= origin, "end"] = pd.NaT
    return known


def simulate_service(
    site: int,
    known: pd.DataFrame,
    origin: pd.Timestamp,
    horizon: int,
    paths: int,
    rng: np.random.Generator,
    model: AdmissionsModel,
    levels: Sequence[float] = LEVELS,
) -> ServiceForecast:
    """One service's forecast from its ``known`` stays (see :func:`_known`)."""
    days = pd.date_range(origin, periods=horizon, freq="D")
    since = origin - pd.Timedelta(days=HISTORY_DAYS)
    done = known[known["end"].notna() & (known["end"] >= since)]
    los = EmpiricalLos.of((done["end"] - done["start"]).dt.days.to_numpy())
    first = max(since, known["start"].min()) if len(known) else since
    history = daily_admissions(known, first, origin - pd.Timedelta(days=1))
    y = history[site] if site in history else pd.Series(0, index=history.index)
    model.fit(y)
    census = np.zeros((paths, horizon), dtype=np.int64)
    # 1. patients in bed at the origin
    present = known[known["end"].isna()]
    if len(present):
        elapsed = (origin - present["start"]).dt.days.to_numpy()
        every = np.tile(elapsed, paths)
        leave = los.draw_total(every, rng) - every  # nights left: in bed on day k < leave
        leave = np.clip(leave, 0, horizon).reshape(paths, len(elapsed))
        census += (np.arange(horizon)[None, None, :] < leave[:, :, None]).sum(axis=1)
    # 2. new admissions
    counts = model.sample(days, paths, rng)
    n = int(counts.sum())
    if n:
        path = np.repeat(np.repeat(np.arange(paths), horizon), counts.ravel())
        day = np.repeat(np.tile(np.arange(horizon), paths), counts.ravel())
        stay = los.draw(n, rng)
        end = np.minimum(day + stay, horizon)
        delta = np.zeros((paths, horizon + 1), dtype=np.int64)
        keep = end > day
        np.add.at(delta, (path[keep], day[keep]), 1)
        np.add.at(delta, (path[keep], end[keep]), -1)
        census += np.cumsum(delta, axis=1)[:, :horizon]
    quantiles = {q: np.quantile(census, q, axis=0, method="inverted_cdf") for q in levels}
    return ServiceForecast(site, days, len(present), census, quantiles)


def forecast(
    stays: pd.DataFrame,
    origin: pd.Timestamp,
    horizon: int = 14,
    paths: int = 1000,
    seed: int = 0,
    sites: Sequence[int] | None = None,
    admissions_model: Callable[[], AdmissionsModel] = NegativeBinomialAdmissions,
) -> list[ServiceForecast]:
    """The forecast of every site (or ``sites``) from the stays (``site, start, end``)."""
    origin = pd.Timestamp(origin).normalize()
    known = _known(stays, origin)
    rng = np.random.default_rng(seed)
    chosen = sorted(known["site"].unique()) if sites is None else list(sites)
    out = []
    for site in chosen:
        mine = known[known["site"] == site]
        out.append(
            simulate_service(int(site), mine, origin, horizon, paths, rng, admissions_model())
        )
    return out


def table(forecasts: Sequence[ServiceForecast], names: dict[int, str]) -> pd.DataFrame:
    """The tidy table: ``service, jour, P50, P80, P95`` (``site`` id kept)."""
    rows = []
    for f in forecasts:
        for i, day in enumerate(f.days):
            rows.append(
                {
                    "care_site_id": f.site,
                    "service": names.get(f.site, str(f.site)),
                    "jour": day.date().isoformat(),
                    **{f"P{round(q * 100)}": int(f.quantiles[q][i]) for q in sorted(f.quantiles)},
                }
            )
    return pd.DataFrame.from_records(rows)

"""Midnight census and daily admissions per service, from stays (tidy frames).

A stay is in its bed on the night of day ``d`` (the midnight census of ``d``) when
``start <= d < end``: admitted on or before ``d`` and discharged after it. A same-day stay
(``end == start``) never counts at midnight. Dates are whole days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def daily_census(stays: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """The midnight census of each ``site`` on each day of ``[first, last]``: a frame indexed
    by day, one column per site (every site of ``stays``)."""
    days = pd.date_range(first, last, freq="D")
    sites = sorted(stays["site"].unique())
    out = pd.DataFrame(0, index=days, columns=sites, dtype="int64")
    if stays.empty:
        return out
    start = stays["start"].clip(lower=first).to_numpy("datetime64[D]")
    end = stays["end"].clip(upper=last + pd.Timedelta(days=1)).to_numpy("datetime64[D]")
    origin = np.datetime64(first.date(), "D")
    s = (start - origin).astype(int)
    e = (end - origin).astype(int)
    keep = e > s
    for site in sites:
        mask = keep & (stays["site"].to_numpy() == site)
        delta = np.zeros(len(days) + 1, dtype=np.int64)
        np.add.at(delta, s[mask], 1)
        np.add.at(delta, e[mask], -1)
        out[site] = np.cumsum(delta)[: len(days)]
    return out


def daily_admissions(stays: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """Admissions per day of ``[first, last]`` and site (days as index, sites as columns)."""
    days = pd.date_range(first, last, freq="D")
    sites = sorted(stays["site"].unique())
    inside = stays[(stays["start"] >= first) & (stays["start"] <= last)]
    counts = inside.groupby(["start", "site"]).size().unstack(fill_value=0)
    return counts.reindex(index=days, columns=sites, fill_value=0).astype("int64")

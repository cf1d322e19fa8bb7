"""Calendar features for count regressions: season one-hots, annual Fourier terms, public and
school holidays.

Public holidays come from the ``holidays`` package (offline tables, France by default); school
holidays are date ranges a hospital gives in a CSV or YAML file (``start,end`` per line, both
inclusive), since the French academic zones and their dates are not in ``holidays``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from hopia.platform.exceptions import SourceError

HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)
WEEK = pd.Timedelta(days=7)
YEAR_DAYS = 365.2425


def season_length(step: pd.Timedelta) -> int:
    """The seasonal period in steps: a week of hours (168), a week of days (7), a year of
    weeks (52); 1 for any other step."""
    if step == HOUR:
        return 168
    if step == DAY:
        return 7
    if step == WEEK:
        return 52
    return 1


def season_index(ds: pd.DatetimeIndex, step: pd.Timedelta) -> np.ndarray:
    """Position of each stamp in its season: hour of the week (Monday 00:00 = 0), day of the
    week, or week of the year (0-51)."""
    if step == HOUR:
        return (ds.dayofweek * 24 + ds.hour).to_numpy(dtype=np.int64)
    if step == DAY:
        return ds.dayofweek.to_numpy(dtype=np.int64)
    if step == WEEK:
        return np.minimum(ds.isocalendar().week.to_numpy(dtype=np.int64) - 1, 51)
    return np.zeros(len(ds), dtype=np.int64)


@dataclass(frozen=True)
class HolidayCalendar:
    """Public holidays of a country (``holidays`` package) and school-holiday periods.

    Parameters
    ----------
    country:
        ISO code for ``holidays.country_holidays`` (``"FR"``); ``None`` for none.
    subdivision:
        Optional subdivision (``"67"`` for the Bas-Rhin's extra days).
    school_periods:
        Inclusive ``(start, end)`` date ranges of school holidays.
    """

    country: str | None = "FR"
    subdivision: str | None = None
    school_periods: tuple[tuple[date, date], ...] = field(default_factory=tuple)

    def public(self, days: pd.DatetimeIndex) -> np.ndarray:
        """1.0 where the day (the stamp's calendar date) is a public holiday."""
        if not self.country or len(days) == 0:
            return np.zeros(len(days))
        import holidays

        years = range(int(days.year.min()), int(days.year.max()) + 1)
        try:
            table = holidays.country_holidays(self.country, subdiv=self.subdivision, years=years)
        except (NotImplementedError, KeyError) as exc:
            raise SourceError(
                "calendrier", f"pays ou subdivision inconnus de « holidays » : {self.country}"
            ) from exc
        stamps = np.array([np.datetime64(d, "D") for d in table], dtype="datetime64[D]")
        return np.isin(days.to_numpy().astype("datetime64[D]"), stamps).astype(float)

    def school(self, days: pd.DatetimeIndex) -> np.ndarray:
        """1.0 where the day falls in a school-holiday period."""
        out = np.zeros(len(days))
        d = days.to_numpy().astype("datetime64[D]")
        for start, end in self.school_periods:
            out[(d >= np.datetime64(start, "D")) & (d <= np.datetime64(end, "D"))] = 1.0
        return out


def read_school_periods(path: str | Path) -> tuple[tuple[date, date], ...]:
    """School-holiday periods from a CSV (columns ``start,end``) or a YAML list of
    ``{start: …, end: …}`` mappings; dates ISO 8601, both ends inclusive."""
    path = Path(path)
    try:
        if path.suffix.lower() in (".yml", ".yaml"):
            import yaml

            rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
            if isinstance(rows, dict):
                rows = rows.get("periods", rows.get("periodes", []))
        else:
            rows = pd.read_csv(path).to_dict("records")
        periods = []
        for row in rows:
            start = pd.Timestamp(str(row["start"])).date()
            end = pd.Timestamp(str(row["end"])).date()
            if end < start:
                raise ValueError(f"fin {end} avant début {start}")
            periods.append((start, end))
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise SourceError(path, f"périodes de vacances scolaires illisibles ({exc})") from exc
    return tuple(periods)


def fourier(ds: pd.DatetimeIndex, order: int, period_days: float = YEAR_DAYS) -> np.ndarray:
    """``2 * order`` columns sin/cos of the annual cycle (time in days since 1970)."""
    if order <= 0:
        return np.zeros((len(ds), 0))
    t = ds.to_numpy().astype("datetime64[s]").astype(np.int64) / 86400.0
    k = np.arange(1, order + 1)
    angle = 2 * np.pi * t[:, None] * k[None, :] / period_days
    return np.hstack([np.sin(angle), np.cos(angle)])


def design(
    ds: pd.DatetimeIndex,
    step: pd.Timedelta,
    *,
    fourier_order: int,
    calendar: HolidayCalendar,
    exog: np.ndarray | None = None,
) -> np.ndarray:
    """The regression design: season one-hots (they carry the intercept), annual Fourier terms,
    holiday flags (crossed with four 6-hour blocks for hourly series: a holiday reshapes the
    day like a Sunday) and the exogenous columns as given."""
    m = season_length(step)
    idx = season_index(ds, step)
    parts: list[np.ndarray] = []
    onehot = np.zeros((len(ds), m))
    onehot[np.arange(len(ds)), idx] = 1.0
    parts.append(onehot)
    parts.append(fourier(ds, fourier_order))
    if step <= DAY:
        days = ds.normalize()
        pub = calendar.public(days)
        if step == HOUR:
            block = ds.hour.to_numpy() // 6
            parts.append(pub[:, None] * (block[:, None] == np.arange(4)[None, :]))
        else:
            parts.append(pub[:, None])
        if calendar.school_periods:
            parts.append(calendar.school(days)[:, None])
    if exog is not None and exog.size:
        parts.append(exog)
    return np.hstack(parts)


def as_periods(values: Iterable[Sequence[str]]) -> tuple[tuple[date, date], ...]:
    """``[("2024-02-10", "2024-02-25"), …]`` as date pairs."""
    return tuple((pd.Timestamp(a).date(), pd.Timestamp(b).date()) for a, b in values)

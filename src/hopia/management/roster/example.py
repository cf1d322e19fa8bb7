"""A synthetic service for the demo and the tests: nurses with a part-time mix, some leave and
wishes, a quantile forecast of patients present and the demand it gives.

Nothing here is real: names are drawn from a list of common French surnames, the forecast is a
weekly pattern with noise. ``generate(30, 6)`` is the demo (30 nurses, 6 weeks): about 65 % full
time, 20 % at 80 %, 15 % at 50 %; one nurse in four takes a week of leave; one in two wishes
two or three days off (weights 1 to 3); patients per nurse 5 in the morning, 6 in the evening,
8 at night, on the forecast's 90 % quantile, the patients scaled so that no week asks more than
85 % of the contract hours of the nurses present that week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from hopia.management.roster.problem import Problem, make_problem, nurses_from_forecast
from hopia.management.roster.rules import DEFAULT_RULES_YAML, RosterRules

SURNAMES = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefevre", "Faure", "Andre", "Mercier", "Blanc", "Guerin", "Boyer", "Garnier",
    "Chevalier", "Francois", "Legrand", "Gauthier", "Garcia",
)  # fmt: skip
PATIENTS_PER_NURSE = {"M": 5.0, "S": 6.0, "N": 8.0}
QUANTILE = 0.9


@dataclass(frozen=True)
class Example:
    """The input files of a synthetic service, as frames and text."""

    staff: pd.DataFrame
    forecast: pd.DataFrame
    demand: pd.DataFrame
    rules_yaml: str
    start: date
    weeks: int

    def problem(self, rules: RosterRules | None = None) -> Problem:
        """The roster problem of this example (default rules unless given)."""
        return make_problem(self.staff, self.demand, rules or RosterRules(), self.start, self.weeks)


def next_monday(today: date) -> date:
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def generate(nurses: int = 30, weeks: int = 6, start: date | None = None, seed: int = 0) -> Example:
    """A synthetic service of ``nurses`` nurses over ``weeks`` weeks from ``start`` (a Monday;
    by default 2026-03-02)."""
    if nurses < 4:
        raise ValueError("au moins 4 infirmiers")
    start = start or date(2026, 3, 2)
    rng = np.random.default_rng(seed)
    days = [start + timedelta(days=i) for i in range(7 * weeks)]
    rows = []
    for i in range(nurses):
        draw = rng.random()
        ratio = 1.0 if draw < 0.65 else 0.8 if draw < 0.85 else 0.5
        leave = ""
        if rng.random() < 0.25:
            first = days[int(rng.integers(0, max(1, len(days) - 7)))]
            first -= timedelta(days=first.weekday())  # Monday to Sunday
            leave = f"{first.isoformat()}..{(first + timedelta(days=6)).isoformat()}"
        wishes = []
        if rng.random() < 0.5:
            for d in rng.choice(len(days), size=int(rng.integers(2, 4)), replace=False):
                wishes.append(f"{days[int(d)].isoformat()}*{int(rng.integers(1, 4))}")
        gender = "Mme" if rng.random() < 0.85 else "M."
        rows.append(
            {
                "nurse": f"IDE{i + 1:02d}",
                "name": f"{gender} {SURNAMES[i % len(SURNAMES)]}",
                "ratio": ratio,
                "skills": "",
                "leave": leave,
                "wishes": " ".join(wishes),
            }
        )
    staff = pd.DataFrame(rows)
    # Patients present: a weekly pattern (fewer at the weekend) with noise, scaled so that each
    # week asks at most 85 % of the contract hours of the nurses not on leave that week.
    noise = 1 + 0.04 * rng.standard_normal(len(days))
    leave_days = [_expand(r["leave"]) for r in rows]
    capacity = [
        sum(
            r["ratio"] * 5.0 * sum(1 for d in days[7 * w : 7 * w + 7] if d not in off)
            for r, off in zip(rows, leave_days, strict=True)
        )
        for w in range(weeks)
    ]
    minimum = {"N": 2 if nurses >= 10 else 1}
    base = 30.0 * nurses / 30
    for _ in range(60):
        forecast = _forecast(days, base, noise)
        demand = nurses_from_forecast(
            forecast, quantile=QUANTILE, patients_per_nurse=PATIENTS_PER_NURSE, minimum=minimum
        )
        hours = demand["required"] * demand["shift"].map({"M": 7, "S": 7, "N": 10})
        week = (pd.to_datetime(demand["date"]) - pd.Timestamp(start)).dt.days // 7
        if all(hours[week == w].sum() <= 0.85 * capacity[w] for w in range(weeks)):
            break
        base *= 0.97
    return Example(staff, forecast, demand, DEFAULT_RULES_YAML, start, weeks)


def _expand(text: str) -> set[date]:
    if not text:
        return set()
    first, last = (date.fromisoformat(t) for t in text.split(".."))
    return {first + timedelta(days=i) for i in range((last - first).days + 1)}


def _forecast(days: list[date], base: float, noise: np.ndarray) -> pd.DataFrame:
    rows = []
    for d, jitter in zip(days, noise, strict=True):
        mean = base * (0.85 if d.weekday() >= 5 else 1.0) * jitter
        for q, z in ((0.5, 0.0), (0.8, 0.84), (0.9, 1.28), (0.95, 1.64)):
            rows.append(
                {"ds": d.isoformat(), "quantile": q, "value": round(mean * (1 + 0.06 * z), 1)}
            )
    return pd.DataFrame(rows)

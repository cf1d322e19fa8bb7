"""A synthetic service for the demo and the tests: nurses with a part-time mix, some leave and
wishes, a quantile forecast of patients present and the demand it gives.

Nothing here is real: names are drawn from a list of common French surnames, the forecast is a
weekly pattern with noise. ``generate(30, 6)`` is the demo (30 nurses, 6 weeks): about 65 % full
time, 20 % at 80 %, 15 % at 50 %; one nurse in four takes a week of leave; one in two wishes
two or three days off (weights 1 to 3); patients per nurse 5 in the morning, 6 in the evening,
8 at night, on the forecast's 90 % quantile.
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
    # Patients present: a weekly pattern (fewer at the weekend) scaled to the staff, with noise.
    base = 30.0 * nurses / 30
    forecast_rows = []
    for d in days:
        mean = base * (0.85 if d.weekday() >= 5 else 1.0) * (1 + 0.04 * rng.standard_normal())
        for q, z in ((0.5, 0.0), (0.8, 0.84), (0.9, 1.28), (0.95, 1.64)):
            forecast_rows.append(
                {"ds": d.isoformat(), "quantile": q, "value": round(mean * (1 + 0.06 * z), 1)}
            )
    forecast = pd.DataFrame(forecast_rows)
    demand = nurses_from_forecast(
        forecast, quantile=QUANTILE, patients_per_nurse=PATIENTS_PER_NURSE, minimum={"N": 2}
    )
    return Example(staff, forecast, demand, DEFAULT_RULES_YAML, start, weeks)

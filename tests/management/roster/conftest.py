"""Small rosters built by hand (6 nurses, 2 weeks), and an independent reading of a roster."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

pytest.importorskip("ortools", reason="l'option « management » n'est pas installée")

from hopia.management.roster import Nurse, Problem, RosterRules  # noqa: E402

START = date(2026, 3, 2)  # a Monday
FAST = {"time_limit_s": 1.0, "workers": 2, "explain_time_s": 8.0}


def days(weeks: int = 2) -> list[date]:
    return [START + timedelta(days=i) for i in range(7 * weeks)]


def flat_demand(weeks: int = 2, **per_shift: int) -> dict[tuple[date, str], int]:
    return {(d, code): n for d in days(weeks) for code, n in per_shift.items()}


def team(n: int = 6, **overrides: Nurse) -> tuple[Nurse, ...]:
    nurses = [Nurse(f"IDE{i + 1}", f"Mme N{i + 1}") for i in range(n)]
    for key, nurse in overrides.items():
        nurses[int(key.removeprefix("n")) - 1] = nurse
    return tuple(nurses)


def problem(
    nurses: tuple[Nurse, ...] | None = None,
    demand: dict[tuple[date, str], int] | None = None,
    weeks: int = 2,
    **rules: object,
) -> Problem:
    return Problem(
        START,
        weeks,
        nurses if nurses is not None else team(),
        demand if demand is not None else flat_demand(weeks, M=1, S=1, N=1),
        RosterRules.model_validate(rules),
    )


def spans(p: Problem, assignments: dict) -> dict[str, list[tuple[datetime, datetime, str]]]:
    """Per nurse, the (start, end, code) of each shift, from the rules' clock times alone."""
    out: dict[str, list] = {n.id: [] for n in p.nurses}
    for (nurse, day), code in assignments.items():
        shift = p.rules.shifts[code]
        sh, sm = map(int, shift.start.split(":"))
        eh, em = map(int, shift.end.split(":"))
        start = datetime.combine(day, time(sh, sm))
        end = datetime.combine(day, time(eh, em))
        if end <= start:
            end += timedelta(days=1)
        out[nurse].append((start, end, code))
    return {k: sorted(v) for k, v in out.items()}

"""Impossible setups: the roster names the rules in conflict, in French, and only them."""

from __future__ import annotations

from datetime import timedelta

from hopia.management.roster import Nurse, SolveOptions, solve
from hopia.management.roster.solve import summary
from tests.management.roster.conftest import FAST, START, flat_demand, problem, team


def labels(p) -> list[str]:
    roster = solve(p, SolveOptions(**FAST))
    assert roster.status == "infeasible"
    return [c.label for c in roster.conflicts]


def test_leave_against_one_night_names_the_night_and_both_leaves() -> None:
    day = START + timedelta(days=8)  # Tuesday 10/03
    staff = (
        Nurse("A", "Mme Arnaud", leave=frozenset({day})),
        Nurse("B", "Mme Blanc", leave=frozenset({day})),
        Nurse("C", "Mme Carré"),
    )
    demand = flat_demand(M=0)
    demand[day, "N"] = 2
    found = labels(problem(staff, demand))
    assert found == [
        "congés de Mme Arnaud (1 jour, 10/03)",
        "congés de Mme Blanc (1 jour, 10/03)",
        "couverture du 10/03 nuit : 2 infirmiers demandés",
    ]


def test_one_nurse_every_day_breaks_the_consecutive_days_rule() -> None:
    found = labels(problem(team(1), flat_demand(1, M=1), weeks=1, weekends={"min_off": 0}))
    assert "au plus 5 jours travaillés consécutifs" in found
    assert all(not f.startswith("congés") for f in found)
    assert "repos quotidien de 11 h entre deux postes" not in found


def test_night_then_morning_breaks_the_daily_rest() -> None:
    demand = {(START, "N"): 1, (START + timedelta(days=1), "M"): 1}
    found = labels(problem(team(1), demand, weeks=1))
    assert found == [
        "repos quotidien de 11 h entre deux postes",
        "couverture du 02/03 nuit : 1 infirmier demandé",
        "couverture du 03/03 matin : 1 infirmier demandé",
    ]


def test_every_weekend_worked_breaks_the_weekends_off() -> None:
    demand = {
        (d, "M"): 1 for d in (START + timedelta(days=i) for i in range(14)) if d.weekday() == 5
    }
    found = labels(problem(team(1), demand, weekends={"min_off": 1, "cycle_weeks": 2}))
    assert found[0] == "au moins 1 week-end(s) libre(s) sur 2"
    assert len(found) == 3  # and the two Saturdays


def test_a_long_list_of_coverage_is_summarised() -> None:
    p = problem(team(2), flat_demand(M=2, S=2, N=1))
    roster = solve(p, SolveOptions(**FAST))
    assert roster.status == "infeasible"
    lines = summary(roster.conflicts, most=2)
    assert any(line.startswith("couverture de ") for line in lines) or len(roster.conflicts) <= 2

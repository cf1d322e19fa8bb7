"""Solved rosters read independently of the model: every rule checked on the shifts' clock
times (``conftest.spans``), not on the solver's variables."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from hopia.management.roster import Nurse, SolveOptions, solve, violations
from hopia.management.roster.report import coverage, grid, nurses, wishes
from tests.management.roster.conftest import FAST, START, days, flat_demand, problem, spans, team


@pytest.fixture(scope="module")
def busy():
    """6 nurses (two part-time, one on leave 4 days) for M, S and N every day, 2 weeks: 336 h
    asked of 351 h of contracts."""
    staff = team(
        6,
        n2=Nurse("IDE2", "Mme N2", ratio=0.5),
        n3=Nurse("IDE3", "Mme N3", ratio=0.8),
        n4=Nurse("IDE4", "Mme N4", leave=frozenset(START + timedelta(days=i) for i in range(2, 6))),
    )
    p = problem(staff, flat_demand(M=1, S=1, N=1), weekends={"min_off": 1, "cycle_weeks": 2})
    roster = solve(p, SolveOptions(**FAST))
    assert roster.solved, roster.status
    return p, roster


def test_coverage_is_met_every_day_and_shift(busy) -> None:
    p, roster = busy
    for day in days():
        worked = [c for (n, d), c in roster.assignments.items() if d == day]
        assert worked.count("M") >= 1 and worked.count("S") >= 1 and worked.count("N") >= 1
    table = coverage(roster)
    assert (table["missing"] == 0).all() and len(table) == 14 * 3


def test_daily_rest_of_11_hours_across_days(busy) -> None:
    p, roster = busy
    for shifts in spans(p, roster.assignments).values():
        for (_, end, _), (start, _, _) in zip(shifts, shifts[1:], strict=False):
            assert (start - end).total_seconds() >= 11 * 3600
    # the classic case: no morning or evening the day after a night
    for (nurse, day), code in roster.assignments.items():
        if code == "N":
            assert roster.assignments.get((nurse, day + timedelta(days=1))) in (None, "N")


def test_at_most_one_shift_a_day_and_5_consecutive_days(busy) -> None:
    p, roster = busy
    for nurse in p.nurses:
        run = longest = 0
        for day in days():
            run = run + 1 if (nurse.id, day) in roster.assignments else 0
            longest = max(longest, run)
        assert longest <= 5


def test_48_hours_in_any_7_days_and_contract_hours_by_ratio(busy) -> None:
    p, roster = busy
    for nurse in p.nurses:
        hours = {
            d: p.rules.shifts[c].hours for (n, d), c in roster.assignments.items() if n == nurse.id
        }
        for i in range(len(days()) - 6):
            assert sum(hours.get(d, 0) for d in days()[i : i + 7]) <= 48
        free_days = sum(1 for d in days() if d not in nurse.leave)
        target = 35 * nurse.ratio * free_days / 7
        assert sum(hours.values()) <= target + 7 + 1e-9
    table = nurses(roster).set_index("nurse")
    assert table.loc["IDE2", "target_hours"] == 35.0  # 50 % of 2 × 35 h
    assert table.loc["IDE3", "target_hours"] == 56.0
    assert table.loc["IDE4", "target_hours"] == 50.0  # 10 days not on leave
    assert table.loc["IDE2", "worked_hours"] < table.loc["IDE1", "worked_hours"]


def test_leave_is_respected_and_shown(busy) -> None:
    p, roster = busy
    leave = p.nurses[3].leave
    assert not [d for (n, d) in roster.assignments if n == "IDE4" and d in leave]
    row = grid(roster).set_index("nurse").loc["IDE4"]
    assert [row[d.isoformat()] for d in sorted(leave)] == ["CA"] * 4


def test_weekends_off_per_cycle(busy) -> None:
    p, roster = busy
    for nurse in p.nurses:
        free = [
            (nurse.id, sat) not in roster.assignments
            and (nurse.id, sat + timedelta(days=1)) not in roster.assignments
            for sat in days()
            if sat.weekday() == 5
        ]
        assert sum(free) >= 1  # 1 of 2 weekends


def test_the_independent_check_agrees(busy) -> None:
    p, roster = busy
    assert violations(p, roster.assignments) == []


def test_tighter_rules_are_kept_too() -> None:
    p = problem(
        team(6),
        flat_demand(M=1, S=1, N=1),
        max_consecutive_days=3,
        min_rest_hours=12,
        weekends={"min_off": 1, "cycle_weeks": 2},
    )
    roster = solve(p, SolveOptions(**FAST))
    assert roster.solved
    assert violations(p, roster.assignments) == []
    for nurse in p.nurses:
        assert not any(
            all((nurse.id, d + timedelta(days=i)) in roster.assignments for i in range(4))
            for d in days()[:-3]
        )
        shifts = spans(p, roster.assignments)[nurse.id]
        for (_, end, _), (start, _, _) in zip(shifts, shifts[1:], strict=False):
            assert (start - end).total_seconds() >= 12 * 3600


def test_12h_shifts_when_allowed_count_for_the_demand() -> None:
    p = problem(team(5), flat_demand(J=1, N12=1), allow_12h=True)
    roster = solve(p, SolveOptions(**FAST))
    assert roster.solved
    for day in days():
        worked = [c for (n, d), c in roster.assignments.items() if d == day]
        assert "J" in worked and "N12" in worked
    assert violations(p, roster.assignments) == []
    for shifts in spans(p, roster.assignments).values():
        for (_, end, _), (start, _, _) in zip(shifts, shifts[1:], strict=False):
            assert (start - end).total_seconds() >= 11 * 3600


def test_skill_demand_is_met_by_skilled_nurses() -> None:
    skilled = frozenset({"réa"})
    staff = team(
        6, n1=Nurse("IDE1", "Mme N1", skills=skilled), n2=Nurse("IDE2", "Mme N2", skills=skilled)
    )
    p = problem(staff, flat_demand(M=1, S=1, N=1))
    p = type(p)(p.start, p.weeks, p.nurses, p.demand, p.rules, {(d, "M", "réa"): 1 for d in days()})
    roster = solve(p, SolveOptions(**FAST))
    assert roster.solved
    for day in days():
        assert any(roster.assignments.get((n, day)) == "M" for n in ("IDE1", "IDE2"))


def test_weighted_wishes_are_met_when_there_is_room() -> None:
    wish = {START + timedelta(days=2): 3, START + timedelta(days=9): 1}
    staff = team(6, n1=Nurse("IDE1", "Mme N1", wishes=wish))
    roster = solve(problem(staff), SolveOptions(**FAST))
    table = wishes(roster)
    assert len(table) == 2 and table["met"].all()


def test_soft_coverage_gives_a_roster_with_the_shortfall_counted() -> None:
    p = problem(team(2), flat_demand(M=1, S=1, N=1), coverage={"mode": "soft"})
    roster = solve(p, SolveOptions(**FAST))
    assert roster.solved
    table = coverage(roster)
    assert table["missing"].sum() > 0
    assert violations(p, roster.assignments) == []  # soft: coverage is not a hard rule
    assert (table["assigned"] <= table["required"] + table["surplus"]).all()


def test_a_roster_keeps_its_period() -> None:
    roster = solve(problem(), SolveOptions(**FAST))
    assert {d for (_, d) in roster.assignments} <= set(days())
    assert min(days()) == date(2026, 3, 2)

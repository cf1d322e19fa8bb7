"""The CP-SAT model of a roster: one Boolean per nurse, day and usable shift, each rule family
behind an assumption literal so that an infeasible roster can name the rules in conflict.

The assumption literals (``model.add_assumptions``) switch on: the daily rest, the consecutive
days, the 7-day hours, the contract's hours, the weekends off (one literal per rule family),
each nurse's leave, and each day and shift's coverage (``coverage.mode: hard``). When no
roster exists, ``solver.sufficient_assumptions_for_infeasibility()`` gives a subset of them
that cannot hold together (:mod:`.solve` then shrinks it to a minimal one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ortools.sat.python import cp_model

from hopia.management.roster.problem import Nurse, Problem
from hopia.management.roster.rules import MINUTES_PER_DAY


@dataclass(frozen=True)
class Conflict:
    """A rule that can be part of an infeasibility: its family, its French name, and the nurse,
    day and shift it concerns (if any)."""

    kind: str
    label: str
    nurse: str | None = None
    day: date | None = None
    shift: str | None = None


@dataclass
class RosterModel:
    """The model and what the solver's answer is read through."""

    model: cp_model.CpModel
    x: dict[tuple[int, int, str], cp_model.IntVar]
    """Nurse index, day index, shift code -> worked."""
    assumptions: dict[int, Conflict] = field(default_factory=dict)
    """Literal index -> the rule it switches on."""
    literals: dict[int, cp_model.IntVar] = field(default_factory=dict)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n > 1 else ''}"


def _day(d: date) -> str:
    return d.strftime("%d/%m")


def labels(problem: Problem) -> dict[str, str]:
    """The French names of the rule families, with the problem's values."""
    r = problem.rules
    w = r.weekends
    return {
        "rest": f"repos quotidien de {r.min_rest_hours:g} h entre deux postes",
        "consecutive": f"au plus {r.max_consecutive_days} jours travaillés consécutifs",
        "hours_7_days": f"au plus {r.max_hours_7_days:g} h sur 7 jours glissants",
        "contract": (
            f"heures contractuelles ({r.full_time_hours_week:g} h par semaine × quotité, "
            f"dépassement de {r.hours_margin_hours:g} h au plus sur la période)"
        ),
        "weekends": f"au moins {w.min_off} week-end(s) libre(s) sur {w.cycle_weeks}",
    }


def _leave_label(nurse: Nurse, days: list[date]) -> str:
    inside = sorted(d for d in nurse.leave if d in set(days))
    span = f"{_day(inside[0])} au {_day(inside[-1])}" if len(inside) > 1 else _day(inside[0])
    return f"congés de {nurse.name} ({_plural(len(inside), 'jour')}, {span})"


def build(problem: Problem, *, explain: bool = False) -> RosterModel:
    """The CP-SAT model of ``problem`` with its objective; with ``explain``, every rule is
    enforced by an assumption literal (slower to solve: presolve cannot use them), else every
    rule holds unconditionally."""
    rules = problem.rules
    usable = rules.usable()
    codes = list(usable)
    days = problem.days
    nurses = problem.nurses
    model = cp_model.CpModel()
    built = RosterModel(model, {})
    x = built.x
    for n in range(len(nurses)):
        for d in range(len(days)):
            for k in codes:
                x[n, d, k] = model.new_bool_var(f"x_{n}_{d}_{k}")
    worked = {
        (n, d): sum(x[n, d, k] for k in codes) for n in range(len(nurses)) for d in range(len(days))
    }

    def assumption(conflict: Conflict) -> list[cp_model.IntVar]:
        """The enforcement literals of a rule: its assumption when explaining, none else."""
        if not explain:
            return []
        lit = model.new_bool_var(f"a_{len(built.assumptions)}")
        built.assumptions[lit.index] = conflict
        built.literals[lit.index] = lit
        return [lit]

    names = labels(problem)
    # One shift a day at most: the grid's shape, not a rule one may relax.
    for total in worked.values():
        model.add(total <= 1)

    # Daily rest, across days: two shifts closer than the rest are never both worked.
    rest = assumption(Conflict("rest", names["rest"]))
    min_rest = round(rules.min_rest_hours * 60)
    for k1 in codes:
        end1 = usable[k1].start_minute + usable[k1].minutes
        for k2 in codes:
            for delta in (1, 2, 3):
                gap = delta * MINUTES_PER_DAY + usable[k2].start_minute - end1
                if gap >= min_rest:
                    continue
                for n in range(len(nurses)):
                    for d in range(len(days) - delta):
                        model.add_bool_or(
                            [x[n, d, k1].Not(), x[n, d + delta, k2].Not()]
                        ).only_enforce_if(rest)

    consecutive = assumption(Conflict("consecutive", names["consecutive"]))
    m = rules.max_consecutive_days
    for n in range(len(nurses)):
        for d in range(len(days) - m):
            model.add(sum(worked[n, d + i] for i in range(m + 1)) <= m).only_enforce_if(consecutive)

    minutes = {
        (n, d): sum(usable[k].minutes * x[n, d, k] for k in codes)
        for n in range(len(nurses))
        for d in range(len(days))
    }
    week = assumption(Conflict("hours_7_days", names["hours_7_days"]))
    cap = round(rules.max_hours_7_days * 60)
    if max(s.minutes for s in usable.values()) * 7 > cap:
        for n in range(len(nurses)):
            for d in range(max(1, len(days) - 6)):
                window = range(d, min(d + 7, len(days)))
                model.add(sum(minutes[n, i] for i in window) <= cap).only_enforce_if(week)

    contract = assumption(Conflict("contract", names["contract"]))
    margin = round(rules.hours_margin_hours * 60)
    total_minutes = {}
    deviation = []
    for n, nurse in enumerate(nurses):
        target = problem.target_minutes(nurse)
        total = sum(minutes[n, d] for d in range(len(days)))
        total_minutes[n] = total
        model.add(total <= target + margin).only_enforce_if(contract)
        over = model.new_int_var(0, 7 * 24 * 60 * problem.weeks, f"over_{n}")
        under = model.new_int_var(0, 7 * 24 * 60 * problem.weeks, f"under_{n}")
        model.add(total - target == over - under)
        deviation += [over, under]

    # Leave: no shift on a day of leave.
    for n, nurse in enumerate(nurses):
        off = [d for d, day in enumerate(days) if day in nurse.leave]
        if off:
            lit = assumption(Conflict("leave", _leave_label(nurse, days), nurse=nurse.id))
            for d in off:
                model.add(worked[n, d] == 0).only_enforce_if(lit)

    # Weekends off: in every run of cycle_weeks weekends, at least min_off free.
    weekends = problem.weekends()
    w = rules.weekends
    if weekends and w.min_off:
        index = {day: i for i, day in enumerate(days)}
        lit = assumption(Conflict("weekends", names["weekends"]))
        for n in range(len(nurses)):
            free = []
            for sat, sun in weekends:
                f = model.new_bool_var(f"we_{n}_{index[sat]}")
                model.add(worked[n, index[sat]] + worked[n, index[sun]] == 0).only_enforce_if(f)
                free.append(f)
            if len(free) >= w.cycle_weeks:
                for s in range(len(free) - w.cycle_weeks + 1):
                    model.add(sum(free[s : s + w.cycle_weeks]) >= w.min_off).only_enforce_if(lit)
            else:  # a period shorter than the cycle: its share, rounded down
                need = w.min_off * len(free) // w.cycle_weeks
                if need:
                    model.add(sum(free) >= need).only_enforce_if(lit)

    # Coverage: each (day, shift) gets its demand from the shifts that count for it.
    objective = []
    scale = 60  # every weight is per hour or per unit; minutes carry it for the hours
    penalty = rules.coverage.penalty
    counting = {code: [k for k in codes if code in rules.covers(k)] for code in rules.shifts}
    for (day, code), required in sorted(problem.demand.items()):
        if required <= 0 or day not in days:
            continue
        d = days.index(day)
        present = sum(x[n, d, k] for n in range(len(nurses)) for k in counting[code])
        label = rules.shifts[code].label.lower()
        if rules.coverage.mode == "hard":
            lit = assumption(
                Conflict(
                    "coverage",
                    f"couverture du {_day(day)} {label} : {_plural(required, 'infirmier')} "
                    f"demandé{'s' if required > 1 else ''}",
                    day=day,
                    shift=code,
                )
            )
            model.add(present >= required).only_enforce_if(lit)
        else:
            short = model.new_int_var(0, required, f"short_{d}_{code}")
            model.add(present + short >= required)
            objective.append(penalty * scale * short)
    for (day, code, skill), required in sorted(problem.skill_demand.items()):
        if required <= 0 or day not in days:
            continue
        d = days.index(day)
        present = sum(
            x[n, d, k]
            for n, nurse in enumerate(nurses)
            if skill in nurse.skills
            for k in counting[code]
        )
        label = rules.shifts[code].label.lower()
        if rules.coverage.mode == "hard":
            lit = assumption(
                Conflict(
                    "skill",
                    f"compétence « {skill} » le {_day(day)} {label} : "
                    f"{_plural(required, 'infirmier')} demandé{'s' if required > 1 else ''}",
                    day=day,
                    shift=code,
                )
            )
            model.add(present >= required).only_enforce_if(lit)
        else:
            short = model.new_int_var(0, required, f"skshort_{d}_{code}_{skill}")
            model.add(present + short >= required)
            objective.append(penalty * scale * short)

    # Fairness: nights and weekend days near each nurse's share (ratio × days available).
    weights = rules.weights
    share = [n.ratio * sum(1 for d in days if d not in n.leave) for n in nurses]
    total_share = sum(share) or 1.0
    nights = [k for k in codes if usable[k].night]
    night_demand = sum(
        r for (day, code), r in problem.demand.items() if day in days and rules.shifts[code].night
    )
    weekend_days = [i for i, day in enumerate(days) if day.weekday() >= 5]
    weekend_demand = sum(
        r for (day, code), r in problem.demand.items() if day in days and day.weekday() >= 5
    )
    for what, wanted, coefficient in (
        ("nights", night_demand, weights.nights),
        ("weekends", weekend_demand, weights.weekends),
    ):
        if not coefficient or not wanted:
            continue
        for n in range(len(nurses)):
            if what == "nights":
                count = sum(x[n, d, k] for d in range(len(days)) for k in nights)
            else:
                count = sum(worked[n, d] for d in weekend_days)
            fair = round(10 * wanted * share[n] / total_share)  # tenths of a shift
            dev = model.new_int_var(0, 10 * len(days), f"{what}_{n}")
            model.add(dev >= 10 * count - fair)
            model.add(dev >= fair - 10 * count)
            objective.append(coefficient * scale // 10 * dev)
    if weights.hours:
        objective += [weights.hours * v for v in deviation]
    if weights.requests:
        for n, nurse in enumerate(nurses):
            for day, weight in nurse.wishes.items():
                if day in days and day not in nurse.leave:
                    objective.append(weights.requests * weight * scale * worked[n, days.index(day)])
    model.minimize(sum(objective))
    if explain:
        model.add_assumptions(list(built.literals.values()))
    return built

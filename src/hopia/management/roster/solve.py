"""Solving a roster with CP-SAT, and explaining an infeasible one by the rules in conflict.

The solver runs with an explicit time limit, number of workers (``num_workers``: 2-core
servers, keep it at most 2) and seed. When the assumptions cannot all hold
(``INFEASIBLE``), the solver's core (``sufficient_assumptions_for_infeasibility``) is shrunk
by deletion (each rule dropped in turn, kept if the rest becomes feasible), within a time
budget, to a small set of rules that conflict; they are reported by their French names.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

from ortools.sat.python import cp_model

from hopia.management.roster.model import Conflict, RosterModel, build
from hopia.management.roster.problem import Problem

STATUS = {
    cp_model.OPTIMAL: "optimal",
    cp_model.FEASIBLE: "feasible",
    cp_model.INFEASIBLE: "infeasible",
    cp_model.MODEL_INVALID: "invalid",
    cp_model.UNKNOWN: "unknown",
}
STATUS_FR = {
    "optimal": "optimal",
    "feasible": "réalisable (limite de temps atteinte avant la preuve d'optimalité)",
    "infeasible": "impossible : des règles se contredisent",
    "unknown": "aucun planning trouvé dans le temps imparti",
    "invalid": "modèle invalide",
}


@dataclass(frozen=True)
class SolveOptions:
    """How long and how the solver searches."""

    time_limit_s: float = 30.0
    workers: int = 2
    """``num_workers`` of CP-SAT (2-core servers: 2 at most)."""
    seed: int = 0
    relative_gap: float = 0.0
    """Stop once the objective is within this share of the bound (0: prove optimality)."""
    explain_time_s: float = 20.0
    """Budget for shrinking the conflicting rules of an infeasible roster."""


@dataclass
class Roster:
    """The solver's answer: the shifts worked, its status and figures, or the conflicts."""

    problem: Problem
    status: str
    assignments: dict[tuple[str, date], str] = field(default_factory=dict)
    """(nurse id, day) -> shift code, for the days worked."""
    objective: float | None = None
    bound: float | None = None
    wall_s: float = 0.0
    conflicts: list[Conflict] = field(default_factory=list)
    conflicts_minimal: bool = False
    """Whether each conflicting rule was checked to be needed (the budget sufficed)."""
    first_solution_s: float | None = None
    """Seconds to the first roster that keeps every hard rule."""

    @property
    def solved(self) -> bool:
        return self.status in ("optimal", "feasible")


def _solver(options: SolveOptions, time_limit: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = max(0.1, time_limit)
    p.num_workers = max(1, options.workers)
    p.random_seed = options.seed
    p.relative_gap_limit = options.relative_gap
    p.log_search_progress = False
    return solver


def solve(problem: Problem, options: SolveOptions | None = None) -> Roster:
    """The roster of ``problem``: its shifts, or the rules in conflict when none exists.

    Three phases: (1) a feasible roster, without objective (fast: a third of the time limit at
    most); (2) from it (a complete hint), the objective minimised for the rest of the time;
    (3) only if (1) proves that none exists, the model rebuilt with one assumption literal per
    rule, and its conflicting rules found (:func:`_shrink`)."""
    options = options or SolveOptions()
    started = time.perf_counter()
    built = build(problem)
    feasibility = built.model.clone()
    feasibility.clear_objective()
    solver = _solver(options, options.time_limit_s / 3)
    code = solver.solve(feasibility)
    status = STATUS.get(code, "unknown")
    roster = Roster(problem, status)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        first = {key: solver.boolean_value(var) for key, var in built.x.items()}
        for key, var in built.x.items():
            built.model.add_hint(var, first[key])
        roster.first_solution_s = time.perf_counter() - started
        solver = _solver(options, options.time_limit_s - roster.first_solution_s)
        solver.parameters.linearization_level = 2  # measured: better rosters in the same time
        code = solver.solve(built.model)
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            chosen = {key: solver.boolean_value(var) for key, var in built.x.items()}
            roster.objective = solver.objective_value / 60
            roster.bound = solver.best_objective_bound / 60
        else:  # no time left to improve it: the first roster
            code, chosen = cp_model.FEASIBLE, first
        roster.status = STATUS[code]
        for (n, d, k), worked in chosen.items():
            if worked:
                roster.assignments[problem.nurses[n].id, problem.days[d]] = k
    elif code == cp_model.INFEASIBLE:
        explained = build(problem, explain=True)
        core, roster.conflicts_minimal = _shrink(explained, list(explained.assumptions), options)
        roster.conflicts = sorted(
            (explained.assumptions[i] for i in core),
            key=lambda c: (_ORDER.get(c.kind, 9), c.day or date.min, c.nurse or "", c.label),
        )
    roster.wall_s = time.perf_counter() - started
    return roster


_ORDER = {"rest": 0, "consecutive": 1, "hours_7_days": 2, "contract": 3, "weekends": 4, "leave": 5}


def _shrink(built: RosterModel, core: list[int], options: SolveOptions) -> tuple[list[int], bool]:
    """A smaller core by deletion, in chunks (halves, quarters… then one by one): a chunk whose
    removal leaves the rest infeasible is dropped (with whatever the new core leaves out).
    Returns the core and whether every member was proven necessary (one by one, in time)."""
    deadline = time.perf_counter() + options.explain_time_s
    # The objective stays (its linear relaxation proves capacity shortfalls fast); each
    # probe stops at its first solution.
    probe = built.model.clone()

    def infeasible(trial: list[int]) -> tuple[bool | None, set[int]]:
        left = deadline - time.perf_counter()
        if left <= 0.05:
            return None, set()
        probe.clear_assumptions()
        probe.add_assumptions([built.literals[i] for i in trial])
        solver = _solver(options, min(left, 5.0))
        solver.parameters.stop_after_first_solution = True
        code = solver.solve(probe)
        if code == cp_model.INFEASIBLE:
            return True, {int(i) for i in solver.sufficient_assumptions_for_infeasibility()}
        return (False if code in (cp_model.FEASIBLE, cp_model.OPTIMAL) else None), set()

    kept = list(core)
    chunk = max(1, len(kept) // 2)
    while True:
        minimal = True
        i = 0
        while i < len(kept):
            trial = kept[:i] + kept[i + chunk :]
            answer, found = infeasible(trial)
            if answer:
                kept = [j for j in trial if not found or j in found]
            else:
                minimal = minimal and answer is False
                i += chunk
            if time.perf_counter() >= deadline:
                return kept, False
        if chunk == 1:
            return kept, minimal
        chunk = max(1, chunk // 2)


def summary(conflicts: list[Conflict], most: int = 8) -> list[str]:
    """The conflicting rules as French lines; beyond ``most`` coverage rules, one line for them
    (how many, from which day to which, which shifts)."""
    covering = [c for c in conflicts if c.kind in ("coverage", "skill")]
    lines = [c.label for c in conflicts if c.kind not in ("coverage", "skill")]
    if len(covering) <= most:
        return lines + [c.label for c in covering]
    days = sorted(c.day for c in covering if c.day)
    shifts = ", ".join(dict.fromkeys(c.shift or "" for c in covering))
    return lines + [
        f"couverture de {len(covering)} postes demandés du {days[0]:%d/%m} au {days[-1]:%d/%m} "
        f"({shifts}) : ensemble, plus que l'effectif ne peut assurer"
    ]

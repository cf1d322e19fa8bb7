"""Staff rostering with CP-SAT: a nurse roster for one service over a few weeks that covers a
demand per day and shift (from a forecast quantile), under French working-time rules given as
data, fair in nights and weekends, and that says which rules conflict when none exists.

>>> from hopia.management.roster import SolveOptions, example, solve
>>> roster = solve(example.generate(6, 2).problem(), SolveOptions(time_limit_s=5))
>>> roster.status in ("optimal", "feasible")
True
"""

from __future__ import annotations

from hopia.management.roster.check import violations
from hopia.management.roster.model import Conflict
from hopia.management.roster.problem import (
    LEAVE_CODE,
    Nurse,
    Problem,
    RosterInputError,
    demand_from_frame,
    make_problem,
    nurses_from_forecast,
    read_table,
    staff_from_frame,
)
from hopia.management.roster.rules import DEFAULT_RULES_YAML, RosterRules, Shift, load_rules
from hopia.management.roster.solve import STATUS_FR, Roster, SolveOptions, solve

__all__ = [
    "DEFAULT_RULES_YAML",
    "LEAVE_CODE",
    "STATUS_FR",
    "Conflict",
    "Nurse",
    "Problem",
    "Roster",
    "RosterInputError",
    "RosterRules",
    "Shift",
    "SolveOptions",
    "demand_from_frame",
    "load_rules",
    "nurses_from_forecast",
    "make_problem",
    "read_table",
    "solve",
    "staff_from_frame",
    "violations",
]

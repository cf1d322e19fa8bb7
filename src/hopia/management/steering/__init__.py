"""Steering indicators (*pilotage*): activity per service and month from the research space.

Admissions, discharges, length of stay (mean, median, P90), 30-day readmissions and the case
mix by CIM-10 chapter, with month-over-month and year-on-year trends; every published count is
protected by small-cell suppression with complementary cells (:mod:`.suppression`), so that a
hidden count cannot come back by subtraction from the totals.
"""

from hopia.management.steering.indicators import Indicators, compute, default_window, trend
from hopia.management.steering.stays import INPATIENT_CONCEPTS, main_chapters, read_stays
from hopia.management.steering.suppression import (
    HIDDEN,
    TOTAL,
    WITHHELD,
    Protected,
    attack,
    protect,
)

__all__ = [
    "HIDDEN",
    "INPATIENT_CONCEPTS",
    "TOTAL",
    "WITHHELD",
    "Indicators",
    "Protected",
    "attack",
    "compute",
    "default_window",
    "main_chapters",
    "protect",
    "read_stays",
    "trend",
]

"""A solved roster as tidy tables: the nurse × day grid, the coverage per day and shift, the
hours, nights and weekends per nurse against their target, and the wishes met.

Column names are the CSV contract (English, as the inputs'); :data:`HEADERS_FR` gives the
French headers a manager reads (:func:`in_french`).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from hopia.management.roster.problem import LEAVE_CODE
from hopia.management.roster.solve import Roster

HEADERS_FR = {
    "nurse": "infirmier",
    "name": "nom",
    "ratio": "quotité",
    "date": "date",
    "shift": "poste",
    "start": "début",
    "end": "fin",
    "hours": "heures",
    "required": "demandés",
    "assigned": "affectés",
    "missing": "manquants",
    "surplus": "en surplus",
    "target_hours": "heures cibles",
    "worked_hours": "heures planifiées",
    "gap_hours": "écart (h)",
    "shifts": "postes",
    "nights": "nuits",
    "weekend_days": "jours de week-end",
    "weekends_off": "week-ends libres",
    "leave_days": "jours de congé",
    "wishes": "souhaits",
    "wishes_met": "souhaits satisfaits",
    "weight": "poids",
    "met": "satisfait",
    "skill": "compétence",
}


def in_french(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the French headers (dates and unknown names kept)."""
    return frame.rename(columns=lambda c: HEADERS_FR.get(c, c))


def shifts(roster: Roster) -> pd.DataFrame:
    """One row per shift worked: nurse, name, date, shift, start, end, hours."""
    names = {n.id: n.name for n in roster.problem.nurses}
    defs = roster.problem.rules.shifts
    rows = [
        {
            "nurse": nurse,
            "name": names[nurse],
            "date": day.isoformat(),
            "shift": code,
            "start": defs[code].start,
            "end": defs[code].end,
            "hours": defs[code].hours,
        }
        for (nurse, day), code in sorted(
            roster.assignments.items(), key=lambda i: (i[0][1], i[0][0])
        )
    ]
    return pd.DataFrame(rows, columns=["nurse", "name", "date", "shift", "start", "end", "hours"])


def grid(roster: Roster) -> pd.DataFrame:
    """Nurse × day: the shift code, ``CA`` on leave, empty when off. Columns ``nurse, name,
    ratio`` then one ISO date per day."""
    p = roster.problem
    rows = []
    for nurse in p.nurses:
        row: dict[str, object] = {"nurse": nurse.id, "name": nurse.name, "ratio": nurse.ratio}
        for day in p.days:
            code = roster.assignments.get((nurse.id, day))
            row[day.isoformat()] = code or (LEAVE_CODE if day in nurse.leave else "")
        rows.append(row)
    return pd.DataFrame(rows, columns=["nurse", "name", "ratio", *(d.isoformat() for d in p.days)])


def coverage(roster: Roster) -> pd.DataFrame:
    """Per day and shift asked or worked: required, assigned (with the shifts that count for
    it), missing, surplus."""
    p = roster.problem
    rules = p.rules
    present: dict[tuple[date, str], int] = {}
    for (_, day), code in roster.assignments.items():
        for counted in rules.covers(code):
            present[day, counted] = present.get((day, counted), 0) + 1
    codes = [c for c in rules.shifts if c in rules.usable() or any(k[1] == c for k in p.demand)]
    rows = []
    for day in p.days:
        for code in codes:
            required = p.demand.get((day, code), 0)
            assigned = present.get((day, code), 0)
            if not required and not assigned:
                continue
            rows.append(
                {
                    "date": day.isoformat(),
                    "shift": code,
                    "required": required,
                    "assigned": assigned,
                    "missing": max(0, required - assigned),
                    "surplus": max(0, assigned - required),
                }
            )
    return pd.DataFrame(
        rows, columns=["date", "shift", "required", "assigned", "missing", "surplus"]
    )


def nurses(roster: Roster) -> pd.DataFrame:
    """Per nurse: target and planned hours, shifts, nights, weekend days worked, weekends off,
    leave days, wishes and wishes met."""
    p = roster.problem
    defs = p.rules.shifts
    rows = []
    for nurse in p.nurses:
        worked = {d: c for (n, d), c in roster.assignments.items() if n == nurse.id}
        minutes = sum(defs[c].minutes for c in worked.values())
        wishes = [d for d in nurse.wishes if d in set(p.days) and d not in nurse.leave]
        target = p.target_minutes(nurse)
        rows.append(
            {
                "nurse": nurse.id,
                "name": nurse.name,
                "ratio": nurse.ratio,
                "target_hours": round(target / 60, 1),
                "worked_hours": round(minutes / 60, 1),
                "gap_hours": round((minutes - target) / 60, 1),
                "shifts": len(worked),
                "nights": sum(1 for c in worked.values() if defs[c].night),
                "weekend_days": sum(1 for d in worked if d.weekday() >= 5),
                "weekends_off": sum(
                    1 for s, u in p.weekends() if s not in worked and u not in worked
                ),
                "leave_days": sum(1 for d in p.days if d in nurse.leave),
                "wishes": len(wishes),
                "wishes_met": sum(1 for d in wishes if d not in worked),
            }
        )
    return pd.DataFrame(rows)


def wishes(roster: Roster) -> pd.DataFrame:
    """Each wish of a day off in the period: nurse, name, date, weight, met."""
    p = roster.problem
    rows = [
        {
            "nurse": nurse.id,
            "name": nurse.name,
            "date": day.isoformat(),
            "weight": weight,
            "met": (nurse.id, day) not in roster.assignments,
        }
        for nurse in p.nurses
        for day, weight in sorted(nurse.wishes.items())
        if day in set(p.days) and day not in nurse.leave
    ]
    return pd.DataFrame(rows, columns=["nurse", "name", "date", "weight", "met"])


def tables(roster: Roster) -> dict[str, pd.DataFrame]:
    """Every table of a solved roster, by French sheet name, French headers (XLSX export)."""
    return {
        "planning": in_french(grid(roster)),
        "couverture": in_french(coverage(roster)),
        "infirmiers": in_french(nurses(roster)),
        "souhaits": in_french(wishes(roster)),
        "postes": in_french(shifts(roster)),
    }

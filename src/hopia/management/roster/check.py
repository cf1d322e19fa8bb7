"""An independent check of a roster against its rules, from the shifts' times alone (no solver,
no model): what a manager, or a test, uses to trust a roster, whoever made it.

:func:`violations` returns one French line per broken rule occurrence; an empty list is a roster
that keeps every hard rule (coverage only when ``coverage.mode`` is ``hard``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from hopia.management.roster.problem import Problem


def _when(day: date, hhmm: str) -> datetime:
    h, m = hhmm.split(":")
    return datetime.combine(day, time(int(h), int(m)))


def violations(problem: Problem, assignments: Mapping[tuple[str, date], str]) -> list[str]:
    """The hard rules ``assignments`` ((nurse id, day) -> shift code) breaks."""
    rules = problem.rules
    usable = rules.usable()
    days = problem.days
    out: list[str] = []
    ids = {n.id for n in problem.nurses}
    for (nurse, day), code in assignments.items():
        if nurse not in ids:
            out.append(f"{nurse} : infirmier inconnu")
        if day not in days:
            out.append(f"{nurse} {day} : jour hors période")
        if code not in usable:
            out.append(f"{nurse} {day} : poste {code} non autorisé")
    for nurse in problem.nurses:
        mine = sorted((d, c) for (n, d), c in assignments.items() if n == nurse.id and c in usable)
        spans = []
        for d, c in mine:
            start = _when(d, usable[c].start)
            spans.append((start, start + timedelta(minutes=usable[c].minutes), d, c))
            if d in nurse.leave:
                out.append(f"{nurse.id} {d} : poste {c} pendant un congé")
        for (_s1, e1, d1, _), (s2, _e2, d2, _) in zip(spans, spans[1:], strict=False):
            rest = (s2 - e1).total_seconds() / 3600
            if rest < rules.min_rest_hours:
                out.append(
                    f"{nurse.id} {d1}→{d2} : repos de {rest:g} h < {rules.min_rest_hours:g} h"
                )
        worked = {d for d, _ in mine}
        run = 0
        for d in days:
            run = run + 1 if d in worked else 0
            if run > rules.max_consecutive_days:
                out.append(f"{nurse.id} {d} : {run} jours consécutifs")
        minutes = {d: usable[c].minutes for d, c in mine}
        for i in range(max(1, len(days) - 6)):
            window = days[i : i + 7]
            total = sum(minutes.get(d, 0) for d in window) / 60
            if total > rules.max_hours_7_days + 1e-9:
                out.append(f"{nurse.id} {window[0]} : {total:g} h sur 7 jours")
        total = sum(minutes.values())
        if total > problem.target_minutes(nurse) + round(rules.hours_margin_hours * 60):
            out.append(f"{nurse.id} : {total / 60:g} h au-delà de la cible et de sa marge")
        weekends = problem.weekends()
        free = [s not in worked and u not in worked for s, u in weekends]
        cycle, need = rules.weekends.cycle_weeks, rules.weekends.min_off
        if len(free) >= cycle:
            for s in range(len(free) - cycle + 1):
                if sum(free[s : s + cycle]) < need:
                    out.append(f"{nurse.id} : moins de {need} week-ends libres sur {cycle}")
        elif sum(free) < need * len(free) // cycle:
            out.append(f"{nurse.id} : trop peu de week-ends libres")
    if rules.coverage.mode == "hard":
        skills = {n.id: n.skills for n in problem.nurses}
        present: dict[tuple[date, str], list[str]] = {}
        for (nurse, day), code in assignments.items():
            for counted in rules.covers(code):
                present.setdefault((day, counted), []).append(nurse)
        for (day, code), required in problem.demand.items():
            if day in days and len(present.get((day, code), [])) < required:
                out.append(f"{day} {code} : {len(present.get((day, code), []))} < {required}")
        for (day, code, skill), required in problem.skill_demand.items():
            have = sum(1 for n in present.get((day, code), []) if skill in skills.get(n, ()))
            if day in days and have < required:
                out.append(f"{day} {code} {skill} : {have} < {required}")
    return out

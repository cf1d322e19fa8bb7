"""What a roster is asked to do: the nurses, the demand per day and shift, the period.

Two tables, read from CSV (``,`` or ``;``, UTF-8 with or without a BOM):

- staff: ``nurse`` (identifier), ``name``, ``ratio`` (``1``, ``0.8``, ``80 %``), ``skills``
  (space- or ``|``-separated), ``leave`` (days of leave: ``2026-03-02..2026-03-06 2026-03-20``),
  ``wishes`` (preferred days off, a weight after ``*``: ``2026-03-14*3``; weight 1 by default);
  only ``nurse`` is required;
- demand: ``date``, ``shift``, ``required`` and, optionally, ``skill`` (then the row asks that
  many nurses with that skill among those of the shift). A day and shift absent asks nobody.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from hopia.management.roster.rules import RosterRules
from hopia.platform.exceptions import InvalidRequestError

LEAVE_CODE = "CA"
"""What the grid shows on a day of leave."""


RosterInputError = InvalidRequestError
"""What a table or the period that cannot make a roster problem raises (its ``fields`` name
the input: ``staff``, ``demand``, ``forecast``, ``quantile``, ``ratio``, ``weeks``)."""


@dataclass(frozen=True)
class Nurse:
    """One member of staff: identifier, display name, employment ratio, skills, leave days and
    weighted wishes of days off."""

    id: str
    name: str
    ratio: float = 1.0
    skills: frozenset[str] = frozenset()
    leave: frozenset[date] = frozenset()
    wishes: Mapping[date, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """A roster to build: ``weeks`` weeks from ``start``, the nurses, the demand."""

    start: date
    weeks: int
    nurses: tuple[Nurse, ...]
    demand: Mapping[tuple[date, str], int]
    """Nurses required per (day, shift code)."""
    rules: RosterRules
    skill_demand: Mapping[tuple[date, str, str], int] = field(default_factory=dict)
    """Nurses with a skill required per (day, shift code, skill)."""

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(7 * self.weeks)]

    def target_minutes(self, nurse: Nurse) -> int:
        """The contract's minutes over the period: full time × ratio per 7 days not on leave."""
        free = sum(1 for d in self.days if d not in nurse.leave)
        return round(self.rules.full_time_hours_week * 60 * nurse.ratio * free / 7)

    def weekends(self) -> list[tuple[date, date]]:
        """The (Saturday, Sunday) pairs wholly inside the period."""
        days = set(self.days)
        return [
            (d, d + timedelta(days=1))
            for d in self.days
            if d.weekday() == 5 and d + timedelta(days=1) in days
        ]


# -- reading the tables ----------------------------------------------------------------------

_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.\.(\d{4}-\d{2}-\d{2}))?(?:\*(\d+))?$")


def _dates(text: str, where: str, field_name: str) -> dict[date, int]:
    """``2026-03-02..2026-03-06 2026-03-20*2`` -> {day: weight}."""
    out: dict[date, int] = {}
    for token in re.split(r"[\s|]+", text.strip()):
        if not token:
            continue
        found = _RANGE.match(token)
        if not found:
            raise RosterInputError(
                f"{where} : « {token} » n'est pas une date AAAA-MM-JJ, une plage "
                "AAAA-MM-JJ..AAAA-MM-JJ ou une date suivie de *poids",
                fields=(field_name,),
            )
        try:
            first = date.fromisoformat(found[1])
            last = date.fromisoformat(found[2]) if found[2] else first
        except ValueError:
            raise RosterInputError(
                f"{where} : date impossible « {token} »", fields=(field_name,)
            ) from None
        if last < first or (last - first).days > 366:
            raise RosterInputError(f"{where} : plage incorrecte « {token} »", fields=(field_name,))
        weight = int(found[3]) if found[3] else 1
        for i in range((last - first).days + 1):
            out[first + timedelta(days=i)] = weight
    return out


def _ratio(value: str, where: str) -> float:
    text = value.strip().replace(",", ".").replace("%", "").strip()
    try:
        ratio = float(text) if text else 1.0
    except ValueError:
        raise RosterInputError(
            f"{where} : quotité « {value} » illisible", fields=("staff",)
        ) from None
    if ratio > 1:
        ratio /= 100  # "80" or "80 %"
    if not 0.1 <= ratio <= 1:
        raise RosterInputError(f"{where} : quotité {value} hors de 10 % à 100 %", fields=("staff",))
    return ratio


def read_table(path: Path, field_name: str) -> pd.DataFrame:
    """A CSV of strings (separator sniffed among ``,`` and ``;``), column names lower-cased."""
    try:
        frame = pd.read_csv(
            path,
            sep=None,
            engine="python",
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise RosterInputError(
            f"{path} : CSV illisible ({type(exc).__name__})", fields=(field_name,)
        ) from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def staff_from_frame(frame: pd.DataFrame) -> tuple[Nurse, ...]:
    """The nurses of a staff table (see the module docstring for its columns)."""
    if "nurse" not in frame.columns:
        raise RosterInputError(
            "tableau du personnel : colonne « nurse » absente", fields=("staff",)
        )
    nurses: list[Nurse] = []
    seen: set[str] = set()
    for i, row in enumerate(frame.to_dict("records"), start=2):
        where = f"personnel, ligne {i}"
        nurse = str(row.get("nurse", "")).strip()
        if not nurse:
            raise RosterInputError(f"{where} : identifiant « nurse » vide", fields=("staff",))
        if nurse in seen:
            raise RosterInputError(f"{where} : infirmier « {nurse} » en double", fields=("staff",))
        seen.add(nurse)
        nurses.append(
            Nurse(
                id=nurse,
                name=str(row.get("name") or nurse).strip() or nurse,
                ratio=_ratio(str(row.get("ratio") or ""), where),
                skills=frozenset(
                    s for s in re.split(r"[\s|,]+", str(row.get("skills") or "")) if s
                ),
                leave=frozenset(_dates(str(row.get("leave") or ""), where, "staff")),
                wishes=_dates(str(row.get("wishes") or ""), where, "staff"),
            )
        )
    if not nurses:
        raise RosterInputError("tableau du personnel vide", fields=("staff",))
    return tuple(nurses)


def demand_from_frame(
    frame: pd.DataFrame, rules: RosterRules, days: Iterable[date]
) -> tuple[dict[tuple[date, str], int], dict[tuple[date, str, str], int]]:
    """The demand table as {(day, shift): nurses} and {(day, shift, skill): nurses}; rows
    outside the period are left out."""
    missing = [c for c in ("date", "shift", "required") if c not in frame.columns]
    if missing:
        raise RosterInputError(
            f"tableau de la demande : colonne(s) absente(s) {', '.join(missing)}",
            fields=("demand",),
        )
    period = set(days)
    usable = rules.usable()
    demand: dict[tuple[date, str], int] = {}
    skills: dict[tuple[date, str, str], int] = {}
    for i, row in enumerate(frame.to_dict("records"), start=2):
        where = f"demande, ligne {i}"
        try:
            day = date.fromisoformat(str(row["date"]).strip()[:10])
        except ValueError:
            raise RosterInputError(
                f"{where} : date « {row['date']} » illisible", fields=("demand",)
            ) from None
        code = str(row["shift"]).strip()
        if code not in rules.shifts:
            raise RosterInputError(
                f"{where} : poste « {code} » inconnu des règles ({', '.join(rules.shifts)})",
                fields=("demand",),
            )
        if not any(code in rules.covers(c) for c in usable):
            raise RosterInputError(
                f"{where} : aucun poste autorisé ne couvre « {code} » (postes de 12 h "
                "interdits par les règles : allow_12h)",
                fields=("demand",),
            )
        try:
            required = int(float(str(row["required"]).replace(",", ".")))
        except ValueError:
            raise RosterInputError(
                f"{where} : effectif « {row['required']} » illisible", fields=("demand",)
            ) from None
        if required < 0 or required > 1000:
            raise RosterInputError(
                f"{where} : effectif {required} hors de 0 à 1000", fields=("demand",)
            )
        if day not in period:
            continue
        skill = str(row.get("skill") or "").strip()
        if skill:
            skills[(day, code, skill)] = skills.get((day, code, skill), 0) + required
        else:
            demand[(day, code)] = demand.get((day, code), 0) + required
    return demand, skills


def nurses_from_forecast(
    forecast: pd.DataFrame,
    *,
    quantile: float,
    patients_per_nurse: Mapping[str, float],
    minimum: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """A demand table (``date, shift, required``) from a quantile forecast of patients.

    ``forecast`` is a long frame ``ds, quantile, value`` (the patients present on day ``ds``
    at that quantile; a ``unique_id`` column, if any, must hold one series). Each shift needs
    ``ceil(value / patients_per_nurse[shift])`` nurses, and at least ``minimum[shift]``.

    >>> f = pd.DataFrame({"ds": ["2026-03-02"] * 2, "quantile": [0.5, 0.9], "value": [20, 25]})
    >>> nurses_from_forecast(f, quantile=0.9, patients_per_nurse={"M": 6, "N": 12})
             date shift  required
    0  2026-03-02     M         5
    1  2026-03-02     N         3
    """
    missing = [c for c in ("ds", "quantile", "value") if c not in forecast.columns]
    if missing:
        raise RosterInputError(
            f"prévision : colonne(s) absente(s) {', '.join(missing)}", fields=("forecast",)
        )
    if "unique_id" in forecast.columns and forecast["unique_id"].nunique() > 1:
        raise RosterInputError(
            "prévision : une seule série (unique_id) attendue", fields=("forecast",)
        )
    quantiles = pd.to_numeric(forecast["quantile"], errors="coerce")
    chosen = forecast[(quantiles - quantile).abs() < 1e-9]
    if chosen.empty:
        available = ", ".join(f"{q:g}" for q in sorted(quantiles.dropna().unique()))
        raise RosterInputError(
            f"prévision : quantile {quantile:g} absent (disponibles : {available or 'aucun'})",
            fields=("quantile",),
        )
    if any(r <= 0 for r in patients_per_nurse.values()) or not patients_per_nurse:
        raise RosterInputError(
            "ratio patients par infirmier : positif et par poste", fields=("ratio",)
        )
    minimum = minimum or {}
    rows = []
    for ds, value in zip(pd.to_datetime(chosen["ds"]).dt.date, chosen["value"], strict=True):
        for code, ratio in patients_per_nurse.items():
            need = math.ceil(max(float(value), 0.0) / ratio - 1e-9)
            rows.append(
                {"date": ds.isoformat(), "shift": code, "required": max(need, minimum.get(code, 0))}
            )
    return pd.DataFrame(rows).sort_values("date", kind="stable").reset_index(drop=True)


def make_problem(
    staff: pd.DataFrame, demand: pd.DataFrame, rules: RosterRules, start: date, weeks: int
) -> Problem:
    """The problem of a staff and a demand table over ``weeks`` weeks from ``start``."""
    if not 1 <= weeks <= 12:
        raise RosterInputError("nombre de semaines : de 1 à 12", fields=("weeks",))
    days = [start + timedelta(days=i) for i in range(7 * weeks)]
    wanted, skills = demand_from_frame(demand, rules, days)
    return Problem(start, weeks, staff_from_frame(staff), wanted, rules, skills)

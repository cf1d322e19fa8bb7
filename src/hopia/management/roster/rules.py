"""The working-time rules of a roster, as data: a YAML or JSON file validated by pydantic.

Every rule a manager may change lives here, with the defaults of a French public hospital's
nursing service (décret n° 2002-9 du 4 janvier 2002 on working time in the public hospital
service: 11 h of daily rest, 48 h at most over any 7 days, 12 h shifts by derogation):

- ``shifts``: the shift codes, their hours (a shift that ends at or before its start ends the
  next day) and whether they are nights; ``counts_as`` lets a long shift count for the demand
  of shorter ones (``J`` for ``M`` and ``S``);
- ``allow_12h``: shifts of 12 h or more usable at all;
- ``min_rest_hours``, ``max_consecutive_days``, ``max_hours_7_days``;
- ``full_time_hours_week`` and ``hours_margin_hours``: a nurse's target is
  ``full_time_hours_week × ratio`` per 7 days not on leave, and the roster may exceed it by the
  margin at most over the period;
- ``weekends``: at least ``min_off`` weekends off (no shift starting on the Saturday or the
  Sunday) in every ``cycle_weeks`` consecutive weekends;
- ``coverage``: ``hard`` (the demand is a minimum) or ``soft`` (under-coverage allowed, at a
  high ``penalty`` per missing nurse);
- ``weights``: the objective after coverage (fairness of nights and weekends, hours, requests).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MINUTES_PER_DAY = 24 * 60


class Shift(BaseModel):
    """One shift code: its hours, in the service's local time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(description="Nom affiché (« Matin »).", min_length=1, max_length=40)
    start: str = Field(description="Début HH:MM.", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(
        description="Fin HH:MM (le lendemain si avant le début).",
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
    )
    night: bool = Field(False, description="Poste de nuit (équité des nuits).")
    counts_as: tuple[str, ...] = Field(
        (), description="Autres postes dont ce poste couvre aussi la demande (J pour M et S)."
    )

    @property
    def start_minute(self) -> int:
        """Minutes after midnight of the shift's day."""
        hours, minutes = self.start.split(":")
        return int(hours) * 60 + int(minutes)

    @property
    def minutes(self) -> int:
        """Length in minutes; an end at or before the start is the next day's."""
        hours, minutes = self.end.split(":")
        end = int(hours) * 60 + int(minutes)
        return (end - self.start_minute) % MINUTES_PER_DAY or MINUTES_PER_DAY

    @property
    def hours(self) -> float:
        return self.minutes / 60


class Weekends(BaseModel):
    """At least ``min_off`` free weekends in any ``cycle_weeks`` consecutive ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_off: int = Field(2, ge=0, le=52)
    cycle_weeks: int = Field(6, ge=1, le=52)

    @model_validator(mode="after")
    def _fits(self) -> Weekends:
        if self.min_off > self.cycle_weeks:
            raise ValueError("min_off ne peut dépasser cycle_weeks")
        return self


class Coverage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["hard", "soft"] = "hard"
    penalty: int = Field(10_000, ge=1, description="Pénalité par infirmier manquant (soft).")


class Weights(BaseModel):
    """Weights of the objective after coverage (integers, per unit)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nights: int = Field(40, ge=0, description="Par nuit d'écart à la part équitable.")
    weekends: int = Field(40, ge=0, description="Par jour de week-end d'écart à la part équitable.")
    hours: int = Field(2, ge=0, description="Par heure d'écart à la cible contractuelle.")
    requests: int = Field(20, ge=0, description="Par souhait de repos non satisfait (× son poids).")


DEFAULT_SHIFTS: dict[str, Shift] = {
    "M": Shift(label="Matin", start="07:00", end="14:00"),
    "S": Shift(label="Soir", start="14:00", end="21:00"),
    "N": Shift(label="Nuit", start="21:00", end="07:00", night=True),
    "J": Shift(label="Jour 12 h", start="07:00", end="19:00", counts_as=("M", "S")),
    "N12": Shift(label="Nuit 12 h", start="19:00", end="07:00", night=True, counts_as=("N",)),
}


class RosterRules(BaseModel):
    """The rules of one service's roster (see the module docstring for each field)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shifts: dict[str, Shift] = Field(default_factory=lambda: dict(DEFAULT_SHIFTS))
    allow_12h: bool = False
    min_rest_hours: float = Field(11, ge=0, le=48)
    max_consecutive_days: int = Field(5, ge=1, le=13)
    max_hours_7_days: float = Field(48, gt=0, le=168)
    full_time_hours_week: float = Field(35, gt=0, le=60)
    hours_margin_hours: float = Field(7, ge=0, le=100)
    weekends: Weekends = Field(default_factory=Weekends)
    coverage: Coverage = Field(default_factory=Coverage)
    weights: Weights = Field(default_factory=Weights)

    @field_validator("shifts")
    @classmethod
    def _codes(cls, shifts: dict[str, Shift]) -> dict[str, Shift]:
        if not shifts:
            raise ValueError("au moins un poste")
        for code, shift in shifts.items():
            if not code or len(code) > 4 or not code.isalnum():
                raise ValueError(f"code de poste « {code} » : 1 à 4 lettres ou chiffres")
            unknown = [c for c in shift.counts_as if c not in shifts]
            if unknown:
                raise ValueError(f"poste {code} : counts_as inconnu {', '.join(unknown)}")
        return shifts

    def usable(self) -> dict[str, Shift]:
        """The shifts a roster may use: the 12 h ones only when ``allow_12h``."""
        return {c: s for c, s in self.shifts.items() if self.allow_12h or s.minutes < 12 * 60}

    def covers(self, code: str) -> tuple[str, ...]:
        """The demand codes a shift worked under ``code`` counts for (itself first)."""
        return (code, *(c for c in self.shifts[code].counts_as if c != code))


def load_rules(path: Path | None) -> RosterRules:
    """The rules of a YAML (``.yml``/``.yaml``) or JSON file; the defaults when ``path`` is None.

    Raises ``ValueError`` (unreadable file) or ``pydantic.ValidationError`` (a rule out of
    range): the service turns them into French errors naming the file."""
    if path is None:
        return RosterRules()
    text = Path(path).read_text(encoding="utf-8")
    if Path(path).suffix.lower() == ".json":
        data = json.loads(text)
    else:
        import yaml

        data = yaml.safe_load(text)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError("un objet (clé: valeur) est attendu à la racine")
    return RosterRules.model_validate(data)


DEFAULT_RULES_YAML = """\
# Règles du planning (Hopia, hopia roster). Valeurs par défaut : décret n° 2002-9.
shifts:                      # codes de poste ; fin <= début : le lendemain
  M: {label: Matin, start: "07:00", end: "14:00"}
  S: {label: Soir, start: "14:00", end: "21:00"}
  N: {label: Nuit, start: "21:00", end: "07:00", night: true}
  J: {label: Jour 12 h, start: "07:00", end: "19:00", counts_as: [M, S]}
  N12: {label: Nuit 12 h, start: "19:00", end: "07:00", night: true, counts_as: [N]}
allow_12h: false             # postes de 12 h (J, N12) autorisés
min_rest_hours: 11           # repos quotidien minimal entre deux postes
max_consecutive_days: 5      # jours travaillés consécutifs au plus
max_hours_7_days: 48         # heures au plus sur 7 jours glissants
full_time_hours_week: 35     # cible d'un temps plein ; × quotité, hors congés
hours_margin_hours: 7        # dépassement permis de la cible sur la période
weekends: {min_off: 2, cycle_weeks: 6}   # week-ends libres au moins, par cycle de semaines
coverage: {mode: hard, penalty: 10000}   # hard : la demande est un minimum ; soft : pénalité
weights: {nights: 40, weekends: 40, hours: 2, requests: 20}
"""

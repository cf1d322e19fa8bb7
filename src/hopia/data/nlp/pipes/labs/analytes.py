"""The analyte table (``analytes.csv``): French names, LOINC code, units and ranges.

Each row is one analyte or vital sign. ``conversions`` gives, for each accepted unit, the factor
that turns a value in that unit into the canonical unit; ``bare_units`` the units tried, in
order, for a value written without a unit (the first one giving a plausible value wins: this is
how "plaquettes 180 000" becomes 180 G/L). ``plausible_low``/``plausible_high`` reject garbage
(a date, a dose or a score read as a lab value); ``ref_low``/``ref_high`` are the adult
reference range for an unknown sex (the union of the sex-specific ones, noted in ``ref_male`` and
``ref_female``), so a flag is never raised by the sex the pipe cannot see.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

TABLE_FILE = "analytes.csv"


@dataclass(frozen=True, slots=True)
class Analyte:
    key: str
    names: tuple[str, ...]
    loinc: str
    loinc_name: str
    unit: str  # canonical; "" for a dimensionless value (INR, pH)
    conversions: dict[str, float]  # unit -> factor to the canonical unit (canonical included)
    bare_units: tuple[str, ...]
    ref_low: float | None
    ref_high: float | None
    plausible_low: float
    plausible_high: float

    @property
    def display(self) -> str:
        """The usual French name."""
        return self.names[0]

    def plausible(self, value: float) -> bool:
        return self.plausible_low <= value <= self.plausible_high


def _float(text: str) -> float | None:
    return float(text) if text.strip() else None


def _conversions(unit: str, text: str) -> dict[str, float]:
    table = {unit: 1.0}
    for item in filter(None, text.split("|")):
        name, _, factor = item.rpartition(":")
        if not name or not factor:
            raise ValueError(f"{TABLE_FILE}: conversion mal formée {item!r}")
        table[name] = float(factor)
    return table


def _source_text() -> str:
    return files(__package__).joinpath(TABLE_FILE).read_text(encoding="utf-8")


def table_version() -> str:
    """sha256 of the table, so caches built from it can tell when it changed."""
    return hashlib.sha256(_source_text().encode()).hexdigest()


@cache
def load_analytes() -> dict[str, Analyte]:
    """Analytes by key, read once per process from the packaged CSV."""
    out: dict[str, Analyte] = {}
    for line, row in enumerate(csv.DictReader(_source_text().splitlines()), start=2):
        try:
            unit = row["unit"]
            conversions = _conversions(unit, row["conversions"])
            bare = tuple(filter(None, row["bare_units"].split("|")))
            if not unit and not bare:
                bare = ("",)
            unknown = [u for u in bare if u not in conversions]
            if unknown:
                raise ValueError(f"unités sans conversion {unknown}")
            analyte = Analyte(
                key=row["key"],
                names=tuple(n.strip() for n in row["names"].split("|") if n.strip()),
                loinc=row["loinc"],
                loinc_name=row["loinc_name"],
                unit=unit,
                conversions=conversions,
                bare_units=bare,
                ref_low=_float(row["ref_low"]),
                ref_high=_float(row["ref_high"]),
                plausible_low=float(row["plausible_low"]),
                plausible_high=float(row["plausible_high"]),
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{TABLE_FILE}, ligne {line} : {exc}") from exc
        if analyte.key in out:
            raise ValueError(f"{TABLE_FILE}, ligne {line} : clé en double {analyte.key!r}")
        out[analyte.key] = analyte
    return out

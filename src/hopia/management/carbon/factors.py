"""The emission factor table, versioned and shipped with the package.

``factors/factors-<version>.csv`` holds one row per factor (and per GWP method for the gases
whose warming potential depends on the IPCC report chosen): ``factor_id, post, scope,
category, unit, kgco2e_per_unit, uncertainty_pct, method, source, year, note``. Every row names
its source and year; what was not verified says so in ``note``. ``agents-<version>.csv`` holds
the physical data of the anaesthetic agents (molar mass, liquid density, MAC, bottle size, gas
density) that turn bottles, millilitres or litres into kilograms, and a desflurane kilogram
into sevoflurane kilograms at equal MAC-hours.

Examples
--------
>>> table = load_factors()
>>> table.factor("anesthesie.protoxyde_azote", "ar6").kgco2e_per_unit
273.0
"""

from __future__ import annotations

import csv
import difflib
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from hopia.platform.exceptions import InvalidRequestError, NotFoundError

Method = Literal["ar5", "ar6"]
METHODS: tuple[Method, ...] = ("ar5", "ar6")
DEFAULT_VERSION = "2026.1"
DEFAULT_METHOD: Method = "ar5"
METHOD_FR = {"ar5": "GIEC AR5 (PRG100)", "ar6": "GIEC AR6 (PRG100)"}
_FOLDER = "factors"


@dataclass(frozen=True)
class Factor:
    """One emission factor: ``kgco2e_per_unit`` kgCO2e per ``unit``, ``uncertainty_pct`` the
    relative half-width of its 95 % interval."""

    factor_id: str
    post: str
    scope: int
    category: str
    unit: str
    kgco2e_per_unit: float
    uncertainty_pct: float
    method: str  # "" (every method), "ar5" or "ar6"
    source: str
    year: int
    note: str = ""


@dataclass(frozen=True)
class Agent:
    """Physical data of an anaesthetic agent (its ``factor_id`` in the factor table)."""

    factor_id: str
    molar_mass_g_mol: float
    liquid_density_g_ml: float | None
    mac_pct: float
    bottle_ml: float | None
    gas_density_g_l: float | None
    source: str
    year: int
    note: str = ""


@dataclass(frozen=True)
class FactorTable:
    """The factors and agents of one version."""

    version: str
    factors: tuple[Factor, ...]
    agents: dict[str, Agent]

    def ids(self) -> list[str]:
        return sorted({f.factor_id for f in self.factors})

    def for_method(self, method: Method) -> list[Factor]:
        """One row per factor: the method's own where the factor depends on it."""
        return [f for f in self.factors if f.method in ("", method)]

    def factor(self, factor_id: str, method: Method) -> Factor:
        for f in self.factors:
            if f.factor_id == factor_id and f.method in ("", method):
                return f
        raise NotFoundError(
            f"facteur d'émission inconnu : « {factor_id} »{_suggest(factor_id, self.ids())}",
            fields=("post",),
        )

    def resolve(self, post: str) -> str | None:
        """The factor id of ``post``: an id, or a post's French label (case ignored)."""
        wanted = post.strip().casefold()
        for f in self.factors:
            if wanted in (f.factor_id.casefold(), f.post.casefold()):
                return f.factor_id
        return None


def _suggest(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=3, cutoff=0.5)
    return f" (vouliez-vous dire : {', '.join(close)} ?)" if close else ""


def suggest(word: str, known: list[str]) -> str:
    """`` (vouliez-vous dire : …)`` with the closest names, or nothing."""
    return _suggest(word, known)


def versions() -> list[str]:
    """The factor table versions shipped with this Hopia."""
    folder = resources.files(__package__).joinpath(_FOLDER)
    return sorted(
        p.name[len("factors-") : -len(".csv")]
        for p in folder.iterdir()
        if p.name.startswith("factors-") and p.name.endswith(".csv")
    )


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath(_FOLDER, name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _float(value: str) -> float | None:
    return float(value) if value.strip() else None


def load_factors(version: str = DEFAULT_VERSION) -> FactorTable:
    """The factor table ``version`` (:func:`versions` lists them)."""
    if version not in versions():
        raise InvalidRequestError(
            f"version de la table des facteurs inconnue : « {version} » (disponibles : "
            f"{', '.join(versions())})",
            fields=("version",),
        )
    factors = tuple(
        Factor(
            factor_id=r["factor_id"],
            post=r["post"],
            scope=int(r["scope"]),
            category=r["category"],
            unit=r["unit"],
            kgco2e_per_unit=float(r["kgco2e_per_unit"]),
            uncertainty_pct=float(r["uncertainty_pct"]),
            method=r["method"],
            source=r["source"],
            year=int(r["year"]),
            note=r.get("note") or "",
        )
        for r in _rows(f"factors-{version}.csv")
    )
    agents = {
        r["factor_id"]: Agent(
            factor_id=r["factor_id"],
            molar_mass_g_mol=float(r["molar_mass_g_mol"]),
            liquid_density_g_ml=_float(r["liquid_density_g_ml"]),
            mac_pct=float(r["mac_pct"]),
            bottle_ml=_float(r["bottle_ml"]),
            gas_density_g_l=_float(r["gas_density_g_l"]),
            source=r["source"],
            year=int(r["year"]),
            note=r.get("note") or "",
        )
        for r in _rows(f"agents-{version}.csv")
    }
    return FactorTable(version, factors, agents)


def mac_hour_ratio(table: FactorTable, source: str, target: str) -> float:
    """Kilograms of ``target`` agent delivering the MAC-hours of one kilogram of ``source``.

    At the same fresh gas flow, the vapour delivered per hour at 1 MAC is proportional to the
    MAC (volume fraction), so the moles per MAC-hour to the MAC and the mass to MAC × molar
    mass: ``(MAC_t × M_t) / (MAC_s × M_s)`` (desflurane → sevoflurane ≈ 0.40)."""
    try:
        s, t = table.agents[source], table.agents[target]
    except KeyError as exc:
        raise InvalidRequestError(
            f"équivalence en heures-CAM impossible : « {exc.args[0]} » n'est pas un agent "
            f"anesthésique connu ({', '.join(sorted(table.agents))})",
            fields=("scenario",),
        ) from None
    return (t.mac_pct * t.molar_mass_g_mol) / (s.mac_pct * s.molar_mass_g_mol)

"""Units of the activity data, turned into the unit of the post's emission factor.

Same dimension: a scale (``MWh`` → ``kWh``, ``t`` → ``kg``, ``k€`` → ``€``), and for natural
gas the heating value: invoices are in kWh PCS (gross), the factor in kWh PCI (net),
``PCI = 0.901 × PCS`` (ADEME Base Carbone convention for natural gas). An anaesthetic agent's
liquid (``ml``, ``l``, ``flacon``) becomes kilograms by its density; nitrous oxide gas
(``l``, ``m3`` at 0 °C and 1 atm) by its gas density.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hopia.management.carbon.factors import Agent, Factor
from hopia.platform.exceptions import InvalidRequestError

PCS_TO_PCI = 0.901

# name -> (dimension, scale to the dimension's base unit)
_UNITS: dict[str, tuple[str, float]] = {
    "wh": ("énergie", 1e-3),
    "kwh": ("énergie", 1.0),
    "mwh": ("énergie", 1e3),
    "gwh": ("énergie", 1e6),
    "g": ("masse", 1e-3),
    "kg": ("masse", 1.0),
    "t": ("masse", 1e3),
    "tonne": ("masse", 1e3),
    "tonnes": ("masse", 1e3),
    "ml": ("volume", 1e-3),
    "l": ("volume", 1.0),
    "litre": ("volume", 1.0),
    "litres": ("volume", 1.0),
    "hl": ("volume", 100.0),
    "m3": ("volume", 1e3),
    "flacon": ("flacon", 1.0),
    "flacons": ("flacon", 1.0),
    "€": ("monnaie", 1.0),
    "eur": ("monnaie", 1.0),
    "euro": ("monnaie", 1.0),
    "euros": ("monnaie", 1.0),
    "k€": ("monnaie", 1e3),
    "keur": ("monnaie", 1e3),
    "m€": ("monnaie", 1e6),
    "meur": ("monnaie", 1e6),
    "km": ("distance", 1.0),
    "repas": ("repas", 1.0),
}
KNOWN = "Wh, kWh, MWh, GWh (suivis de PCS ou PCI pour un combustible), g, kg, t, ml, l, hl, m3, "
KNOWN += "flacon, €, k€, M€, km, repas"


def UnitError(message: str) -> InvalidRequestError:  # noqa: N802 - reads as the error it makes
    """A unit unknown, or not convertible to the factor's: the French message says which."""
    return InvalidRequestError(message, fields=("unit",))


@dataclass(frozen=True)
class Unit:
    dimension: str
    scale: float
    heating: str | None  # "pcs", "pci" or None


def parse_unit(text: str) -> Unit:
    """``"MWh PCS"`` → energy, 1000, ``"pcs"``; an unknown unit raises :func:`UnitError`."""
    words = re.sub(r"\s+", " ", text.strip().replace("³", "3")).casefold().split(" ")
    heating = None
    if len(words) == 2 and words[1] in ("pcs", "pci"):
        words, heating = words[:1], words[1]
    name = words[0] if len(words) == 1 else None
    if name not in _UNITS:
        raise UnitError(f"unité inconnue : « {text} » (unités reconnues : {KNOWN})")
    dimension, scale = _UNITS[name]
    if heating and dimension != "énergie":
        raise UnitError(f"unité inconnue : « {text} » (PCS et PCI qualifient une énergie)")
    return Unit(dimension, scale, heating)


def to_factor_unit(quantity: float, unit: str, factor: Factor, agent: Agent | None) -> float:
    """``quantity`` ``unit`` expressed in ``factor.unit``; an error (:func:`UnitError`) when
    it cannot be."""
    have, want = parse_unit(unit), parse_unit(factor.unit)
    base = quantity * have.scale
    if have.dimension == want.dimension:
        if want.dimension == "énergie" and have.heating != want.heating:
            if want.heating == "pci" and have.heating == "pcs":
                base *= PCS_TO_PCI
            elif want.heating == "pci":
                raise UnitError(
                    f"précisez le pouvoir calorifique de « {unit} » pour le poste "
                    f"« {factor.post} » : kWh PCS (factures de gaz) ou kWh PCI"
                )
            else:
                raise UnitError(
                    f"« {unit} » : le poste « {factor.post} » attend des {factor.unit} sans "
                    "PCS ni PCI"
                )
        return base / want.scale
    if want.dimension == "masse" and agent is not None:
        if have.dimension == "volume" and agent.gas_density_g_l is not None:
            return base * agent.gas_density_g_l / 1000 / want.scale  # litres of gas -> kg
        if have.dimension == "volume" and agent.liquid_density_g_ml is not None:
            return base * agent.liquid_density_g_ml / want.scale  # g/ml = kg/l
        if (
            have.dimension == "flacon"
            and agent.bottle_ml is not None
            and agent.liquid_density_g_ml is not None
        ):
            return base * agent.bottle_ml / 1000 * agent.liquid_density_g_ml / want.scale
    raise UnitError(
        f"unité « {unit} » incompatible avec le poste « {factor.post} » (unité du facteur : "
        f"{factor.unit}{_also(agent)})"
    )


def _also(agent: Agent | None) -> str:
    if agent is None:
        return ""
    extra = []
    if agent.liquid_density_g_ml is not None:
        extra.append("ml ou l de liquide")
    if agent.bottle_ml is not None:
        extra.append(f"flacon de {agent.bottle_ml:g} ml")
    if agent.gas_density_g_l is not None:
        extra.append("l ou m3 de gaz à 0 °C et 1 atm")
    return " ; acceptées aussi : " + ", ".join(extra) if extra else ""

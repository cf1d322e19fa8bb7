"""What-if scenarios on an inventory, defined as data (YAML).

A scenario is a list of rules applied in order to the inventory's activities. A rule selects
activities by ``post`` (factor id or French label) or ``category``, and either scales them
(``multiplier: 0.8``) or moves a ``share`` (default 1) of them to another factor
(``substitute: <factor id>``) at ``ratio`` units of the new factor per unit of the old, or at
equal MAC-hours (``basis: mac_hours``, anaesthetic agents: :func:`factors.mac_hour_ratio`).
Each activity keeps its origin, so that the comparison with the baseline can carry the
correlations of the same data and factors (:mod:`.footprint`).

Example::

    name: sortie-desflurane
    label: Sortie du desflurane
    rules:
      - post: anesthesie.desflurane
        substitute: anesthesie.sevoflurane
        basis: mac_hours
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from hopia.management.carbon.factors import FactorTable, mac_hour_ratio, suggest
from hopia.management.carbon.footprint import Activity
from hopia.platform.exceptions import InvalidRequestError

_FOLDER = "scenarios"
_RULE_KEYS = {"post", "category", "multiplier", "substitute", "ratio", "basis", "share", "source"}


@dataclass(frozen=True)
class Rule:
    post: str | None
    category: str | None
    multiplier: float | None
    substitute: str | None
    ratio: float | None
    basis: str | None
    share: float
    source: str


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    description: str
    rules: tuple[Rule, ...]


def _error(where: str, message: str) -> InvalidRequestError:
    return InvalidRequestError(f"scénario {where} : {message}", fields=("scenario",))


def shipped() -> list[str]:
    """The names of the scenarios shipped with Hopia."""
    folder = resources.files(__package__).joinpath(_FOLDER)
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _number(where: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _error(where, f"« {key} » doit être un nombre positif")
    return float(value)


def parse_scenario(table: FactorTable, text: str, where: str) -> Scenario:
    """The scenario in the YAML ``text``; its factors are checked against ``table``."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise _error(where, "YAML illisible") from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list) or not data["rules"]:
        raise _error(where, "un document avec une liste « rules » non vide est attendu")
    rules = []
    categories = {f.category for f in table.factors}
    for n, raw in enumerate(data["rules"], 1):
        at = f"{where}, règle {n}"
        if not isinstance(raw, dict):
            raise _error(at, "une règle est un dictionnaire")
        unknown = sorted(set(raw) - _RULE_KEYS)
        if unknown:
            raise _error(at, f"clé(s) inconnue(s) : {', '.join(unknown)}")
        post = raw.get("post")
        if post is not None:
            post = table.resolve(str(post))
            if post is None:
                raise _error(
                    at, f"poste inconnu : « {raw['post']} »{suggest(raw['post'], table.ids())}"
                )
        category = raw.get("category")
        if category is not None and category not in categories:
            raise _error(
                at, f"catégorie inconnue : « {category} »{suggest(category, sorted(categories))}"
            )
        if (post is None) == (category is None):
            raise _error(
                at, "choisir les activités par « post » ou par « category » (l'un des deux)"
            )
        if ("multiplier" in raw) == ("substitute" in raw):
            raise _error(at, "une règle a soit « multiplier », soit « substitute »")
        substitute = raw.get("substitute")
        ratio, basis = raw.get("ratio"), raw.get("basis")
        if substitute is not None:
            substitute = table.resolve(str(substitute))
            if substitute is None:
                raise _error(at, f"facteur de substitution inconnu : « {raw['substitute']} »")
            if (ratio is None) == (basis is None):
                raise _error(at, "une substitution a soit « ratio », soit « basis: mac_hours »")
            if basis is not None and basis != "mac_hours":
                raise _error(at, f"base inconnue : « {basis} » (seule « mac_hours » existe)")
            if basis == "mac_hours" and post is not None:
                try:
                    mac_hour_ratio(table, post, substitute)  # both agents known
                except InvalidRequestError as exc:
                    raise _error(at, exc.message) from None
        share = _number(at, "share", raw.get("share", 1.0))
        if share > 1:
            raise _error(at, "« share » est une part entre 0 et 1")
        rules.append(
            Rule(
                post=post,
                category=category,
                multiplier=(
                    _number(at, "multiplier", raw["multiplier"]) if "multiplier" in raw else None
                ),
                substitute=substitute,
                ratio=_number(at, "ratio", ratio) if ratio is not None else None,
                basis=basis,
                share=share,
                source=str(raw.get("source", "")),
            )
        )
    return Scenario(
        name=str(data.get("name") or Path(where).stem),
        label=str(data.get("label") or data.get("name") or Path(where).stem),
        description=str(data.get("description", "")),
        rules=tuple(rules),
    )


def load_scenario(table: FactorTable, name_or_path: str | Path) -> Scenario:
    """A shipped scenario by name (:func:`shipped`), or a YAML file."""
    name = str(name_or_path)
    if name in shipped():
        text = resources.files(__package__).joinpath(_FOLDER, f"{name}.yaml").read_text("utf-8")
        return parse_scenario(table, text, name)
    path = Path(name)
    if path.suffix.lower() not in (".yml", ".yaml") or not path.is_file():
        raise InvalidRequestError(
            f"scénario inconnu : « {name} » (scénarios fournis : {', '.join(shipped())} ; "
            "ou un fichier YAML)",
            fields=("scenario",),
        )
    return parse_scenario(table, path.read_text(encoding="utf-8"), str(path))


def apply(table: FactorTable, scenario: Scenario, activities: list[Activity]) -> list[Activity]:
    """The activities after every rule of ``scenario``, in order (origins kept)."""
    current = list(activities)
    for rule in scenario.rules:
        changed: list[Activity] = []
        for a in current:
            category = table.factor(a.factor_id, "ar5").category
            hit = a.factor_id == rule.post if rule.post else category == rule.category
            if not hit:
                changed.append(a)
            elif rule.multiplier is not None:
                changed.append(dataclasses.replace(a, amount=a.amount * rule.multiplier))
            else:
                assert rule.substitute is not None
                ratio = (
                    rule.ratio
                    if rule.ratio is not None
                    else mac_hour_ratio(table, a.factor_id, rule.substitute)
                )
                if rule.share < 1:
                    changed.append(dataclasses.replace(a, amount=a.amount * (1 - rule.share)))
                moved = a.amount * rule.share * ratio
                changed.append(dataclasses.replace(a, factor_id=rule.substitute, amount=moved))
        current = changed
    return current

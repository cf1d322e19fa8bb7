"""The activity data of a footprint: one line per post, quantity, unit, period and site.

Two forms, the same contract (docs/management/carbon.md):

- CSV (``;`` or ``,``, UTF-8, a header): ``post;quantity;unit;period;site`` and optionally
  ``uncertainty_pct`` (the activity datum's own 95 % half-width, default 0) and ``comment``.
  A decimal comma is read (``12,5``), as are spaces between thousands.
- YAML: ``site`` and ``period`` as defaults, and ``lines``: a list of mappings with the same
  keys.

``post`` is a factor id (``energie.gaz_naturel``) or a post's French label. ``period`` is a
year (``2025``), a month (``2025-03``) or ``AAAA-MM-JJ/AAAA-MM-JJ``. Every error names the file
and the line, in French.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from hopia.management.carbon.factors import DEFAULT_METHOD, FactorTable, suggest
from hopia.management.carbon.units import to_factor_unit
from hopia.platform.exceptions import InvalidRequestError

REQUIRED = ("post", "quantity", "unit")
COLUMNS = (*REQUIRED, "period", "site", "uncertainty_pct", "comment")


@dataclass(frozen=True)
class InventoryLine:
    """One activity datum, its quantity also in its factor's unit (``amount``)."""

    where: str  # "file, ligne n"
    factor_id: str
    quantity: float
    unit: str
    amount: float  # in the factor's unit
    period: str
    start: date | None
    end: date | None
    site: str
    uncertainty_pct: float = 0.0
    comment: str = ""


@dataclass(frozen=True)
class Inventory:
    name: str
    lines: tuple[InventoryLine, ...]

    def period(self) -> tuple[date | None, date | None]:
        """The span of the lines' periods (None where no line has one)."""
        starts = [line.start for line in self.lines if line.start]
        ends = [line.end for line in self.lines if line.end]
        return (min(starts) if starts else None, max(ends) if ends else None)


def _error(where: str, message: str, field: str = "inventory") -> InvalidRequestError:
    return InvalidRequestError(f"{where} : {message}", fields=(field,))


def parse_period(text: str) -> tuple[date | None, date | None]:
    """``2025`` → the year; ``2025-03`` → the month; ``A/B`` → from A to B inclusive."""
    text = text.strip()
    if not text:
        return None, None
    if re.fullmatch(r"\d{4}", text):
        return date(int(text), 1, 1), date(int(text), 12, 31)
    if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
        y, mo = int(m[1]), int(m[2])
        first = date(y, mo, 1)
        following = date(y + (mo == 12), mo % 12 + 1, 1)
        return first, following - timedelta(days=1)
    if "/" in text:
        a, b = (date.fromisoformat(p.strip()) for p in text.split("/", 1))
        if b < a:
            raise ValueError("fin avant début")
        return a, b
    raise ValueError(text)


def _number(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = re.sub(r"[\s\u00a0\u202f]", "", str(value))
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    return float(text)


def _line(
    table: FactorTable, where: str, raw: dict[str, Any], defaults: dict[str, Any]
) -> InventoryLine:
    values = {**defaults, **{k: v for k, v in raw.items() if v not in (None, "")}}
    unknown = sorted(set(values) - set(COLUMNS))
    if unknown:
        raise _error(where, f"colonne(s) inconnue(s) : {', '.join(unknown)}")
    missing = [c for c in REQUIRED if c not in values]
    if missing:
        raise _error(where, f"valeur obligatoire absente : {', '.join(missing)}")
    post = str(values["post"])
    factor_id = table.resolve(post)
    if factor_id is None:
        known = table.ids() + [f.post for f in table.factors]
        raise _error(where, f"poste inconnu : « {post} »{suggest(post, known)}")
    try:
        quantity = _number(values["quantity"])
    except ValueError:
        raise _error(where, f"quantité illisible : « {values['quantity']} »") from None
    if quantity < 0:
        raise _error(where, "quantité négative")
    try:
        uncertainty = _number(values.get("uncertainty_pct", 0))
    except ValueError:
        raise _error(where, "incertitude illisible (un pourcentage attendu)") from None
    factor = table.factor(factor_id, DEFAULT_METHOD)
    unit = str(values["unit"])
    try:
        amount = to_factor_unit(quantity, unit, factor, table.agents.get(factor_id))
    except InvalidRequestError as exc:
        raise _error(where, exc.message) from None
    period = str(values.get("period", ""))
    try:
        start, end = parse_period(period)
    except ValueError:
        raise _error(
            where,
            f"période illisible : « {period} » (AAAA, AAAA-MM ou AAAA-MM-JJ/AAAA-MM-JJ)",
        ) from None
    return InventoryLine(
        where=where,
        factor_id=factor_id,
        quantity=quantity,
        unit=unit,
        amount=amount,
        period=period,
        start=start,
        end=end,
        site=str(values.get("site", "")),
        uncertainty_pct=uncertainty,
        comment=str(values.get("comment", "")),
    )


def _csv_lines(table: FactorTable, name: str, text: str) -> list[InventoryLine]:
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise _error(f"{name}, ligne 1", f"colonne(s) absente(s) : {', '.join(missing)}")
    lines = []
    for row in reader:
        clean = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if not any(clean.values()):
            continue
        if None in row:
            raise _error(f"{name}, ligne {reader.line_num}", "plus de valeurs que de colonnes")
        lines.append(_line(table, f"{name}, ligne {reader.line_num}", clean, {}))
    return lines


def _yaml_lines(table: FactorTable, name: str, text: str) -> list[InventoryLine]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", ligne {mark.line + 1}" if mark is not None else ""
        raise _error(f"{name}{line}", "YAML illisible") from None
    if not isinstance(data, dict) or not isinstance(data.get("lines"), list):
        raise _error(name, "un document avec une liste « lines » est attendu")
    defaults = {k: data[k] for k in ("site", "period") if k in data}
    items = next(v for k, v in node.value if k.value == "lines").value
    lines = []
    for item, raw in zip(items, data["lines"], strict=True):
        where = f"{name}, ligne {item.start_mark.line + 1}"
        if not isinstance(raw, dict):
            raise _error(where, "une ligne doit être un dictionnaire (post, quantity, unit…)")
        lines.append(_line(table, where, raw, defaults))
    return lines


def read_inventory(table: FactorTable, text: str, name: str) -> Inventory:
    """The inventory in ``text`` (CSV, or YAML when ``name`` ends in .yml/.yaml)."""
    if name.lower().endswith((".yml", ".yaml")):
        lines = _yaml_lines(table, name, text)
    else:
        lines = _csv_lines(table, name, text)
    if not lines:
        raise _error(name, "inventaire vide")
    return Inventory(name, tuple(lines))


def load_inventory(table: FactorTable, path: Path) -> Inventory:
    """The inventory file ``path`` (errors name it as given)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidRequestError(f"{path} : fichier introuvable", fields=("inventory",)) from None
    except UnicodeDecodeError:
        raise _error(str(path), "le fichier doit être en UTF-8") from None
    return read_inventory(table, text, str(path))

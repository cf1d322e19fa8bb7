"""The CSV contract of the stock tool: ``items.csv``, ``movements.csv`` and, optionally,
``orders.csv`` (open purchase orders), read into typed frames or refused with French errors
naming the file, the line and the reason.

Files are UTF-8 (a BOM is accepted), comma- or semicolon-separated (the first line decides); with
``;`` a decimal comma is accepted, as a French spreadsheet writes it. Dates are ``YYYY-MM-DD``.
Columns beyond the contract are kept aside and ignored. Line numbers count the header as line 1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hopia.platform.exceptions import StockDataError

VEN = ("V", "E", "N")
MOVEMENT_TYPES = ("issue", "receipt", "adjustment", "expiry")

ITEM_COLUMNS = (
    "item_id",
    "label",
    "unit",
    "unit_cost",
    "lead_time_days",
    "order_cost",
    "holding_rate",
    "ven",
)
ITEM_OPTIONAL = ("shelf_life_days", "category")
MOVEMENT_COLUMNS = ("date", "item_id", "type", "quantity")
MOVEMENT_OPTIONAL = ("lot", "expiry_date")
ORDER_COLUMNS = ("item_id", "quantity", "expected_date")
ORDER_OPTIONAL = ("order_id", "order_date")

MAX_PROBLEMS = 10  # listed in one error; the rest are counted


class _Problems:
    """Problems found in one file, with their line numbers."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.items: list[tuple[int, str]] = []
        self.total = 0

    def add(self, rows: pd.Index | np.ndarray | list[int], reason: str) -> None:
        rows = list(rows)
        self.total += len(rows)
        for row in rows[:MAX_PROBLEMS]:
            self.items.append((int(row) + 2, reason))

    def add_file(self, reason: str) -> None:
        self.total += 1
        self.items.append((0, reason))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        self.items.sort(key=lambda p: p[0])
        shown = [(f"ligne {line} : {why}" if line else why) for line, why in self.items]
        raise StockDataError(self.name, shown[:MAX_PROBLEMS], max(self.total, len(shown)))


def _read(path: Path, name: str) -> pd.DataFrame:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            head = handle.readline()
    except FileNotFoundError:
        raise StockDataError(name, [f"fichier introuvable ({path})"]) from None
    except UnicodeDecodeError:
        raise StockDataError(name, ["le fichier n'est pas en UTF-8"]) from None
    except IsADirectoryError:
        raise StockDataError(name, [f"{path} est un dossier, pas un fichier CSV"]) from None
    if not head.strip():
        raise StockDataError(name, ["fichier vide (la première ligne doit nommer les colonnes)"])
    sep = ";" if head.count(";") > head.count(",") else ","
    try:
        frame = pd.read_csv(
            path,
            sep=sep,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            skipinitialspace=True,
        )
    except UnicodeDecodeError:
        raise StockDataError(name, ["le fichier n'est pas en UTF-8"]) from None
    except pd.errors.ParserError as exc:
        raise StockDataError(name, [f"CSV illisible ({str(exc).splitlines()[0]})"]) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.attrs["decimal_comma"] = sep == ";"
    return frame.apply(lambda col: col.str.strip())


def _require(frame: pd.DataFrame, columns: tuple[str, ...], problems: _Problems) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        problems.add_file("colonne(s) manquante(s) : " + ", ".join(missing))
        problems.raise_if_any()


def _number(frame: pd.DataFrame, column: str) -> pd.Series:
    text = frame[column]
    if frame.attrs.get("decimal_comma"):
        text = text.str.replace(",", ".", regex=False)
    return pd.to_numeric(text.where(text != "", None), errors="coerce")


def _dates(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_datetime(frame[column], format="%Y-%m-%d", errors="coerce")


def _check_number(
    frame: pd.DataFrame,
    column: str,
    problems: _Problems,
    *,
    low: float | None = None,
    strict: bool = False,
    high: float | None = None,
    integer: bool = False,
    optional: bool = False,
) -> pd.Series:
    values = _number(frame, column)
    blank = frame[column] == ""
    bad = values.isna() & ~(blank & optional)
    if bad.any():
        first = frame.index[bad]
        what = "vide" if blank[first[0]] else f"« {frame[column][first[0]]} » n'est pas un nombre"
        problems.add(first[:1], f"{column} {what}")
        if len(first) > 1:
            problems.add(first[1:], f"{column} manquant ou non numérique")
    ok = values.notna()
    if low is not None:
        below = ok & ((values <= low) if strict else (values < low))
        sign = ">" if strict else "≥"
        problems.add(frame.index[below], f"{column} doit être {sign} {low:g}")
    if high is not None:
        problems.add(frame.index[ok & (values > high)], f"{column} doit être ≤ {high:g}")
    if integer:
        problems.add(frame.index[ok & (values % 1 != 0)], f"{column} doit être un nombre entier")
    return values


def read_items(path: Path | str, name: str = "items.csv") -> pd.DataFrame:
    """The item master: one row per ``item_id`` (unique), typed.

    Returns a frame indexed by nothing, columns ``item_id, label, unit, unit_cost,
    lead_time_days, order_cost, holding_rate, ven, shelf_life_days, category``
    (``shelf_life_days`` NaN when not given, ``category`` empty)."""
    frame = _read(Path(path), name)
    problems = _Problems(name)
    _require(frame, ITEM_COLUMNS, problems)
    if frame.empty:
        problems.add_file("aucun article")
    for column in ("item_id", "label", "unit"):
        problems.add(frame.index[frame[column] == ""], f"{column} vide")
    duplicated = frame["item_id"].duplicated() & (frame["item_id"] != "")
    for row in frame.index[duplicated][:MAX_PROBLEMS]:
        problems.add([row], f"item_id « {frame['item_id'][row]} » déjà déclaré")
    out = frame[["item_id", "label", "unit"]].copy()
    out["unit_cost"] = _check_number(frame, "unit_cost", problems, low=0, strict=True)
    out["lead_time_days"] = _check_number(
        frame, "lead_time_days", problems, low=1, high=365, integer=True
    )
    out["order_cost"] = _check_number(frame, "order_cost", problems, low=0)
    out["holding_rate"] = _check_number(frame, "holding_rate", problems, low=0, strict=True, high=2)
    ven = frame["ven"].str.upper()
    bad_ven = ~ven.isin(VEN)
    for row in frame.index[bad_ven][:MAX_PROBLEMS]:
        problems.add([row], f"ven « {frame['ven'][row]} » n'est pas V, E ou N")
    out["ven"] = ven
    if "shelf_life_days" in frame.columns:
        out["shelf_life_days"] = _check_number(
            frame, "shelf_life_days", problems, low=1, integer=True, optional=True
        )
    else:
        out["shelf_life_days"] = np.nan
    out["category"] = frame["category"] if "category" in frame.columns else ""
    problems.raise_if_any()
    out["lead_time_days"] = out["lead_time_days"].astype(int)
    return out.reset_index(drop=True)


def read_movements(
    path: Path | str, items: pd.DataFrame, name: str = "movements.csv"
) -> pd.DataFrame:
    """Stock movements, typed and sorted by date (stable: the file's order within a day).

    ``quantity`` is positive for ``issue``, ``receipt`` and ``expiry`` (what goes out or comes
    in), signed and non-zero for ``adjustment`` (an inventory count's correction). A receipt of a
    lot with an expiry date says when that lot expires; the same lot received twice must keep
    its date. Adds ``delta``, the signed change of the stock."""
    frame = _read(Path(path), name)
    problems = _Problems(name)
    _require(frame, MOVEMENT_COLUMNS, problems)
    out = pd.DataFrame(index=frame.index)
    out["date"] = _dates(frame, "date")
    bad = out["date"].isna()
    for row in frame.index[bad][:MAX_PROBLEMS]:
        problems.add([row], f"date « {frame['date'][row]} » n'est pas une date AAAA-MM-JJ")
    out["item_id"] = frame["item_id"]
    unknown = ~frame["item_id"].isin(set(items["item_id"]))
    for row in frame.index[unknown][:MAX_PROBLEMS]:
        problems.add([row], f"item_id « {frame['item_id'][row]} » absent de items.csv")
    problems.total += max(0, int(unknown.sum()) - MAX_PROBLEMS)
    kind = frame["type"].str.lower()
    for row in frame.index[~kind.isin(MOVEMENT_TYPES)][:MAX_PROBLEMS]:
        problems.add(
            [row], f"type « {frame['type'][row]} » inconnu (issue, receipt, adjustment, expiry)"
        )
    out["type"] = kind
    quantity = _check_number(frame, "quantity", problems)
    signed = kind == "adjustment"
    problems.add(
        frame.index[quantity.notna() & ~signed & (quantity <= 0)],
        "quantity doit être > 0 (seul un ajustement (adjustment) est signé)",
    )
    problems.add(frame.index[quantity.notna() & signed & (quantity == 0)], "ajustement nul")
    out["quantity"] = quantity
    out["lot"] = frame["lot"] if "lot" in frame.columns else ""
    if "expiry_date" in frame.columns:
        out["expiry_date"] = _dates(frame, "expiry_date")
        bad = out["expiry_date"].isna() & (frame["expiry_date"] != "")
        for row in frame.index[bad][:MAX_PROBLEMS]:
            problems.add(
                [row], f"expiry_date « {frame['expiry_date'][row]} » n'est pas une date AAAA-MM-JJ"
            )
    else:
        out["expiry_date"] = pd.NaT
    dated = out[(out["lot"] != "") & out["expiry_date"].notna()]
    clash = dated.groupby(["item_id", "lot"])["expiry_date"].transform("nunique") > 1
    for row in dated.index[clash][:MAX_PROBLEMS]:
        problems.add([row], f"lot « {out['lot'][row]} » reçu avec deux dates de péremption")
    problems.raise_if_any()
    sign = kind.map({"issue": -1.0, "expiry": -1.0, "receipt": 1.0, "adjustment": 1.0})
    out["delta"] = sign * out["quantity"]
    return out.sort_values("date", kind="stable").reset_index(drop=True)


def read_orders(path: Path | str, items: pd.DataFrame, name: str = "orders.csv") -> pd.DataFrame:
    """Open purchase orders (placed, not yet received): ``item_id, quantity, expected_date``
    (``order_id``, ``order_date`` optional)."""
    frame = _read(Path(path), name)
    problems = _Problems(name)
    _require(frame, ORDER_COLUMNS, problems)
    out = pd.DataFrame({"item_id": frame["item_id"]})
    unknown = ~frame["item_id"].isin(set(items["item_id"]))
    for row in frame.index[unknown][:MAX_PROBLEMS]:
        problems.add([row], f"item_id « {frame['item_id'][row]} » absent de items.csv")
    out["quantity"] = _check_number(frame, "quantity", problems, low=0, strict=True)
    out["expected_date"] = _dates(frame, "expected_date")
    for row in frame.index[out["expected_date"].isna()][:MAX_PROBLEMS]:
        problems.add(
            [row],
            f"expected_date « {frame['expected_date'][row]} » n'est pas une date AAAA-MM-JJ",
        )
    out["order_id"] = frame["order_id"] if "order_id" in frame.columns else ""
    problems.raise_if_any()
    return out.reset_index(drop=True)


def empty_orders() -> pd.DataFrame:
    """No open order."""
    return pd.DataFrame(
        {
            "item_id": pd.Series(dtype=str),
            "quantity": pd.Series(dtype=float),
            "expected_date": pd.Series(dtype="datetime64[ns]"),
            "order_id": pd.Series(dtype=str),
        }
    )

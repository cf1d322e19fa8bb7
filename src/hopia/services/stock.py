"""Purchasing and stock service (``hopia stock``, ``/pilotage/stock``): the stock, the
replenishment policy, the alerts and the backtest of a pharmacy's items, from the CSV files the
manager gives (:mod:`hopia.management.stock.contract`), and a synthetic pharmacy for demos.

Reads ask ``management.read``; the synthetic data, written to a folder, ``management.plan``.
The files hold articles and quantities, no patient: nothing is read from the warehouse and no
audit entry is written. A file that breaks the contract is a French
:class:`~hopia.management.stock.StockDataError` naming the file, the line and the reason.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, Field

from hopia.management import export
from hopia.management.stock import alerts as alerts_mod
from hopia.management.stock import backtest as backtest_mod
from hopia.management.stock import contract, inventory, policy
from hopia.management.stock import synth as synth_mod
from hopia.management.stock.demand import CLASS_FR
from hopia.platform.exceptions import ConflictError, InvalidRequestError
from hopia.services.context import Context, Request
from hopia.services.synth import check_output

READ, PLAN = "management.read", "management.plan"
CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE = export.CSV_MEDIA_TYPE, export.XLSX_MEDIA_TYPE
FILES = ("items.csv", "movements.csv", "orders.csv")
_LEVEL_KEY = re.compile(r"^[VEN][ABC]?$")


def default_folder(ctx: Context) -> Path:
    """Where the web page reads ``items.csv``, ``movements.csv`` (and ``orders.csv``):
    ``<home>/management/stock``."""
    return Path(ctx.settings.home) / "management" / "stock"


class SourceRequest(Request):
    items: Path
    movements: Path
    orders: Path | None = None
    as_of: dt.date | None = None  # default: the day after the last movement
    service_levels: dict[str, float] = Field(default_factory=dict)  # "V": 0.99, "NC": 0.85
    expiry_days: int = Field(90, ge=1, le=730)
    overstock_days: int = Field(180, ge=1, le=3650)

    @classmethod
    def in_folder(cls, folder: Path, **values: Any) -> SourceRequest:
        orders = folder / "orders.csv"
        return cls.of(
            items=folder / "items.csv",
            movements=folder / "movements.csv",
            orders=orders if orders.exists() else None,
            **values,
        )


class BacktestRequest(SourceRequest):
    holdout_months: int = Field(3, ge=1, le=24)


class SynthRequest(Request):
    out: Path
    items: int = Field(200, ge=synth_mod.MIN_ITEMS, le=synth_mod.MAX_ITEMS)
    seed: int = 1
    days: int = Field(730, ge=120, le=1825)
    force: bool = False


class Table(BaseModel):
    """A table as the front ends show and export it: French column headers, rows of cells."""

    name: str
    columns: list[str]
    rows: list[list[Any]]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=self.columns)


class StockResult(BaseModel):
    """What a read returns: the day, counts, and its tables (the first one the main one)."""

    as_of: dt.date
    items: int
    cut: dt.date | None = None  # a backtest's first test day
    counts: dict[str, float] = Field(default_factory=dict)
    tables: list[Table]

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


class SynthResult(BaseModel):
    out: Path
    seed: int
    items: int
    movements: int
    orders: int
    files: list[Path]


# -- reading ----------------------------------------------------------------------------------


def _levels(request: SourceRequest) -> policy.PolicySettings:
    for key, value in request.service_levels.items():
        if not _LEVEL_KEY.match(key):
            raise InvalidRequestError(
                f"niveau de service « {key} » : classe V, E ou N, suivie ou non de A, B ou C "
                "(V, VA, NC…)",
                fields=("service_levels",),
            )
        if not 0.5 <= value < 1:
            raise InvalidRequestError(
                f"niveau de service « {key} » : {value} hors de [0,5 ; 1[",
                fields=("service_levels",),
            )
    return policy.PolicySettings(dict(request.service_levels))


def _load(ctx: Context, request: SourceRequest) -> tuple[pd.DataFrame, ...]:
    settings = _levels(request)
    ctx.authorize(READ, f"stock:{request.items.parent}")
    items = contract.read_items(request.items, request.items.name)
    movements = contract.read_movements(request.movements, items, request.movements.name)
    orders = (
        contract.read_orders(request.orders, items, request.orders.name)
        if request.orders is not None
        else contract.empty_orders()
    )
    as_of = (
        pd.Timestamp(request.as_of)
        if request.as_of is not None
        else inventory.as_of_default(movements)
    )
    return items, movements, orders, as_of, settings  # type: ignore[return-value]


def _table(name: str, frame: pd.DataFrame, columns: dict[str, str]) -> Table:
    shown = frame[list(columns)].rename(columns=columns)
    rows = []
    for record in shown.itertuples(index=False):
        cells = []
        for cell in record:
            if isinstance(cell, pd.Timestamp):
                cell = cell.strftime("%Y-%m-%d")
            elif cell is pd.NaT or (isinstance(cell, float) and pd.isna(cell)):
                cell = None
            elif hasattr(cell, "item"):
                cell = cell.item()
            if isinstance(cell, float):
                cell = round(cell, 4)
            cells.append(cell)
        rows.append(cells)
    return Table(name=name, columns=list(shown.columns), rows=rows)


# -- the reads --------------------------------------------------------------------------------


def status(ctx: Context, request: SourceRequest) -> StockResult:
    """Stock on hand, on order and its value per item, and the stock per lot."""
    items, movements, orders, as_of, _ = _load(ctx, request)
    past = inventory.before(movements, as_of)
    frame = items[["item_id", "label", "unit", "ven", "unit_cost"]].copy()
    frame["on_hand"] = inventory.on_hand(items, past).to_numpy()
    frame["on_order"] = inventory.on_order(items, orders).to_numpy()
    frame["value"] = frame["on_hand"] * frame["unit_cost"]
    lots = inventory.lots(past)
    lots = lots.merge(items[["item_id", "label"]], on="item_id")
    return StockResult(
        as_of=as_of.date(),
        items=len(items),
        counts={
            "valeur_stock": float(frame["value"].sum()),
            "articles_sans_stock": int((frame["on_hand"] <= 0).sum()),
            "lots": len(lots),
        },
        tables=[
            _table(
                "stock",
                frame,
                {
                    "item_id": "article",
                    "label": "libellé",
                    "unit": "unité",
                    "ven": "VEN",
                    "on_hand": "stock",
                    "on_order": "en commande",
                    "unit_cost": "prix unitaire (€)",
                    "value": "valeur (€)",
                },
            ),
            _table(
                "lots",
                lots,
                {
                    "item_id": "article",
                    "label": "libellé",
                    "lot": "lot",
                    "expiry_date": "péremption",
                    "quantity": "quantité",
                },
            ),
        ],
    )


POLICY_COLUMNS = {
    "item_id": "article",
    "label": "libellé",
    "ven": "VEN",
    "abc": "ABC",
    "service_level": "niveau de service visé",
    "annual_value": "consommation annuelle (€)",
    "demand_class": "demande",
    "method": "méthode",
    "params": "paramètres",
    "daily_demand": "consommation / jour",
    "lead_time_days": "délai (j)",
    "lt_demand": "demande pendant le délai",
    "safety_stock": "stock de sécurité",
    "reorder_point": "point de commande",
    "eoq": "quantité économique (Wilson)",
    "order_up_to": "niveau de recomplètement",
}
CELL_COLUMNS = {
    "abc": "ABC",
    "ven": "VEN",
    "items": "articles",
    "service_level": "niveau de service visé",
    "annual_value": "consommation annuelle (€)",
    "safety_value": "stock de sécurité (€)",
}


def _policy_frames(items: pd.DataFrame, plan: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    plan = plan.copy()
    plan["demand_class"] = plan["demand_class"].map(CLASS_FR)
    plan["safety_value"] = plan["safety_stock"] * plan["unit_cost"]
    grid = pd.MultiIndex.from_product([policy.ABC, contract.VEN], names=["abc", "ven"])
    cells = (
        plan.groupby(["abc", "ven"])
        .agg(
            items=("item_id", "size"),
            service_level=("service_level", "mean"),
            annual_value=("annual_value", "sum"),
            safety_value=("safety_value", "sum"),
        )
        .reindex(grid)
        .reset_index()
    )
    cells["items"] = cells["items"].fillna(0).astype(int)
    cells[["annual_value", "safety_value"]] = cells[["annual_value", "safety_value"]].fillna(0.0)
    return plan, cells


def policy_table(ctx: Context, request: SourceRequest) -> StockResult:
    """The policy per item and its summary per ABC × VEN cell."""
    items, movements, _, as_of, settings = _load(ctx, request)
    plan = policy.compute(items, movements, as_of, settings)
    plan, cells = _policy_frames(items, plan)
    missing = cells["service_level"].isna()
    cells.loc[missing, "service_level"] = [
        settings.level(v, a)
        for v, a in zip(cells["ven"][missing], cells["abc"][missing], strict=True)
    ]
    return StockResult(
        as_of=as_of.date(),
        items=len(items),
        counts={"stock_securite_valeur": float(plan["safety_value"].sum())},
        tables=[
            _table("politique", plan, POLICY_COLUMNS),
            _table("classes ABC x VEN", cells, CELL_COLUMNS),
        ],
    )


ALERT_COLUMNS = {
    "level": "niveau",
    "alert": "alerte",
    "item_id": "article",
    "label": "libellé",
    "ven": "VEN",
    "abc": "ABC",
    "on_hand": "stock",
    "on_order": "en commande",
    "quantity": "quantité en cause",
    "order_quantity": "à commander",
    "lot": "lot",
    "expiry_date": "péremption",
    "message": "détail",
}


def alerts(ctx: Context, request: SourceRequest) -> StockResult:
    """The alerts of the day, most urgent first."""
    items, movements, orders, as_of, settings = _load(ctx, request)
    past = inventory.before(movements, as_of)
    plan = policy.compute(items, movements, as_of, settings)
    found = alerts_mod.compute(
        plan,
        inventory.on_hand(items, past),
        inventory.on_order(items, orders),
        inventory.lots(past),
        as_of,
        alerts_mod.AlertSettings(request.expiry_days, request.overstock_days),
    )
    found["alert"] = found["alert"].map(alerts_mod.KIND_FR)
    counts = {level: int((found["level"] == level).sum()) for level in alerts_mod.LEVELS}
    return StockResult(
        as_of=as_of.date(),
        items=len(items),
        counts=counts,
        tables=[_table("alertes", found, ALERT_COLUMNS)],
    )


BACKTEST_CLASS_COLUMNS = {
    "abc": "ABC",
    "ven": "VEN",
    "items": "articles",
    "target": "niveau de service visé",
    "cycles": "cycles",
    "cycle_service": "niveau de service obtenu",
    "fill_rate": "taux de service (quantités)",
    "stockout_days": "jours de rupture",
    "items_short": "articles en rupture",
    "avg_stock_value": "stock moyen (€)",
}
BACKTEST_ITEM_COLUMNS = {
    "item_id": "article",
    "ven": "VEN",
    "abc": "ABC",
    "demand_class": "demande",
    "service_level": "niveau de service visé",
    "cycles": "cycles",
    "cycle_service": "niveau de service obtenu",
    "fill_rate": "taux de service (quantités)",
    "stockout_days": "jours de rupture",
    "avg_stock_value": "stock moyen (€)",
}


def backtest(ctx: Context, request: BacktestRequest) -> StockResult:
    """The policy computed before the last ``holdout_months`` months, simulated on their
    issues: the service level achieved against the target per ABC × VEN cell and per item."""
    items, movements, _, as_of, settings = _load(ctx, request)
    cut = as_of - pd.DateOffset(months=request.holdout_months)
    first = movements["date"].min() if not movements.empty else as_of
    if (cut - first).days < 56:
        raise InvalidRequestError(
            f"historique trop court : moins de 8 semaines avant la période de test "
            f"({request.holdout_months} mois avant le {as_of:%d/%m/%Y})",
            fields=("holdout_months",),
        )
    result = backtest_mod.run(items, movements, cut, as_of, settings)
    per_item = result.items.copy()
    per_item["demand_class"] = per_item["demand_class"].map(CLASS_FR)
    return StockResult(
        as_of=as_of.date(),
        items=len(items),
        cut=cut.date(),
        counts=dict(result.overall),
        tables=[
            _table("backtest par classe", result.classes, BACKTEST_CLASS_COLUMNS),
            _table("backtest par article", per_item, BACKTEST_ITEM_COLUMNS),
        ],
    )


# -- files ------------------------------------------------------------------------------------


def download(result: StockResult, fmt: str, table: str | None = None) -> bytes:
    """One table as CSV (the first one by default), or every table as XLSX sheets."""
    if fmt == "xlsx":
        return export.to_xlsx({t.name: t.frame() for t in result.tables})
    chosen = result.table(table) if table else result.tables[0]
    return export.to_csv(chosen.frame())


def write(ctx: Context, result: StockResult, output: Path) -> Path:
    """Write ``result`` to ``output``: ``.xlsx`` every table, ``.csv`` the main one."""
    suffix = output.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InvalidRequestError(
            f"{output} : extension .csv ou .xlsx attendue", fields=("output",)
        )
    if output.exists() and output.is_dir():
        raise InvalidRequestError(f"{output} est un dossier", fields=("output",))
    output.write_bytes(download(result, suffix[1:]))
    return output


def synth(ctx: Context, request: SynthRequest) -> SynthResult:
    """A synthetic pharmacy (``items.csv``, ``movements.csv``, ``orders.csv``) in ``out``."""
    check_output(request.out, request.force)
    ctx.authorize(PLAN, f"stock:{request.out}")
    made = synth_mod.generate(request.items, request.seed, request.days)
    try:
        paths = made.write(request.out)
    except FileExistsError:
        raise ConflictError(f"le dossier {request.out} n'est pas vide", fields=("out",)) from None
    return SynthResult(
        out=request.out,
        seed=request.seed,
        items=len(made.items),
        movements=len(made.movements),
        orders=len(made.orders),
        files=list(paths.values()),
    )


def parse_levels(values: list[str] | tuple[str, ...]) -> dict[str, float]:
    """``["V=0.99", "NC=85%"]`` as service levels (checked by the reads)."""
    out: dict[str, float] = {}
    for value in values:
        key, sep, number = value.partition("=")
        text = number.strip().replace(",", ".")
        try:
            level = float(text.rstrip("% ")) / (100 if text.endswith("%") else 1)
        except ValueError:
            level = None
        if not sep or level is None:
            raise InvalidRequestError(
                f"niveau de service « {value} » : CLASSE=NIVEAU attendu (V=0.99, NC=85%)",
                fields=("service_levels",),
            )
        out[key.strip().upper()] = level
    return out

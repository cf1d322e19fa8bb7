"""Stock alerts on a day, from the stock, the open orders, the lots and the policy.

- ``rupture``: nothing on hand;
- ``rupture_avant_livraison``: stock + on order below the expected demand over the lead time
  (a stock-out is likely before an order placed now arrives);
- ``sous_point_commande``: the inventory position at or below the reorder point (order
  ``S - position``);
- ``perime``: a lot past its expiry date still in stock;
- ``peremption``: a lot expiring within ``expiry_days``, with the quantity that will expire
  unused at the forecast consumption, lots used first-expiring first (FEFO);
- ``surstock``: on hand above the order-up-to level and covering more than ``overstock_days``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

LEVELS = ("critique", "haute", "moyenne", "basse")
KIND_FR = {
    "rupture": "rupture",
    "rupture_avant_livraison": "rupture avant livraison",
    "sous_point_commande": "sous le point de commande",
    "perime": "lot périmé en stock",
    "peremption": "péremption proche",
    "surstock": "surstock",
}
COLUMNS = [
    "item_id",
    "label",
    "ven",
    "abc",
    "alert",
    "level",
    "on_hand",
    "on_order",
    "quantity",
    "order_quantity",
    "lot",
    "expiry_date",
    "message",
]


@dataclass(frozen=True)
class AlertSettings:
    expiry_days: int = 90
    overstock_days: int = 180


def expiring_at_risk(lots: pd.DataFrame, daily_demand: float, as_of: pd.Timestamp) -> np.ndarray:
    """Per lot of one item (FEFO order), the quantity still there at its expiry date if the
    item is used at ``daily_demand`` per day, first-expiring lot first."""
    used = 0.0
    risk = np.zeros(len(lots))
    for i, (quantity, expiry) in enumerate(zip(lots["quantity"], lots["expiry_date"], strict=True)):
        if pd.isna(expiry):
            continue
        capacity = max(0.0, daily_demand * max((expiry - as_of).days, 0) - used)
        consumed = min(quantity, capacity)
        risk[i] = quantity - consumed
        used += consumed
    return risk


def _fmt(x: float) -> str:
    return f"{x:,.0f}".replace(",", " ")


def compute(
    policy: pd.DataFrame,
    stock: pd.Series,
    ordered: pd.Series,
    lots: pd.DataFrame,
    as_of: pd.Timestamp,
    settings: AlertSettings | None = None,
) -> pd.DataFrame:
    """The alerts, most urgent first (level, then VEN class, then ABC class)."""
    settings = settings or AlertSettings()
    rows: list[dict] = []
    by_item = policy.set_index("item_id")
    lots_by_item = {k: g for k, g in lots.groupby("item_id")} if not lots.empty else {}
    for item_id, p in by_item.iterrows():
        have, coming = float(stock[item_id]), float(ordered[item_id])
        position = have + coming
        vital = p["ven"] == "V"
        base = {
            "item_id": item_id,
            "label": p["label"],
            "ven": p["ven"],
            "abc": p["abc"],
            "on_hand": have,
            "on_order": coming,
            "lot": "",
            "expiry_date": pd.NaT,
            "order_quantity": 0.0,
        }
        gap = max(p["order_up_to"] - position, 0.0) if position <= p["reorder_point"] else 0.0
        demand = p["daily_demand"] > 0
        if have <= 0 and (demand or coming > 0):
            rows.append(
                base
                | {
                    "alert": "rupture",
                    "level": "critique",
                    "quantity": have,
                    "order_quantity": gap,
                    "message": f"aucun stock ; {_fmt(coming)} en commande",
                }
            )
        elif demand and position < p["lt_demand"]:
            rows.append(
                base
                | {
                    "alert": "rupture_avant_livraison",
                    "level": "critique" if vital else "haute",
                    "quantity": p["lt_demand"] - position,
                    "order_quantity": gap,
                    "message": f"stock + commandes ({_fmt(position)}) sous la consommation "
                    f"attendue pendant le délai ({_fmt(p['lt_demand'])} en "
                    f"{p['lead_time_days']} j)",
                }
            )
        elif demand and position <= p["reorder_point"]:
            rows.append(
                base
                | {
                    "alert": "sous_point_commande",
                    "level": "haute" if vital else "moyenne",
                    "quantity": p["reorder_point"] - position,
                    "order_quantity": gap,
                    "message": f"position {_fmt(position)} ≤ point de commande "
                    f"{_fmt(p['reorder_point'])} : commander {_fmt(gap)}",
                }
            )
        if (
            have > p["order_up_to"]
            and p["daily_demand"] * settings.overstock_days < have
            and (demand or have > 0)
        ):
            cover = have / p["daily_demand"] if demand else float("inf")
            cover_txt = f"{cover:.0f} jours" if np.isfinite(cover) else "sans consommation"
            rows.append(
                base
                | {
                    "alert": "surstock",
                    "level": "basse",
                    "quantity": have - p["order_up_to"],
                    "message": f"couverture {cover_txt} (niveau de recomplètement "
                    f"{_fmt(p['order_up_to'])})",
                }
            )
        item_lots = lots_by_item.get(item_id)
        if item_lots is None:
            continue
        risk = expiring_at_risk(item_lots, p["daily_demand"], as_of)
        for (_, lot), at_risk in zip(item_lots.iterrows(), risk, strict=True):
            expiry = lot["expiry_date"]
            if pd.isna(expiry):
                continue
            left = (expiry - as_of).days
            if left < 0:
                kind, level = "perime", "haute"
                message = (
                    f"lot périmé depuis le {expiry:%d/%m/%Y} : {_fmt(lot['quantity'])} à détruire"
                )
                quantity = lot["quantity"]
            elif left <= settings.expiry_days:
                kind = "peremption"
                level = "moyenne" if at_risk > 0 else "basse"
                quantity = at_risk
                message = (
                    f"expire le {expiry:%d/%m/%Y} ({left} j) : {_fmt(at_risk)} sur "
                    f"{_fmt(lot['quantity'])} ne seront pas consommés"
                )
            else:
                continue
            rows.append(
                base
                | {
                    "alert": kind,
                    "level": level,
                    "quantity": quantity,
                    "lot": lot["lot"],
                    "expiry_date": expiry,
                    "message": message,
                }
            )
    out = pd.DataFrame(rows, columns=COLUMNS)
    if out.empty:
        return out
    rank = out["level"].map({k: i for i, k in enumerate(LEVELS)})
    ven = out["ven"].map({"V": 0, "E": 1, "N": 2})
    order = np.lexsort((out["item_id"], out["abc"], ven, rank))
    return out.iloc[order].reset_index(drop=True)

"""The replenishment policy per item: ABC × VEN class, target cycle service level, safety stock,
reorder point, economic order quantity (Wilson) and order-up-to level.

A continuous-review (s, S) policy: when the inventory position (on hand + on order) falls to
the reorder point ``s`` or below, order up to ``S = s + Q``. The reorder point covers the
lead-time demand with the target cycle service level (the probability that a replenishment
cycle has no stock-out), plus the undershoot (the position is reviewed once a day, so it
reaches the reorder point after a day's issues and is on average below it by
``(E[X²] - E[X]) / (2 E[X])``, ``X`` the daily issue when there is one):

- smooth and erratic demand: normal approximation, ``s = μ_L + z · σ_L`` with ``μ_L`` the
  forecast over the lead time and ``σ_L = RMSE · sqrt(L / 7)`` (the one-step weekly forecast
  error, periods independent);
- intermittent and lumpy demand: the empirical quantile of the lead-time demand, the sums of the
  daily issues over every window of ``L`` days of the history (not below ``μ_L``); the normal
  approximation when the history is shorter than two lead times.

References: Silver, Pyke & Thomas, *Inventory and Production Management in Supply Chains*
(4th ed., 2017), ch. 4 (EOQ) and 6 (safety stocks, cycle service level); MSH, *MDS-3: Managing
Access to Medicines and Health Technologies* (2012), ch. 23 (inventory management) and ch. 40
(ABC and VEN analyses).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
import pandas as pd

from hopia.management.stock import demand, inventory

PERIOD_DAYS = 7
ABC_CUTS = (0.80, 0.95)  # A: the first 80 % of the annual value, B: the next 15 %, C: the rest
DEFAULT_SERVICE = {"V": 0.99, "E": 0.95, "N": 0.90}
ABC = ("A", "B", "C")
VEN_FR = {"V": "vital", "E": "essentiel", "N": "non essentiel"}


@dataclass(frozen=True)
class PolicySettings:
    """The choices of the manager.

    ``service_levels``: the target cycle service level per cell, keys ``"V"`` (every ABC class
    of that VEN class) or ``"VA"`` (one cell: VEN then ABC), a cell's key winning over its VEN
    class; the default V 99 %, E 95 %, N 90 % (MSH MDS-3 ch. 23: vital items never short)."""

    service_levels: Mapping[str, float] = field(default_factory=dict)
    abc_cuts: tuple[float, float] = ABC_CUTS

    def level(self, ven: str, abc: str) -> float:
        merged = {**DEFAULT_SERVICE, **self.service_levels}
        return float(merged.get(ven + abc, merged.get(ven, DEFAULT_SERVICE[ven])))


def abc_classes(value: pd.Series, cuts: tuple[float, float] = ABC_CUTS) -> pd.Series:
    """A, B or C by annual consumption value: sorted by value, an item is A while the items
    before it make less than ``cuts[0]`` of the total, B below ``cuts[1]``, C after (the first
    item is always A). No consumption at all: C."""
    order = value.sort_values(ascending=False, kind="stable")
    total = float(order.sum())
    if total <= 0:
        return pd.Series("C", index=value.index)
    before = (order.cumsum() - order) / total
    klass = np.where(before < cuts[0], "A", np.where(before < cuts[1], "B", "C"))
    out = pd.Series(klass, index=order.index)
    out[order <= 0] = "C"
    return out.reindex(value.index)


def safety_factor(level: float) -> float:
    """``z`` such that P(N(0,1) ≤ z) = level."""
    return NormalDist().inv_cdf(level)


def eoq(annual_demand: float, order_cost: float, unit_cost: float, holding_rate: float) -> float:
    """Wilson's economic order quantity ``sqrt(2 D K / (h c))`` (0 without demand)."""
    if annual_demand <= 0:
        return 0.0
    if order_cost <= 0:
        return 1.0
    return math.sqrt(2.0 * annual_demand * order_cost / (holding_rate * unit_cost))


def undershoot(daily: np.ndarray) -> tuple[float, float]:
    """Mean and variance of how far below the reorder point the position is when it is
    reached (reviewed once a day, the day's issues a jump ``X``): the stationary excess of a
    renewal process, mean ``(E[X²] - E[X]) / (2 E[X])`` (integer units), second moment
    ``E[X³] / (3 E[X])``. Zero when every issue is one unit."""
    x = daily[daily > 0]
    if not len(x):
        return 0.0, 0.0
    m1, m2, m3 = x.mean(), (x**2).mean(), (x**3).mean()
    mean = (m2 - m1) / (2 * m1)
    return float(mean), float(max(m3 / (3 * m1) - mean**2, 0.0))


def lead_time_quantile(daily: np.ndarray, lead_time: int, level: float) -> float | None:
    """The ``level`` quantile of the demand over ``lead_time`` consecutive days (every window
    of the history), or None when the history is shorter than two lead times."""
    if len(daily) < 2 * lead_time:
        return None
    cum = np.concatenate([[0.0], np.cumsum(daily)])
    sums = cum[lead_time:] - cum[:-lead_time]
    return float(np.quantile(sums, level, method="higher"))


def compute(
    items: pd.DataFrame,
    movements: pd.DataFrame,
    as_of: pd.Timestamp,
    settings: PolicySettings | None = None,
) -> pd.DataFrame:
    """The policy of every item from the movements before ``as_of``.

    Columns: ``item_id, label, unit, ven, abc, service_level, annual_value, adi, cv2,
    demand_class, method, params, daily_demand, lead_time_days, lt_demand, lt_sigma,
    safety_stock, reorder_point, eoq, order_up_to, unit_cost``."""
    settings = settings or PolicySettings()
    history = inventory.before(movements, as_of)
    start = history["date"].min() if not history.empty else as_of
    days = inventory.daily_issues(items, history, start, as_of)
    weeks = inventory.weekly(days)
    fc = demand.forecast(weeks) if weeks.shape[1] else demand.classify(np.zeros((len(items), 1)))
    for column in ("method", "params", "forecast", "rmse"):
        if column not in fc:
            fc[column] = 0.0 if column in ("forecast", "rmse") else "none"
    out = items[["item_id", "label", "unit", "ven"]].copy().reset_index(drop=True)
    year = days[:, -365:]
    span = max(year.shape[1], 1)
    out["annual_value"] = year.sum(axis=1) * 365.0 / span * items["unit_cost"].to_numpy()
    out["abc"] = abc_classes(out["annual_value"], settings.abc_cuts)
    out["service_level"] = [
        settings.level(v, a) for v, a in zip(out["ven"], out["abc"], strict=True)
    ]
    for column in ("adi", "cv2", "demand_class", "method", "params"):
        out[column] = fc[column].to_numpy()
    rate = fc["forecast"].to_numpy(dtype=float) / PERIOD_DAYS
    out["daily_demand"] = rate
    lead = items["lead_time_days"].to_numpy(dtype=int)
    out["lead_time_days"] = lead
    mu = rate * lead
    sigma = fc["rmse"].to_numpy(dtype=float) * np.sqrt(lead / PERIOD_DAYS)
    out["lt_demand"], out["lt_sigma"] = mu, sigma
    rop = np.zeros(len(items))
    q = np.zeros(len(items))
    for i in range(len(items)):
        klass, level = out["demand_class"].iat[i], out["service_level"].iat[i]
        if klass == "none":
            continue
        over, over_var = undershoot(days[i])
        empirical = None
        if klass in ("intermittent", "lumpy"):
            empirical = lead_time_quantile(days[i], int(lead[i]), level)
        if empirical is not None:
            point = max(empirical, mu[i]) + over
        else:
            point = mu[i] + over + safety_factor(level) * math.sqrt(sigma[i] ** 2 + over_var)
        rop[i] = math.ceil(point - 1e-9)
        row = items.iloc[i]
        q[i] = eoq(rate[i] * 365.0, row["order_cost"], row["unit_cost"], row["holding_rate"])
        shelf = row["shelf_life_days"]
        if not pd.isna(shelf):  # never order more than is used before it expires
            q[i] = min(q[i], rate[i] * float(shelf))
        q[i] = max(1.0, math.ceil(q[i] - 1e-9))
    out["safety_stock"] = np.maximum(rop - mu, 0.0)
    out["reorder_point"] = rop
    out["eoq"] = q
    out["order_up_to"] = rop + q
    out["unit_cost"] = items["unit_cost"].to_numpy()
    return out

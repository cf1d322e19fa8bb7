"""Emissions per activity, totals by post and scope, their uncertainty, and a scenario's delta.

Emissions: ``amount × kgco2e_per_unit`` for each activity (the factor of the chosen GWP method).

Uncertainty, by first-order error propagation (IPCC 2006 Guidelines, vol. 1, ch. 3,
"Approach 1": quadrature) with each percentage read as the relative half-width of a 95 %
interval. Two sources per activity: its factor's uncertainty and the activity datum's own.
A factor's error is the same wherever that factor is used: its contributions are added
linearly within the factor, then in quadrature across factors; likewise an activity datum's
error is shared by what it became in a scenario (its origin). So

``U² = Σ_factors (Σ_i e_i · u_f)² + Σ_origins (Σ_i e_i · u_a)²``

for any set of lines ``i`` of emissions ``e_i``. A scenario's delta is that formula over the
scenario's lines and the baseline's lines with their sign changed: what both share (the same
factor on the same datum) cancels. :func:`monte_carlo` draws the same model (normal errors,
one draw per factor and per origin) to check it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hopia.management.carbon.factors import FactorTable, Method
from hopia.management.carbon.inventory import Inventory

Z95 = 1.959964
LINE_COLUMNS = [
    "origin", "factor_id", "post", "scope", "category", "site", "period", "where",
    "amount", "unit", "factor_kg", "kgco2e", "u_factor", "u_activity",
]  # fmt: skip


@dataclass(frozen=True)
class Activity:
    """An amount of one factor's unit, traced to the inventory line it came from."""

    origin: int
    factor_id: str
    amount: float
    activity_pct: float
    where: str
    site: str
    period: str


@dataclass(frozen=True)
class FixedLine:
    """A line whose emissions come already computed (the assistant's compute footprint)."""

    factor_id: str
    post: str
    scope: int
    category: str
    amount: float
    unit: str
    kgco2e: float
    uncertainty_pct: float
    where: str
    period: str


def activities(inventory: Inventory) -> list[Activity]:
    """One activity per inventory line, its origin the line's rank."""
    return [
        Activity(
            i, line.factor_id, line.amount, line.uncertainty_pct, line.where, line.site, line.period
        )  # fmt: skip
        for i, line in enumerate(inventory.lines)
    ]


def emissions(
    table: FactorTable,
    method: Method,
    items: Iterable[Activity],
    fixed: Iterable[FixedLine] = (),
) -> pd.DataFrame:
    """One row per activity (columns :data:`LINE_COLUMNS`), kgCO2e and relative uncertainties
    (fractions of the 95 % half-width)."""
    rows = []
    for a in items:
        f = table.factor(a.factor_id, method)
        rows.append(
            (
                a.origin,
                f.factor_id,
                f.post,
                f.scope,
                f.category,
                a.site,
                a.period,
                a.where,
                a.amount,
                f.unit,
                f.kgco2e_per_unit,
                a.amount * f.kgco2e_per_unit,
                f.uncertainty_pct / 100,
                a.activity_pct / 100,
            )  # fmt: skip
        )
    for n, x in enumerate(fixed, 1):
        factor = x.kgco2e / x.amount if x.amount else 0.0
        rows.append(
            (
                -n,
                x.factor_id,
                x.post,
                x.scope,
                x.category,
                "",
                x.period,
                x.where,
                x.amount,
                x.unit,
                factor,
                x.kgco2e,
                x.uncertainty_pct / 100,
                0.0,
            )  # fmt: skip
        )
    return pd.DataFrame(rows, columns=LINE_COLUMNS)


def half_width(lines: pd.DataFrame) -> float:
    """The 95 % half-width (kgCO2e) of the sum of ``lines`` (module docstring)."""
    if lines.empty:
        return 0.0
    by_factor = (lines["kgco2e"] * lines["u_factor"]).groupby(lines["factor_id"]).sum()
    by_origin = (lines["kgco2e"] * lines["u_activity"]).groupby(lines["origin"]).sum()
    return float(np.sqrt((by_factor**2).sum() + (by_origin**2).sum()))


@dataclass(frozen=True)
class Summary:
    """Totals in tCO2e: ``by_post`` and ``by_scope`` frames (``tco2e``, ``half_width_t``,
    ``share_pct``), the total and its half-width."""

    lines: pd.DataFrame
    by_post: pd.DataFrame
    by_scope: pd.DataFrame
    total_t: float
    half_width_t: float


def summarize(lines: pd.DataFrame) -> Summary:
    total = float(lines["kgco2e"].sum())
    post_rows = []
    for factor_id, group in lines.groupby("factor_id", sort=False):
        first = group.iloc[0]
        post_rows.append(
            (
                factor_id,
                first.post,
                int(first.scope),
                first.category,
                float(group.amount.sum()),
                first.unit,
                group.kgco2e.sum() / 1000,
                half_width(group) / 1000,
            )  # fmt: skip
        )
    by_post = pd.DataFrame(
        post_rows,
        columns=[
            "factor_id",
            "post",
            "scope",
            "category",
            "amount",
            "unit",
            "tco2e",
            "half_width_t",
        ],  # fmt: skip
    )
    by_post["share_pct"] = 100 * by_post["tco2e"] * 1000 / total if total else 0.0
    by_post = by_post.sort_values(["scope", "tco2e"], ascending=[True, False], ignore_index=True)
    scope_rows = [
        (scope, group.kgco2e.sum() / 1000, half_width(group) / 1000)
        for scope, group in lines.groupby("scope")
    ]
    by_scope = pd.DataFrame(scope_rows, columns=["scope", "tco2e", "half_width_t"])
    by_scope["scope"] = by_scope["scope"].astype(int)
    by_scope["share_pct"] = 100 * by_scope["tco2e"] * 1000 / total if total else 0.0
    return Summary(lines, by_post, by_scope, total / 1000, half_width(lines) / 1000)


def compare(base: pd.DataFrame, scenario: pd.DataFrame) -> pd.DataFrame:
    """Per post (and a last ``total`` row): baseline and scenario tCO2e, the delta and its
    95 % half-width (shared factors and data cancel)."""
    negated = base.assign(kgco2e=-base["kgco2e"])
    both = pd.concat([negated, scenario], ignore_index=True)
    rows = []
    order = list(dict.fromkeys([*base["factor_id"], *scenario["factor_id"]]))
    for factor_id in order:
        b = base[base.factor_id == factor_id]
        s = scenario[scenario.factor_id == factor_id]
        first = (b if len(b) else s).iloc[0]
        rows.append(
            (
                factor_id,
                first.post,
                int(first.scope),
                b.kgco2e.sum() / 1000,
                s.kgco2e.sum() / 1000,
                half_width(both[both.factor_id == factor_id]) / 1000,
            )  # fmt: skip
        )
    rows.append(
        (
            "total",
            "Total",
            0,
            base.kgco2e.sum() / 1000,
            scenario.kgco2e.sum() / 1000,
            half_width(both) / 1000,
        )  # fmt: skip
    )
    frame = pd.DataFrame(
        rows,
        columns=["factor_id", "post", "scope", "baseline_t", "scenario_t", "delta_half_width_t"],
    )
    frame.insert(5, "delta_t", frame["scenario_t"] - frame["baseline_t"])
    frame["delta_pct"] = np.where(
        frame["baseline_t"] != 0,
        100 * frame["delta_t"] / frame["baseline_t"].where(frame["baseline_t"] != 0, 1),
        np.nan,
    )
    return frame


def monte_carlo(lines: pd.DataFrame, draws: int = 20_000, seed: int = 0) -> np.ndarray:
    """``draws`` totals (kgCO2e) of ``lines`` under the same error model, for checking
    :func:`half_width`: one normal draw per factor and per origin, sigma = u / 1.96."""
    rng = np.random.default_rng(seed)
    factors = {f: i for i, f in enumerate(lines["factor_id"].unique())}
    origins = {o: i for i, o in enumerate(lines["origin"].unique())}
    zf = rng.standard_normal((draws, len(factors)))
    za = rng.standard_normal((draws, len(origins)))
    fi = lines["factor_id"].map(factors).to_numpy()
    oi = lines["origin"].map(origins).to_numpy()
    e = lines["kgco2e"].to_numpy()
    uf = lines["u_factor"].to_numpy() / Z95
    ua = lines["u_activity"].to_numpy() / Z95
    return ((1 + zf[:, fi] * uf) * (1 + za[:, oi] * ua) * e).sum(axis=1)

"""A footprint report: the baseline of an inventory, optionally a scenario, as French tables.

:func:`build_report` runs the whole computation; :meth:`CarbonReport.tables` gives the frames a
manager downloads (French headers, tCO2e rounded to the kilogram).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from hopia.management.carbon import footprint as fp
from hopia.management.carbon.factors import METHOD_FR, FactorTable, Method
from hopia.management.carbon.inventory import Inventory
from hopia.management.carbon.scenarios import Scenario, apply

SCOPE_FR = {1: "Scope 1 (émissions directes)", 2: "Scope 2 (énergie achetée)",
            3: "Scope 3 (autres émissions indirectes)"}  # fmt: skip


@dataclass(frozen=True)
class CarbonReport:
    inventory: str
    version: str
    method: Method
    baseline: fp.Summary
    scenario: Scenario | None = None
    scenario_summary: fp.Summary | None = None
    comparison: pd.DataFrame | None = None

    def tables(self, table: FactorTable | None = None) -> dict[str, pd.DataFrame]:
        """French tables, in display order: scopes, posts, lines, the scenario comparison when
        there is one, the factors used when ``table`` is given."""
        out = {
            "Scopes": scopes_table(self.baseline),
            "Postes": posts_table(self.baseline),
            "Lignes": lines_table(self.baseline),
        }
        if self.comparison is not None:
            out["Scénario"] = comparison_table(self.comparison)
        if table is not None:
            out["Facteurs"] = factors_table(table, self.method)
        return out


def build_report(
    table: FactorTable,
    method: Method,
    inventory: Inventory,
    scenario: Scenario | None = None,
    fixed: Sequence[fp.FixedLine] = (),
) -> CarbonReport:
    """The baseline (and the scenario, compared) of ``inventory`` with ``table``'s factors of
    ``method``; ``fixed`` lines (the compute footprint) count in both."""
    items = fp.activities(inventory)
    base = fp.emissions(table, method, items, fixed)
    summary = fp.summarize(base)
    if scenario is None:
        return CarbonReport(inventory.name, table.version, method, summary)
    changed = fp.emissions(table, method, apply(table, scenario, items), fixed)
    return CarbonReport(
        inventory.name,
        table.version,
        method,
        summary,
        scenario,
        fp.summarize(changed),
        fp.compare(base, changed),
    )


def _t(series: pd.Series) -> pd.Series:
    return series.astype(float).round(3)


def scopes_table(s: fp.Summary) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "Scope": [SCOPE_FR.get(int(x), str(x)) for x in s.by_scope["scope"]],
            "Émissions (tCO2e)": _t(s.by_scope["tco2e"]),
            "Incertitude ± (tCO2e, 95 %)": _t(s.by_scope["half_width_t"]),
            "Part (%)": s.by_scope["share_pct"].round(1),
        }
    )
    total = pd.DataFrame(
        {
            "Scope": ["Total"],
            "Émissions (tCO2e)": [round(s.total_t, 3)],
            "Incertitude ± (tCO2e, 95 %)": [round(s.half_width_t, 3)],
            "Part (%)": [100.0 if s.total_t else 0.0],
        }
    )
    return pd.concat([frame, total], ignore_index=True)


def posts_table(s: fp.Summary) -> pd.DataFrame:
    p = s.by_post
    return pd.DataFrame(
        {
            "Scope": p["scope"],
            "Catégorie": p["category"],
            "Poste": p["post"],
            "Identifiant": p["factor_id"],
            "Quantité": p["amount"].round(3),
            "Unité": p["unit"],
            "Émissions (tCO2e)": _t(p["tco2e"]),
            "Incertitude ± (tCO2e, 95 %)": _t(p["half_width_t"]),
            "Part (%)": p["share_pct"].round(2),
        }
    )


def lines_table(s: fp.Summary) -> pd.DataFrame:
    x = s.lines
    return pd.DataFrame(
        {
            "Référence": x["where"],
            "Poste": x["post"],
            "Site": x["site"],
            "Période": x["period"],
            "Quantité": x["amount"].round(4),
            "Unité": x["unit"],
            "Facteur (kgCO2e/unité)": x["factor_kg"],
            "Émissions (kgCO2e)": x["kgco2e"].round(3),
        }
    )


def comparison_table(c: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Poste": c["post"],
            "Référence (tCO2e)": _t(c["baseline_t"]),
            "Scénario (tCO2e)": _t(c["scenario_t"]),
            "Écart (tCO2e)": _t(c["delta_t"]),
            "Incertitude de l'écart ± (tCO2e, 95 %)": _t(c["delta_half_width_t"]),
            "Écart (%)": c["delta_pct"].round(1),
        }
    )


def factors_table(table: FactorTable, method: Method | None = None) -> pd.DataFrame:
    """Every factor (or those of ``method``) with its source, year and note."""
    rows = table.for_method(method) if method else list(table.factors)
    return pd.DataFrame(
        {
            "Identifiant": [f.factor_id for f in rows],
            "Poste": [f.post for f in rows],
            "Scope": [f.scope for f in rows],
            "Catégorie": [f.category for f in rows],
            "Unité": [f.unit for f in rows],
            "kgCO2e par unité": [f.kgco2e_per_unit for f in rows],
            "Incertitude (%)": [f.uncertainty_pct for f in rows],
            "Méthode": [METHOD_FR.get(f.method, "toutes") for f in rows],
            "Source": [f.source for f in rows],
            "Année": [f.year for f in rows],
            "Note": [f.note for f in rows],
        }
    )

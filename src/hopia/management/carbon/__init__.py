"""The carbon footprint of the hospital, BEGES scopes 1–3.

An inventory of activity data (energy invoices, anaesthetic gases, travel, purchases, waste,
meals: :mod:`.inventory`) times a versioned table of emission factors, each citing its source
and year (:mod:`.factors`), gives emissions by scope and post with their uncertainty
(:mod:`.footprint`); scenarios defined as YAML rules change the inventory and are compared to
the baseline (:mod:`.scenarios`); :mod:`.report` assembles it as French tables. Method,
sources and limits: docs/management/carbon.md.

Examples
--------
>>> table = load_factors()
>>> inventory = load_inventory(table, example_inventory())
>>> report = build_report(table, "ar5", inventory, load_scenario(table, "sortie-desflurane"))
>>> round(report.baseline.total_t) > 100_000
True
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from hopia.management.carbon.factors import (
    DEFAULT_METHOD,
    DEFAULT_VERSION,
    METHOD_FR,
    METHODS,
    Agent,
    Factor,
    FactorTable,
    Method,
    load_factors,
    mac_hour_ratio,
    versions,
)
from hopia.management.carbon.footprint import Activity, FixedLine, Summary
from hopia.management.carbon.inventory import (
    Inventory,
    InventoryLine,
    load_inventory,
    read_inventory,
)
from hopia.management.carbon.report import CarbonReport, build_report, factors_table
from hopia.management.carbon.scenarios import Scenario, load_scenario, shipped

EXAMPLE = "chu-1000-lits.csv"


def example_inventory() -> Path:
    """The illustrative inventory of a fictional 1,000-bed CHU (shipped with the package)."""
    return Path(str(resources.files(__package__).joinpath("examples", EXAMPLE)))


__all__ = [
    "DEFAULT_METHOD", "DEFAULT_VERSION", "METHODS", "METHOD_FR", "Activity", "Agent",
    "CarbonReport", "Factor", "FactorTable", "FixedLine", "Inventory", "InventoryLine", "Method",
    "Scenario", "Summary", "build_report", "example_inventory", "factors_table",
    "load_factors", "load_inventory", "load_scenario", "mac_hour_ratio", "read_inventory",
    "shipped", "versions",
]  # fmt: skip

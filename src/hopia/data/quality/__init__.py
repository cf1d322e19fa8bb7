"""Data quality: a declarative check catalogue after the OHDSI Data Quality Dashboard (Kahn
categories: conformance, completeness, plausibility), its runner, run history and reports, and
the NLP enrichment report.

>>> from hopia.data.quality import load_catalogue, run_checks
>>> wh = Warehouse(settings.resolved_warehouse_url())  # doctest: +SKIP
>>> run = run_checks(wh, load_catalogue())  # doctest: +SKIP
"""

from __future__ import annotations

from hopia.data.quality.catalogue import Catalogue, load_catalogue
from hopia.data.quality.history import previous_results, run_history, save_run
from hopia.data.quality.model import Check, CheckResult, CheckType, QualityRun, Status
from hopia.data.quality.runner import run_checks

__all__ = [
    "Catalogue",
    "Check",
    "CheckResult",
    "CheckType",
    "QualityRun",
    "Status",
    "load_catalogue",
    "previous_results",
    "run_checks",
    "run_history",
    "save_run",
]

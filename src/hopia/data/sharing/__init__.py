"""Sharing: export a cohort as OMOP CDM (CSV, Parquet) or FHIR R4B bundles, pseudonymised,
k-anonymous and l-diverse on its quasi-identifiers. See ``docs/sharing.md``.

Only the research space (schema ``omop``) is read; ``hopia_id`` and ``hopia_vault`` never are.
"""

from __future__ import annotations

from hopia.data.sharing.anonymity import AnonymisationPlan, AnonymityReport, plan
from hopia.data.sharing.persons import Selection, cohort_person_ids, file_person_ids, select_persons
from hopia.data.sharing.prepare import export_person_ids
from hopia.data.sharing.release import EXPORT_FORMATS, ExportResult, ShareOptions, check, export

__all__ = [
    "EXPORT_FORMATS",
    "AnonymisationPlan",
    "AnonymityReport",
    "ExportResult",
    "Selection",
    "ShareOptions",
    "check",
    "cohort_person_ids",
    "export",
    "export_person_ids",
    "file_person_ids",
    "plan",
    "select_persons",
]

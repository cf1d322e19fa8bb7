"""Value objects of the quality module: check types, checks, results, runs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Level(StrEnum):
    TABLE = "TABLE"
    FIELD = "FIELD"
    CONCEPT = "CONCEPT"


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"


STATUS_FR = {
    Status.PASSED: "conforme",
    Status.FAILED: "non conforme",
    Status.NOT_APPLICABLE: "sans objet",
    Status.ERROR: "erreur",
}
# Kahn's categories and Hopia's coverage of a DQD check type, in French, for reports and screens.
KAHN_FR = {
    "Conformance": "Conformité",
    "Completeness": "Complétude",
    "Plausibility": "Plausibilité",
    "Verification": "Vérification",
    "Validation": "Validation",
    "Relational": "relationnelle",
    "Value": "valeur",
    "Computational": "calcul",
    "Temporal": "temporelle",
    "Atemporal": "atemporelle",
}
COVERAGE_FR = {"covered": "couvert", "adapted": "couvert, adapté"}


class CheckType(BaseModel):
    """One of the 27 DQD check types, with its Kahn classification and Hopia's coverage."""

    model_config = ConfigDict(frozen=True)

    name: str
    level: Level
    kahn_context: str
    kahn_category: str
    kahn_subcategory: str | None
    severity: str
    coverage: str  # covered | adapted
    description: str
    concept_description: str | None = None  # concept-level variant of a field-level type
    note: str | None = None


class CodeSelector(BaseModel):
    """Concepts picked by vocabulary and code prefix (Hopia's local CIM-10 concepts)."""

    model_config = ConfigDict(frozen=True)

    vocabulary: str
    prefixes: tuple[str, ...]


class Check(BaseModel):
    """One executable check: a check type applied to a table, field and maybe concepts."""

    model_config = ConfigDict(frozen=True)

    check_id: str
    check_type: str
    level: Level
    table: str
    field: str | None = None
    threshold: float = 0.0  # percent of rows allowed to fail, as in DQD
    argument: str | None = None
    concept_ids: tuple[int, ...] = ()
    unit_concept_id: int | None = None
    codes: CodeSelector | None = None
    source_value: str | None = None  # analyte selected by measurement_source_value
    unit_source_value: str | None = None
    name: str | None = None  # concept or analyte name, for people
    origin: str  # schema | dqd | hopia


class CheckResult(BaseModel):
    check_id: str
    check_type: str
    level: Level
    table: str
    field: str | None
    kahn_context: str
    kahn_category: str
    kahn_subcategory: str | None
    severity: str
    description: str
    status: Status
    num_violated: int = 0
    num_denominator: int = 0
    pct_violated: float = 0.0  # percent
    threshold: float
    detail: str | None = None  # why not applicable, or the error
    duration_ms: float = 0.0
    origin: str


class QualityRun(BaseModel):
    run_id: int | None = None
    started_at: datetime
    finished_at: datetime
    dialect: str
    catalogue_version: str
    results: list[CheckResult] = Field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

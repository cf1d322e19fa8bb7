"""Job submissions as the API takes them: an ingest's uploaded files, a quality run, an export.

What runs is :mod:`hopia.services.job_kinds`; these bodies only say it in the API's terms. An
export names a saved cohort definition (``/api/v1/cohorts``), never a file of the server."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hopia.services.cohort_library import NAME_PATTERN
from hopia.services.jobs import JobView
from hopia.services.sharing import ExportFormat, QuasiIdentifier
from hopia.services.uploads import StoredUpload


class UploadOut(BaseModel):
    job: JobView
    """The ingest job, queued."""
    files: list[StoredUpload]
    """What was stored, under the names the ingest reports will use."""


class QualityRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tables: list[str] = Field(default_factory=list, description="OMOP tables; all when empty.")
    check_types: list[str] = Field(
        default_factory=list, description="DQD check types; all when empty."
    )
    history: bool = Field(True, description="Record the run for the trend.")
    enrichment: bool = Field(True, description="Add the NLP enrichment report.")


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cohort: str = Field(
        pattern=NAME_PATTERN,
        description="A saved cohort definition (its name): its members are exported.",
        examples=["ic_api"],
    )
    format: ExportFormat
    reason: str = Field(
        description="Why the data leave the warehouse (audited with the export).",
        examples=["étude IC 2026, protocole validé par le CSE"],
    )
    with_notes: bool = False
    dates: Literal["jour", "mois", "annee"] = "jour"
    per_bundle: int = Field(1, ge=1, le=10_000)
    k: int | None = Field(None, ge=1, le=1000)
    l: int | None = Field(None, ge=1, le=100)  # noqa: E741 - the l of l-diversity
    max_suppression: float | None = Field(None, ge=0.0, lt=1.0)
    reference_date: date | None = None
    age_band: Literal[5, 10, 20] | None = None
    geography: Literal["departement", "region"] | None = None
    drop: list[QuasiIdentifier] = Field(default_factory=list)

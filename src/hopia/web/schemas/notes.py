"""Re-identification and quality, as the API shows them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hopia.platform.times import UtcDatetime


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(examples=["demande du DIM, dossier 2026-117"])


class Reidentified(BaseModel):
    note_id: int
    person_id: int | None
    text: str | None
    restored: int
    missing: int
    audit_id: int


class QualityRun(BaseModel):
    run_id: int
    started_at: UtcDatetime
    catalogue_version: str
    checks: int
    passed: int
    failed: int
    not_applicable: int
    errors: int

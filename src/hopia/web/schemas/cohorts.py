"""Cohort definitions and runs as the API shows them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class DefinitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    definition: dict[str, Any] = Field(
        description="A cohort definition (docs/cohorts.md), as the YAML file's mapping.",
        examples=[
            {
                "name": "ic_api",
                "title": "Insuffisance cardiaque",
                "inclusion": [{"label": "IC", "condition": {"cim10": ["I50"]}}],
            }
        ],
    )


class DefinitionOut(BaseModel):
    name: str
    version: str
    title: str
    description: str
    sha256: str
    definition: dict[str, Any]


class CheckOut(BaseModel):
    name: str
    version: str
    sha256: str
    steps: list[str]


class RunOut(BaseModel):
    audit_id: int
    results: dict[str, Any]
    """Attrition and characterisation, small cells suppressed (as results.json)."""


class DeletedOut(BaseModel):
    name: str
    sha256: str | None = Field(description="Hash of the definition removed (None: unreadable).")
    audit_id: int

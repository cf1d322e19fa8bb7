"""The error body every API answer shares (RFC 9457 shape), for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Problem(BaseModel):
    status: int = Field(examples=[403])
    code: str = Field(
        description="Stable machine code (``access_denied``, ``reason_required``, …).",
        examples=["access_denied"],
    )
    message: str = Field(
        description="What went wrong, in French, for the person who acts on it.",
        examples=["action « cohort.run » non autorisée pour votre rôle (manager)"],
    )
    fields: list[str] = Field(description="Request fields concerned.", examples=[["reason"]])
    details: dict[str, Any] = Field(description="Figures that explain it; never patient data.")


def _doc(text: str) -> dict[str, Any]:
    return {"model": Problem, "description": text}


PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: _doc("No live session (log in at /api/v1/auth/login)."),
    403: _doc("The role, or the perimeter, does not allow it; the refusal is audited."),
    404: _doc("Nothing by that identifier."),
    422: _doc("A field is missing or wrong (a reason too short, a bad definition…)."),
    409: _doc("In conflict with the current state (the last admin, a job already over…)."),
}
"""The answers every authenticated route may give, declared once per router."""

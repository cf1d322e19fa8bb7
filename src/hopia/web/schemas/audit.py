"""The audit log's check, as the API shows it."""

from __future__ import annotations

from pydantic import BaseModel


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    head_id: int | None
    broken_at: int | None
    problem: str | None
    """In French: where and how the chain or its checkpoint breaks."""

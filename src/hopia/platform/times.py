"""Times as Hopia shows them: UTC, with the offset said.

The warehouse keeps naive UTC times (DuckDB and PostgreSQL alike, written by ``utcnow()``).
A model that a front end serves declares its times :data:`UtcDatetime`, so they go out as
``2026-12-07T03:09:19.129649Z``-style RFC 3339 values (what the OpenAPI ``date-time`` format
means, and what a browser reads without guessing the zone)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def as_utc(value: datetime) -> datetime:
    """A naive time is UTC (the warehouse's); an aware one is converted to UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]

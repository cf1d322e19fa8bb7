"""What every reader produces and the contract it follows.

A reader turns one source file into :class:`RawDocument` objects. It never writes anything: the
ingest pipeline (``hopia.data.ingest.pipeline``) does, transactionally. A file that cannot be read
raises :class:`~hopia.platform.exceptions.IngestError` naming the file and the reason (in French,
for the people who run ingest); the pipeline records it and goes on with the batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class PatientIdentity:
    """What the structured source says about the patient (identified space only)."""

    ipp: str
    family_name: str | None = None
    given_name: str | None = None
    birth_date: date | None = None
    sex: str | None = None  # "M" | "F" | None
    nir: str | None = None
    address: str | None = None
    zip: str | None = None
    city: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class RawDocument:
    """One clinical document as read from its source, before any processing."""

    text: str
    source_path: str
    source_ref: str  # source_path, or source_path#<locator> when a file holds several documents
    format: str  # text | pdf | docx | hl7v2 | fhir | jsonl
    external_id: str | None = None
    patient: PatientIdentity | None = None
    ipp: str | None = None  # when only the identifier is known (JSONL "patient_id")
    doc_date: date | None = None
    doc_type: str | None = None
    staff: tuple[str, ...] = field(
        default_factory=tuple
    )  # clinicians' names when the source has them
    # The hospital stay the document belongs to, when the source names it: its number (NDA,
    # an identifier: the pipeline only writes a keyed hash of it to the research space), its
    # admission and discharge dates, and the service (care unit) in charge.
    visit_id: str | None = None
    visit_start: date | None = None
    visit_end: date | None = None
    service: str | None = None

    @property
    def patient_ipp(self) -> str | None:
        return self.patient.ipp if self.patient else self.ipp


@dataclass(frozen=True)
class ReadFailure:
    """A document inside a multi-document file that could not be read (e.g. a broken JSONL line)."""

    source_path: str
    source_ref: str
    format: str
    reason: str
    raw: bytes = b""


@runtime_checkable
class Reader(Protocol):
    """Reads one file. ``read`` raises ``IngestError`` if the whole file is unreadable and yields
    ``ReadFailure`` for a single bad record inside an otherwise readable file."""

    format: str
    suffixes: tuple[str, ...]

    def read(self, path: Path) -> Iterator[RawDocument | ReadFailure]: ...

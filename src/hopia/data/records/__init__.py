"""The records that travel between the stages of axis 1, below all of them.

A reader (``hopia.data.ingest``) produces :class:`RawDocument` and :class:`ReadFailure`; the
pseudonymiser (``hopia.data.pseudo``) reads :class:`PatientIdentity`; the synthetic generator
writes them and the gold PHI labels of :data:`PHI_LABELS`. Defining them here, rather than in
the first stage that used them, keeps the data axis one-way: every stage imports this module,
this module imports no stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

PHI_LABELS: tuple[str, ...] = (
    "NOM",
    "PRENOM",
    "DATE",
    "DATE_NAISSANCE",
    "ADRESSE",
    "VILLE",
    "ZIP",
    "TEL",
    "MAIL",
    "SECU",
    "IPP",
    "NDA",
    "HOPITAL",
)
"""The 13 PHI labels (eds-pseudo's), shared by the pseudonymiser, the generator's gold and the
``pseudo run`` contract."""


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
class StatedIdentity:
    """What a document's own text says about its patient (its header), not yet matched against
    the registry: an IPP, or name words and a birth date, or both."""

    ipp: str | None = None
    names: tuple[str, ...] = ()  # name words as written, in order ("Marie", "DUPONT")
    family_name: str | None = None  # when the case tells family from given name
    given_name: str | None = None
    birth_date: date | None = None
    sex: str | None = None


@dataclass(frozen=True)
class OcrPage:
    """One page read by OCR: its mean word confidence (0-100) and whether it is below the
    installation's threshold (a page to check by eye)."""

    page: int  # 1-based
    confidence: float
    low: bool


@dataclass(frozen=True)
class RawDocument:
    """One clinical document as read from its source, before any processing."""

    text: str
    source_path: str
    source_ref: str  # source_path, or source_path#<locator> when a file holds several documents
    format: str  # text | pdf | docx | image | hl7v2 | fhir | jsonl
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
    # What the text's header states about the patient, for documents without a structured one
    # (PDF, DOCX, text, scans); the ingest matches it against the registry.
    stated: StatedIdentity | None = None
    # Pages read by OCR (scans), with their confidence; empty for a text layer.
    ocr: tuple[OcrPage, ...] = ()

    @property
    def ocr_confidence(self) -> float | None:
        """Mean OCR confidence over the pages read by OCR, None when none was."""
        if not self.ocr:
            return None
        return sum(p.confidence for p in self.ocr) / len(self.ocr)

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


def merge_identity(base: PatientIdentity | None, new: PatientIdentity) -> PatientIdentity:
    """``base`` completed and corrected by what ``new`` states (its non-empty fields)."""
    if base is None:
        return new
    known = {k: getattr(new, k) for k in PatientIdentity.__dataclass_fields__}
    return replace(base, **{k: v for k, v in known.items() if v is not None})

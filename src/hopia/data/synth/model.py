"""The synthetic CHU's objects: clinicians, patients, visits, documents and the corpus."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .scenarios import Episode


@dataclass(frozen=True)
class Clinician:
    """A physician (or other professional) who signs or is named in documents."""

    given: str
    family: str  # display form, e.g. "Lefèvre"
    title: str  # "Dr" or "Pr"
    role: str  # e.g. "Praticien hospitalier"
    service: str
    city: str | None = None  # for general practitioners


@dataclass
class SynthPatient:
    """A patient: the identity Hopia knows (PatientIdentity fields) and their clinical story."""

    ipp: str
    family_name: str  # birth name, upper case without accents (as the identity server stores it)
    given_name: str
    birth_date: date
    sex: str
    nir: str
    address: str
    zip: str
    city: str
    phone: str
    email: str | None
    # What documents say beyond the identity.
    family_display: str  # birth name with accents, e.g. "Lefèvre"
    usage_name: str | None  # married name some women are called by
    birth_dept: str
    profile: str
    height: float
    weight: float
    conditions: list[str] = field(default_factory=list)
    onset: dict[str, date] = field(default_factory=dict)
    treatments: list[tuple[str, int]] = field(default_factory=list)  # (drug key, posology idx)
    family_history: list[tuple[str, str]] = field(default_factory=list)  # (relative, dx key)
    family_negative: str | None = None  # dx key of a negated family history
    surgeries: list[tuple[str, int]] = field(default_factory=list)
    tobacco: str = "non"  # actif | sevre | non
    pack_years: int = 0
    alcohol: str = "non"  # non | sevre | chronique
    allergy: str | None = None
    job: str = ""
    living: str = ""
    nursing_home: str | None = None  # EHPAD the patient lives in, if any
    gp: Clinician | None = None
    trusted: tuple[str, str, str, str] | None = None  # relation, given, family, phone
    events: list[tuple[date, str, str]] = field(default_factory=list)  # (date, service, dx key)

    def identity(self) -> dict[str, Any]:
        """The PatientIdentity fields, JSON-ready, in the declared order."""
        return {
            "ipp": self.ipp,
            "family_name": self.family_name,
            "given_name": self.given_name,
            "birth_date": self.birth_date.isoformat(),
            "sex": self.sex,
            "nir": self.nir,
            "address": self.address,
            "zip": self.zip,
            "city": self.city,
            "phone": self.phone,
            "email": self.email,
        }

    @property
    def female(self) -> bool:
        return self.sex == "F"

    def age_at(self, when: date) -> int:
        years = when.year - self.birth_date.year
        return years - ((when.month, when.day) < (self.birth_date.month, self.birth_date.day))


@dataclass
class Visit:
    """A stay or an appointment: one NDA, one service, one reason."""

    nda: str
    service: str
    kind: str  # hospitalisation | consultation | chirurgie | urgences
    start: date
    end: date
    physician: Clinician
    episode: Episode | None = None
    follow: str | None = None  # chronic condition followed (consultations)
    via_urgences: bool = False
    labs: dict[str, float] = field(default_factory=dict)
    labs_control: dict[str, float] = field(default_factory=dict)
    vitals: dict[str, float] = field(default_factory=dict)
    discharge_drugs: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class SynthDocument:
    """A document and its gold annotations."""

    id: str
    text: str
    patient_id: str
    date: date
    type: str
    service: str
    phi: list[dict[str, Any]]
    facts: list[dict[str, Any]]
    nda: str = ""  # the stay number of the visit the document belongs to
    author: Clinician | None = None
    visit_start: date | None = None  # admission and discharge of that visit
    visit_end: date | None = None

    def record(self) -> dict[str, Any]:
        """The documents.jsonl line (Hopia's JSONL ingest contract, stay fields included)."""
        return {
            "id": self.id,
            "text": self.text,
            "patient_id": self.patient_id,
            "date": self.date.isoformat(),
            "type": self.type,
            "visit_id": self.nda or None,
            "visit_start": self.visit_start.isoformat() if self.visit_start else None,
            "visit_end": self.visit_end.isoformat() if self.visit_end else None,
            "service": self.service,
        }

    def gold(self) -> dict[str, Any]:
        """The gold.jsonl line."""
        return {"id": self.id, "phi": self.phi, "facts": self.facts}


@dataclass(frozen=True)
class Rendition:
    """A document written under files/ in another format instead of documents.jsonl."""

    document: SynthDocument
    format: str  # pdf | docx | hl7 | fhir
    path: str  # relative to the output folder


@dataclass
class SynthCorpus:
    """What :func:`~hopia.data.synth.generate` returns."""

    seed: int
    patients: list[SynthPatient]
    documents: list[SynthDocument]  # written to documents.jsonl (with their gold)
    renditions: list[Rendition] = field(default_factory=list)  # written under files/ instead

    @property
    def gold(self) -> list[dict[str, Any]]:
        """Gold annotations of ``documents`` (renditions have none)."""
        return [d.gold() for d in self.documents]

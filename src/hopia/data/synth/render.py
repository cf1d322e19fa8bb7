"""Render documents as PDF, DOCX, HL7 v2.5 MDM^T02 messages and FHIR R4 bundles.

Every rendition is deterministic (fixed timestamps, normalised ZIP entries, name-based UUIDs), so
the same seed gives byte-identical files. FHIR resources are validated with ``fhir.resources.R4B``
(fhir.resources 8.x's root package is R5; R4B shares R4's Patient and DocumentReference shapes).
"""

from __future__ import annotations

import base64
import io
import json
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .model import SynthDocument, SynthPatient

# LOINC document types, for FHIR DocumentReference.type.
DOC_TYPES: dict[str, tuple[str, str, str]] = {
    "CRH": ("34133-9", "Summary of episode note", "Compte rendu d'hospitalisation"),
    "consultation": ("11488-4", "Consult note", "Compte rendu de consultation"),
    "CRO": ("11504-8", "Surgical operation note", "Compte rendu opératoire"),
    "ordonnance": ("57833-6", "Prescription for medication", "Ordonnance"),
    "biologie": ("11502-2", "Laboratory report", "Compte rendu de biologie"),
    "urgences": ("34111-5", "Emergency department note", "Compte rendu de passage aux urgences"),
}
_NAMESPACE = uuid.UUID("6f1c3c1e-5b7a-4c55-9a43-2f0d8e7b1a11")
_LATIN1_FALLBACK = str.maketrans(
    {"œ": "oe", "Œ": "OE", "’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"}
    | {"…": "...", "≥": ">=", "≤": "<="}
)
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def latin1(text: str) -> str:
    """What the PDF shows: core fonts are latin-1, so "œ" becomes "oe" (gold is JSONL-only)."""
    return text.translate(_LATIN1_FALLBACK).encode("latin-1", "replace").decode("latin-1")


def _is_title(line: str) -> bool:
    return line.endswith(" :") and len(line) < 70


def _utc(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 9, 0, tzinfo=UTC)


def to_pdf(doc: SynthDocument) -> bytes:
    """A4 PDF, Helvetica 10 pt, section titles in bold."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(_utc(doc.date))
    pdf.set_title(f"{doc.type} {doc.id}")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    for line in latin1(doc.text).rstrip("\n").split("\n"):
        if not line:
            pdf.ln(5)
            continue
        pdf.set_font("Helvetica", style="B" if _is_title(line) else "", size=10)
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite a ZIP with fixed entry timestamps: python-docx stamps entries with the clock."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_EPOCH)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def to_docx(doc: SynthDocument) -> bytes:
    """One paragraph per line; section titles in bold."""
    import docx

    document = docx.Document()
    props = document.core_properties
    stamp = _utc(doc.date).replace(tzinfo=None)
    props.author, props.last_modified_by, props.title = "Hopia synth", "Hopia synth", doc.type
    props.created, props.modified, props.revision = stamp, stamp, 1
    for line in doc.text.rstrip("\n").split("\n"):
        paragraph = document.add_paragraph()
        if line:
            paragraph.add_run(line).bold = _is_title(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return _normalise_zip(buffer.getvalue())


def hl7_escape(value: str) -> str:
    """HL7 v2 escaping; the escape character itself first."""
    return (
        value.replace("\\", "\\E\\")
        .replace("|", "\\F\\")
        .replace("^", "\\S\\")
        .replace("&", "\\T\\")
        .replace("~", "\\R\\")
    )


def _fields(name: str, values: dict[int, str]) -> str:
    last = max(values)
    return "|".join([name, *(values.get(i, "") for i in range(1, last + 1))])


def to_hl7(doc: SynthDocument, patient: SynthPatient) -> str:
    """An MDM^T02 message (segments separated by ``\\r``), one OBX per line of text."""
    e = hl7_escape
    stamp = f"{doc.date:%Y%m%d}1000"
    author = doc.author
    author_xcn = f"{e(author.family.upper())}^{e(author.given)}" if author else ""
    visit_class = {"urgences": "E", "consultation": "O"}.get(doc.type, "I")
    code, _, label = DOC_TYPES[doc.type]
    segments = [
        "MSH|^~\\&|HOPIA-SYNTH|CHU-RA|HOPIA|CHU-RA|"
        f"{stamp}||MDM^T02^MDM_T02|{doc.id}|P|2.5|||||FRA|UNICODE UTF-8",
        f"EVN|T02|{stamp}",
        _fields(
            "PID",
            {
                1: "1",
                3: f"{e(patient.ipp)}^^^CHU^PI",
                5: f"{e(patient.family_name)}^{e(patient.given_name)}",
                7: f"{patient.birth_date:%Y%m%d}",
                8: patient.sex,
                11: f"{e(patient.address)}^^{e(patient.city)}^^{e(patient.zip)}",
                13: e(patient.phone),
            },
        ),
        _fields(
            "PV1",
            {
                1: "1",
                2: visit_class,
                3: f"{e(doc.service)}^^^CHU",
                7: f"^{author_xcn}",
                10: e(doc.service),
                19: e(doc.nda),
                44: f"{doc.visit_start:%Y%m%d}" if doc.visit_start else "",
                45: f"{doc.visit_end:%Y%m%d}" if doc.visit_end else "",
            },
        ),
        _fields(
            "TXA",
            {
                1: "1",
                2: e(doc.type),
                3: "TX",
                4: stamp,
                5: f"^{author_xcn}",
                12: e(doc.id),
                17: "AU",
            },
        ),
    ]
    for n, line in enumerate(doc.text.rstrip("\n").split("\n"), start=1):
        segments.append(f"OBX|{n}|TX|{code}^{e(label)}^LN||{e(line)}||||||F")
    return "\r".join(segments) + "\r"


def _paris_offset(d: date) -> str:
    """UTC offset of Paris at 10:00 on ``d`` (summer time from the last Sunday of March to the
    last Sunday of October), without depending on the system's tz database."""

    def last_sunday(month: int) -> date:
        day = date(d.year, month + 1, 1) - timedelta(days=1)
        return day - timedelta(days=(day.weekday() + 1) % 7)

    return "+02:00" if last_sunday(3) <= d < last_sunday(10) else "+01:00"


def _uuid(seed: int, key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{seed}:{key}"))


def fhir_patient(patient: SynthPatient) -> dict[str, Any]:
    names = [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}]
    if patient.usage_name:
        names.append(
            {"use": "usual", "family": patient.usage_name.upper(), "given": [patient.given_name]}
        )
    telecom = [{"system": "phone", "value": patient.phone}]
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    pi = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PI"}]}
    nir = {
        "coding": [
            {
                "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
                "code": "INS-NIR",
            }
        ]
    }
    return {
        "resourceType": "Patient",
        "identifier": [
            {
                "use": "usual",
                "type": pi,
                "system": "urn:oid:1.2.250.1.999.1.1.1",
                "value": patient.ipp,
            },
            {
                "use": "official",
                "type": nir,
                "system": "urn:oid:1.2.250.1.213.1.4.8",
                "value": patient.nir,
            },
        ],
        "name": names,
        "telecom": telecom,
        "gender": "female" if patient.female else "male",
        "birthDate": patient.birth_date.isoformat(),
        "address": [
            {
                "use": "home",
                "line": [patient.address],
                "city": patient.city,
                "postalCode": patient.zip,
                "country": "FR",
            }
        ],
    }


def fhir_document(doc: SynthDocument, patient_url: str) -> dict[str, Any]:
    code, display, label = DOC_TYPES[doc.type]
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "masterIdentifier": {"system": "urn:hopia:synth:document", "value": doc.id},
        "status": "current",
        "type": {
            "coding": [{"system": "http://loinc.org", "code": code, "display": display}],
            "text": doc.type,
        },
        "subject": {"reference": patient_url},
        "date": f"{doc.date.isoformat()}T10:00:00{_paris_offset(doc.date)}",
        "description": label,
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain; charset=utf-8",
                    "language": "fr",
                    "data": base64.b64encode(doc.text.encode("utf-8")).decode("ascii"),
                    "title": label,
                }
            }
        ],
        "context": {"period": {"start": doc.date.isoformat()}},
    }
    if doc.nda:  # the stay, by its number (logical reference: no Encounter resource here)
        resource["context"]["encounter"] = [
            {"identifier": {"system": "urn:hopia:synth:nda", "value": doc.nda}}
        ]
    if doc.author is not None:
        who = doc.author
        resource["author"] = [{"display": f"{who.title} {who.given} {who.family.upper()}"}]
    return resource


def to_fhir_bundle(seed: int, patient: SynthPatient, docs: list[SynthDocument]) -> str:
    """A collection Bundle: the Patient then one DocumentReference per document, validated."""
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.documentreference import DocumentReference
    from fhir.resources.R4B.patient import Patient

    patient_url = f"urn:uuid:{_uuid(seed, 'patient:' + patient.ipp)}"
    resource = fhir_patient(patient)
    Patient.model_validate(resource)
    entries = [{"fullUrl": patient_url, "resource": resource}]
    for doc in docs:
        ref = fhir_document(doc, patient_url)
        DocumentReference.model_validate(ref)
        entries.append(
            {"fullUrl": f"urn:uuid:{_uuid(seed, 'document:' + doc.id)}", "resource": ref}
        )
    bundle = {
        "resourceType": "Bundle",
        "id": _uuid(seed, "bundle:" + patient.ipp),
        "type": "collection",
        "entry": entries,
    }
    Bundle.model_validate(bundle)
    return json.dumps(bundle, ensure_ascii=False, indent=2) + "\n"

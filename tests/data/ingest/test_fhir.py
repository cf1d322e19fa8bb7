"""FhirReader: DocumentReference and Bundles validated as R4(B), attachments, bad resources."""

from __future__ import annotations

import base64
import json
from datetime import date
from typing import Any

import pytest

from hopia.data.ingest.fhir import FhirReader
from hopia.data.records import PatientIdentity, RawDocument, ReadFailure
from hopia.platform.exceptions import SourceError
from tests.data.ingest.conftest import assert_ingest_error, pdf_bytes

NOTE = "Consultation de suivi.\nFièvre résolutive, reprise de l'alimentation."


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def document_reference(
    data: bytes | None = None, content_type: str = "text/plain", **extra: Any
) -> dict[str, Any]:
    attachment: dict[str, Any] = {"contentType": content_type}
    if data is not None:
        attachment["data"] = b64(data)
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "content": [{"attachment": attachment}],
        **extra,
    }


PATIENT = {
    "resourceType": "Patient",
    "identifier": [
        {"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "285037512345678"},
        {"system": "https://chu-lyon.example/autre", "value": "X-99"},
        {
            "type": {"coding": [{"code": "PI"}]},
            "system": "https://chu-lyon.example/ipp",
            "value": "123456",
        },
    ],
    "name": [{"family": "Dupont", "given": ["Marie", "Anne"]}],
    "gender": "female",
    "birthDate": "1985-03-12",
    "address": [{"line": ["12 rue des Lilas"], "city": "Lyon", "postalCode": "69003"}],
    "telecom": [
        {"system": "email", "value": "marie.dupont@example.fr"},
        {"system": "phone", "value": "04 78 12 34 56"},
    ],
}
PRACTITIONER = {
    "resourceType": "Practitioner",
    "id": "pr1",
    "name": [{"family": "Martin", "given": ["Jean"], "prefix": ["Dr"]}],
}


def bundle(*entries: dict[str, Any], kind: str = "collection") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def _write_json(write, name: str, content: Any) -> Any:
    return write(name, json.dumps(content, ensure_ascii=False))


def test_single_document_reference_with_charset(write) -> None:
    resource = document_reference(
        NOTE.encode("iso-8859-1"),
        "text/plain; charset=ISO-8859-1",
        masterIdentifier={"value": "DOC-77"},
        date="2024-03-05T10:15:00+01:00",
        type={"coding": [{"system": "http://loinc.org", "code": "11506-3", "display": "Note"}]},
        subject={"identifier": {"value": "123456"}},
        author=[{"display": "Dr Claire Durand"}],
    )
    path = _write_json(write, "doc.json", resource)
    [doc] = FhirReader().read(path)
    assert isinstance(doc, RawDocument)
    assert doc.text == NOTE
    assert (doc.format, doc.source_ref, doc.external_id) == ("fhir", str(path), "DOC-77")
    assert doc.doc_date == date(2024, 3, 5) and doc.doc_type == "Note"
    assert doc.patient is None and doc.patient_ipp == "123456"
    assert doc.staff == ("Dr Claire Durand",)


def test_bundle_resolves_patient_and_practitioner(write) -> None:
    html = "<html><head><style>p{}</style></head><body><h1>Compte rendu</h1>"
    html += "<p>Patiente en <b>fièvre</b> &agrave; 39&nbsp;°C.</p>"
    html += "<table><tr><td>CRP</td><td>48 mg/L</td></tr></table></body></html>"
    pdf = pdf_bytes(["Lettre de sortie : évolution favorable."])
    path = _write_json(
        write,
        "lot.json",
        bundle(
            {"fullUrl": "urn:uuid:7f1c0c56-0000-4000-8000-000000000001", "resource": PATIENT},
            {"fullUrl": "https://fhir.chu.example/Practitioner/pr1", "resource": PRACTITIONER},
            {
                "resource": document_reference(
                    html.encode("utf-8"),
                    "text/html",
                    id="doc-html",
                    subject={"reference": "urn:uuid:7f1c0c56-0000-4000-8000-000000000001"},
                    author=[{"reference": "Practitioner/pr1"}],
                    type={"text": "Compte rendu d'hospitalisation"},
                    context={"period": {"start": "2024-02-28T08:00:00+01:00"}},
                )
            },
            {
                "resource": document_reference(
                    pdf,
                    "application/pdf",
                    subject={"reference": "urn:uuid:7f1c0c56-0000-4000-8000-000000000001"},
                    identifier=[{"value": "LS-1"}],
                )
            },
            kind="document",
        ),
    )
    html_doc, pdf_doc = FhirReader().read(path)
    assert html_doc.text == "Compte rendu\nPatiente en fièvre à 39 °C.\nCRP | 48 mg/L"
    assert html_doc.source_ref == f"{path}#entry3" and html_doc.external_id == "doc-html"
    assert html_doc.patient == PatientIdentity(
        ipp="123456",
        family_name="Dupont",
        given_name="Marie Anne",
        birth_date=date(1985, 3, 12),
        sex="F",
        nir="285037512345678",
        address="12 rue des Lilas",
        zip="69003",
        city="Lyon",
        phone="04 78 12 34 56",
        email="marie.dupont@example.fr",
    )
    assert html_doc.staff == ("Jean Martin",)
    assert html_doc.doc_date == date(2024, 2, 28)  # context.period.start without date
    assert html_doc.doc_type == "Compte rendu d'hospitalisation"
    assert pdf_doc.text == "Lettre de sortie : évolution favorable."
    assert pdf_doc.source_ref == f"{path}#entry4" and pdf_doc.external_id == "LS-1"
    assert pdf_doc.patient_ipp == "123456"


def test_bad_entries_fail_alone(write) -> None:
    bad_patient = {**PATIENT, "birthDate": "1985-02-30"}
    path = _write_json(
        write,
        "lot.json",
        bundle(
            {"fullUrl": "urn:uuid:p-bad", "resource": bad_patient},
            {"resource": document_reference(b"")},
            {"resource": {**document_reference(), "content": [{"attachment": {"url": "cr.pdf"}}]}},
            {
                "resource": document_reference(
                    NOTE.encode(), subject={"reference": "urn:uuid:p-bad"}
                )
            },
            {"resource": {"resourceType": "DocumentReference", "status": "current"}},
            {"resource": document_reference(NOTE.encode())},
            kind="transaction",
        ),
    )
    results = list(FhirReader().read(path))
    refs = [r.source_ref.rsplit("#", 1)[1] for r in results]
    assert refs == ["entry1", "entry2", "entry3", "entry4", "entry5", "entry6"]
    *failures, good = results
    assert all(isinstance(f, ReadFailure) for f in failures)
    assert isinstance(good, RawDocument) and good.text == NOTE
    reasons = [f.reason for f in failures]
    assert reasons[0].startswith("ressource FHIR invalide (Patient) : birthDate")
    assert reasons[1] == "pièce jointe vide"
    assert reasons[2] == "pièce jointe externe non prise en charge"
    assert reasons[3] == "ressource référencée invalide : urn:uuid:p-bad"
    assert reasons[4].startswith("ressource FHIR invalide (DocumentReference) : content")


def test_attachment_type_and_charset_failures(write) -> None:
    path = _write_json(
        write,
        "lot.json",
        bundle(
            {"resource": document_reference(b"GIF89a....", "image/gif")},
            {"resource": document_reference(b"\x89PNG....", "image/png")},  # a broken scan
            {"resource": document_reference(b"abc", "text/plain; charset=klingon")},
            {"resource": document_reference(pdf_bytes(), "application/pdf")},
        ),
    )
    reasons = [f.reason for f in FhirReader().read(path)]
    assert reasons == [
        "type de pièce jointe non pris en charge : image/gif",
        "pièce jointe : image illisible ou trop grande",
        "jeu de caractères inconnu : klingon",
        "pièce jointe : PDF sans texte (ni couche texte, ni page scannée à lire par OCR)",
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            {"resourceType": "DocumentReference", "status": "current"},
            "ressource FHIR invalide (DocumentReference) : content : Field required",
        ),
        ({**document_reference(b"x"), "resourceType": "DocumentRefrence"}, "resourceType inconnu"),
        (
            {**document_reference(), "content": [{"attachment": {"data": "@@pas du base64@@"}}]},
            "ressource FHIR invalide (DocumentReference) : content.0.attachment.data : Base64",
        ),
        ({"status": "current"}, "resourceType absent"),
        (PATIENT, "ressource FHIR non prise en charge : Patient"),
        ([1, 2], "objet JSON attendu"),
        (bundle(kind="history"), "type de Bundle non pris en charge : history"),
        (bundle({"resource": PATIENT}), "aucun document (DocumentReference, Media ou Binary)"),
        ({"resourceType": "Bundle", "entry": []}, "ressource FHIR invalide (Bundle) : type"),
    ],
    ids=[
        "missing-content",
        "wrong-resource-type",
        "bad-base64",
        "no-resource-type",
        "patient-alone",
        "not-an-object",
        "history-bundle",
        "bundle-without-document",
        "bundle-without-type",
    ],
)
def test_invalid_files_are_refused(write, content: Any, reason: str) -> None:
    path = _write_json(write, "invalide.json", content)
    with pytest.raises(SourceError) as excinfo:
        list(FhirReader().read(path))
    assert_ingest_error(excinfo, reason, path)


def test_broken_json_is_refused(write) -> None:
    path = write("tronque.json", '{"resourceType": "DocumentReference", "status": ')
    with pytest.raises(SourceError) as excinfo:
        list(FhirReader().read(path))
    assert_ingest_error(excinfo, "JSON invalide", path)


def test_entered_in_error_document_is_a_failure(write) -> None:
    path = _write_json(write, "annule.json", document_reference(NOTE.encode(), status="x"))
    path.write_text(path.read_text().replace('"x"', '"entered-in-error"'))
    [failure] = FhirReader().read(path)
    assert isinstance(failure, ReadFailure)
    assert failure.reason == "document annulé (status entered-in-error)"


ENCOUNTER = {
    "resourceType": "Encounter",
    "id": "enc-1",
    "status": "finished",
    "class": {"code": "IMP"},
    "identifier": [{"system": "https://chu-lyon.example/nda", "value": "24001234"}],
    "period": {"start": "2024-03-02T10:15:00+01:00", "end": "2024-03-08"},
    "serviceType": {"coding": [{"code": "CARDIO", "display": "Cardiologie"}]},
}


def test_stay_from_the_encounter(write) -> None:
    path = _write_json(
        write,
        "sejour.json",
        bundle(
            {"fullUrl": "urn:uuid:enc-1", "resource": ENCOUNTER},
            {
                "resource": document_reference(
                    NOTE.encode(), context={"encounter": [{"reference": "urn:uuid:enc-1"}]}
                )
            },
            {
                "resource": document_reference(
                    NOTE.encode(), context={"encounter": [{"identifier": {"value": " 24009999 "}}]}
                )
            },
            {"resource": document_reference(NOTE.encode())},
        ),
    )
    full, logical, none = FhirReader().read(path)
    assert (full.visit_id, full.service) == ("24001234", "Cardiologie")
    assert (full.visit_start, full.visit_end) == (date(2024, 3, 2), date(2024, 3, 8))
    assert (logical.visit_id, logical.visit_start, logical.service) == ("24009999", None, None)
    assert none.visit_id is None


def test_invalid_encounter_fails_alone_and_keeps_the_document(write) -> None:
    bad = {**ENCOUNTER, "period": {"start": "le 2 mars"}}
    path = _write_json(
        write,
        "sejour.json",
        bundle(
            {"fullUrl": "urn:uuid:enc-1", "resource": bad},
            {
                "resource": document_reference(
                    NOTE.encode(), context={"encounter": [{"reference": "urn:uuid:enc-1"}]}
                )
            },
        ),
    )
    failure, doc = FhirReader().read(path)
    assert isinstance(failure, ReadFailure) and "Encounter" in failure.reason
    assert isinstance(doc, RawDocument) and doc.text == NOTE and doc.visit_id is None

"""Scanned attachments in FHIR (issue 11, item 10): a DocumentReference, a Media or a Binary
whose attachment is an image (PNG, JPEG, TIFF) or an image-only PDF is read by OCR exactly as a
scan file is — same settings, same per-page confidence and low-confidence flag, same
per-document error when Tesseract is missing. The letters are rendered by the test itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hopia.data.ingest import ocr
from hopia.data.ingest.fhir import FhirReader
from hopia.data.records import RawDocument, ReadFailure
from hopia.platform.warehouse import Warehouse, schema
from tests.data.ingest.conftest import build
from tests.data.ingest.test_fhir import PATIENT, b64, bundle
from tests.data.ingest.test_image import _encoded, _scanned_pdf, needs_tesseract, page

LETTER = (
    "Lyon, le 12 mars 2024",
    "",
    "Compte rendu de consultation de cardiologie",
    "Dyspnée d'effort depuis trois semaines.",
    "Oedèmes des membres inférieurs.",
)
PATIENT_ENTRY = {"fullUrl": "urn:uuid:p1", "resource": PATIENT}


@pytest.fixture(autouse=True)
def _default_ocr_options() -> Any:
    saved = ocr.options()
    ocr.configure(ocr.OcrOptions())
    yield
    ocr.configure(saved)


def _scan(fmt: str, dpi: int = 200) -> bytes:
    image = page(LETTER, dpi=dpi)
    return _scanned_pdf(image) if fmt == "PDF" else _encoded(image, fmt)


def _attachment_doc(content_type: str, data: bytes | None = None, **attachment: Any) -> dict:
    if data is not None:
        attachment["data"] = b64(data)
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "subject": {"reference": "urn:uuid:p1"},
        "date": "2024-03-12T10:00:00+01:00",
        "content": [{"attachment": {"contentType": content_type, **attachment}}],
    }


def _read(tmp_path: Path, content: dict) -> list[RawDocument | ReadFailure]:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    return list(FhirReader().read(path))


def _words(text: str) -> set[str]:
    return set(text.replace(",", " ").replace(".", " ").split())


def test_without_tesseract_an_image_attachment_is_one_failure_naming_the_package(
    tmp_path: Path,
) -> None:
    ocr.configure(ocr.OcrOptions(command=str(tmp_path / "pas-de-tesseract")))
    text_doc = {
        "resourceType": "DocumentReference",
        "status": "current",
        "subject": {"reference": "urn:uuid:p1"},
        "content": [{"attachment": {"contentType": "text/plain", "data": b64(b"Toux.")}}],
    }
    items = _read(
        tmp_path,
        bundle(
            PATIENT_ENTRY,
            {"resource": _attachment_doc("image/png", _scan("PNG", dpi=100))},
            {"resource": _attachment_doc("application/pdf", _scan("PDF", dpi=100))},
            {"resource": text_doc},
        ),
    )
    failures = [i for i in items if isinstance(i, ReadFailure)]
    docs = [i for i in items if isinstance(i, RawDocument)]
    assert [f.source_ref.rsplit("#", 1)[1] for f in failures] == ["entry2", "entry3"]
    assert all(f.reason == f"pièce jointe : {ocr.MISSING_TESSERACT}" for f in failures)
    assert "tesseract-ocr-fra" in failures[0].reason
    assert [d.text for d in docs] == ["Toux."]  # the other documents of the bundle go on


def test_an_image_attachment_that_is_no_image_is_refused_alone(tmp_path: Path) -> None:
    [failure] = _read(
        tmp_path,
        bundle(PATIENT_ENTRY, {"resource": _attachment_doc("image/png", b"pas une image")}),
    )
    assert isinstance(failure, ReadFailure) and "image illisible" in failure.reason


@needs_tesseract
@pytest.mark.slow
@pytest.mark.parametrize(
    ("content_type", "fmt"),
    [
        ("image/png", "PNG"),
        ("image/jpeg", "JPEG"),
        ("image/tiff", "TIFF"),
        ("application/pdf", "PDF"),
    ],
)
def test_a_scanned_attachment_is_read_by_ocr_with_its_patient(
    tmp_path: Path, content_type: str, fmt: str
) -> None:
    [doc] = _read(
        tmp_path, bundle(PATIENT_ENTRY, {"resource": _attachment_doc(content_type, _scan(fmt))})
    )
    assert isinstance(doc, RawDocument), doc
    # (Pillow's default font draws no accents: the test reads unaccented words)
    assert {"Lyon", "mars", "cardiologie", "depuis", "semaines"} <= _words(doc.text)
    assert doc.patient is not None and doc.patient.ipp == "123456"
    assert doc.doc_date is not None and doc.doc_date.isoformat() == "2024-03-12"
    [info] = doc.ocr
    assert info.page == 1 and 70 <= info.confidence <= 100 and not info.low
    assert ocr.doubts(doc) == []


@needs_tesseract
@pytest.mark.slow
def test_media_and_binary_resources_and_the_low_confidence_flag(tmp_path: Path) -> None:
    ocr.configure(ocr.OcrOptions(low_confidence=100.0))  # above any real confidence
    png = _scan("PNG")
    media = {
        "resourceType": "Media",
        "status": "completed",
        "subject": {"reference": "urn:uuid:p1"},
        "createdDateTime": "2024-03-12",
        "content": {"contentType": "image/png", "data": b64(png)},
    }
    binary = {"resourceType": "Binary", "id": "b1", "contentType": "image/png", "data": b64(png)}
    # The DocumentReference names the scan by the Binary's address: read once, as its content.
    pointing = _attachment_doc("image/png", url="Binary/b1")
    items = _read(
        tmp_path,
        bundle(
            PATIENT_ENTRY,
            {"resource": media},
            {"fullUrl": "http://chu.example/fhir/Binary/b1", "resource": binary},
            {"resource": pointing},
        ),
    )
    assert [i.source_ref.rsplit("#", 1)[1] for i in items] == ["entry2", "entry4"]
    for doc in items:
        assert isinstance(doc, RawDocument), doc
        assert "cardiologie" in doc.text and doc.patient is not None
        assert doc.patient.ipp == "123456"
        [info] = doc.ocr
        assert info.low
        [warning] = ocr.doubts(doc)
        assert "OCR peu fiable" in warning and "p. 1" in warning


@needs_tesseract
@pytest.mark.slow
def test_a_scanned_fhir_letter_lands_with_its_patient_and_confidence(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    content = bundle(PATIENT_ENTRY, {"resource": _attachment_doc("image/png", _scan("PNG"))})
    (folder / "bundle.json").write_text(json.dumps(content), encoding="utf-8")
    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    try:
        with build(wh) as pipeline:
            report = pipeline.run([folder])
        assert (report.added, report.errors) == (1, [])
        doc_t, ocr_t, note = schema.document, schema.document_ocr, schema.CDM["note"]
        patient = schema.patient
        with wh.engine.connect() as conn:
            [row] = conn.execute(
                select(doc_t.c.document_id, doc_t.c.ipp, doc_t.c.format, doc_t.c.text)
            ).all()
            [page_row] = conn.execute(select(ocr_t)).mappings().all()
            [person] = (
                conn.execute(select(patient.c.person_id).where(patient.c.ipp == "123456"))
                .scalars()
                .all()
            )
            [note_row] = conn.execute(select(note.c.person_id, note.c.note_text)).all()
        assert (row.ipp, row.format) == ("123456", "fhir")
        assert "cardiologie" in row.text and "semaines" in row.text
        assert page_row["document_id"] == row.document_id and page_row["page"] == 1
        assert 70 <= page_row["confidence"] <= 100 and page_row["low"] is False
        assert note_row.person_id == person and "cardiologie" in note_row.note_text
    finally:
        wh.close()

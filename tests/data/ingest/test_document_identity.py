"""Documents without a structured patient reach their patient, with their own date: every
synthetic document type as PDF, DOCX and text, checked in the warehouse (note.person_id,
note_date), not in the exit code. A document naming no patient is an error row, never person 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from hopia.data.ingest import ocr
from hopia.data.ingest.identities import NEW_IPP, NO_IDENTITY
from hopia.data.omop.writer import UNKNOWN_PERSON
from hopia.data.synth import SynthDocument, generate
from hopia.data.synth.render import to_docx, to_pdf
from hopia.platform.warehouse import Warehouse, schema
from tests.data.ingest.conftest import build

pytestmark = pytest.mark.slow

RENDER = {
    "pdf": to_pdf,
    "docx": to_docx,
    "txt": lambda doc: doc.text.encode("utf-8"),
}


def _one_per_type(seed: int = 11) -> tuple[list[SynthDocument], list[dict]]:
    corpus = generate(n_patients=12, seed=seed)
    chosen: dict[str, SynthDocument] = {}
    for doc in corpus.documents:
        chosen.setdefault(doc.type, doc)
    assert set(chosen) == {"CRH", "consultation", "CRO", "ordonnance", "biologie", "urgences"}
    return list(chosen.values()), [p.identity() for p in corpus.patients]


def _rows(wh: Warehouse, query) -> list[dict]:  # noqa: ANN001
    with wh.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def test_every_synthetic_document_type_reaches_its_patient(tmp_path: Path) -> None:
    docs, patients = _one_per_type()
    registry = tmp_path / "patients.jsonl"
    registry.write_text("".join(json.dumps(p) + "\n" for p in patients), encoding="utf-8")
    folder = tmp_path / "docs"
    folder.mkdir()
    expected: dict[str, SynthDocument] = {}
    for doc in docs:
        for suffix, render in RENDER.items():
            path = folder / f"{doc.type}-{doc.id}.{suffix}"
            path.write_bytes(render(doc))
            expected[str(path)] = doc
    # No patient anywhere in the text: refused, named, and not a note of person 0.
    anonymous = folder / "anonyme.txt"
    anonymous.write_text("Fièvre à 39 °C depuis trois jours. Pas de toux.\n", encoding="utf-8")
    # An HL7 message without PID.
    no_pid = folder / "sans-pid.hl7"
    no_pid.write_text(
        "MSH|^~\\&|A|B|C|D|20200101||MDM^T02^MDM_T02|1|P|2.5\rOBX|1|TX|||Texte du compte rendu.\r",
        encoding="utf-8",
    )
    # An IPP the registry does not know: stored under a new patient, with a warning.
    stranger = folder / "inconnu.txt"
    stranger.write_text(
        "Lyon, le 2 mai 2023\nPatient : M. LE GALL Paul, né le 07/08/1962\nIPP : 7777777\n\n"
        "Examen clinique normal.\n",
        encoding="utf-8",
    )

    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    with build(wh) as pipeline:
        pipeline.load_patients(registry)
        report = pipeline.run([folder])
        research = pipeline.research
        # a rerun stores nothing new, so it has no doubt to report (errors are re-recorded)
        again = pipeline.run([folder])
    assert (again.added, again.warnings) == (0, [])

    assert sorted(report.errors) == sorted(
        [
            (str(anonymous), NO_IDENTITY),
            (f"{no_pid}#msg1", "segment PID absent : message sans patient"),
        ]
    )
    assert (str(stranger), NEW_IPP) in report.warnings
    assert report.added == len(expected) + 1

    doc_t, note_t, patient_t = schema.document, schema.CDM["note"], schema.patient
    person_of = {r["ipp"]: r["person_id"] for r in _rows(wh, select(patient_t))}
    stored = _rows(
        wh,
        select(
            doc_t.c.source_path,
            doc_t.c.ipp,
            doc_t.c.doc_date,
            note_t.c.person_id,
            note_t.c.note_date,
        )
        .join(note_t, note_t.c.note_id == doc_t.c.note_id)
        .where(doc_t.c.status == "done"),
    )
    by_path = {r["source_path"]: r for r in stored}
    for path, doc in expected.items():
        row = by_path[path]
        assert row["ipp"] == doc.patient_id, path
        assert row["person_id"] == person_of[doc.patient_id] != UNKNOWN_PERSON, path
        assert row["doc_date"] == doc.date, path  # the letter's date, not the ingest day
        assert row["note_date"] == research.shift(doc.date, doc.patient_id), path
    assert by_path[str(stranger)]["person_id"] == person_of["7777777"]
    assert UNKNOWN_PERSON not in {r["person_id"] for r in stored}
    errors = _rows(wh, select(doc_t.c.source_path, doc_t.c.error).where(doc_t.c.status == "error"))
    assert {r["source_path"] for r in errors} == {str(anonymous), str(no_pid)}


def test_a_scan_without_tesseract_fails_alone(tmp_path: Path) -> None:
    from PIL import Image, ImageDraw

    folder = tmp_path / "docs"
    folder.mkdir()
    scan = Image.new("L", (1200, 600), color=255)
    ImageDraw.Draw(scan).text((50, 50), "IPP : 123456", fill=0)
    scan.save(folder / "scan.png")
    (folder / "note.txt").write_text("Lyon, le 3/4/2020\nIPP : 123456\n\nToux.\n", encoding="utf-8")
    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    saved = ocr.options()
    try:
        with build(wh) as pipeline:
            ocr.configure(ocr.OcrOptions(command=str(tmp_path / "absent" / "tesseract")))
            report = pipeline.run([folder])
    finally:
        ocr.configure(saved)
    assert report.errors == [(str(folder / "scan.png"), ocr.MISSING_TESSERACT)]
    assert report.added == 1


def test_a_scan_reaches_its_patient_with_its_confidence(tmp_path: Path) -> None:
    from PIL import Image, ImageDraw, ImageFont

    from tests.data.ingest.test_image import has_french_tesseract

    if not has_french_tesseract():
        pytest.skip("tesseract-ocr et tesseract-ocr-fra absents (make install-ocr)")
    lines = ("Lyon, le 30 novembre 2019", "", "Patient : M. KERBRAT Yann", "IPP : 8000654321")
    lines += ("", "Compte rendu de consultation", "Pas de fièvre. Examen normal.")
    font = ImageFont.load_default(size=46)
    scan = Image.new("L", (2480, 1400), color=255)
    for i, line in enumerate(lines):
        ImageDraw.Draw(scan).text((240, 120 + 80 * i), line, fill=0, font=font)
    folder = tmp_path / "docs"
    folder.mkdir()
    scan.save(folder / "scan.tiff")
    registry = tmp_path / "patients.jsonl"
    registry.write_text(
        '{"ipp": "8000654321", "family_name": "KERBRAT", "given_name": "Yann", '
        '"birth_date": "1961-11-02", "sex": "M"}\n',
        encoding="utf-8",
    )
    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    with build(wh) as pipeline:
        pipeline.load_patients(registry)
        report = pipeline.run([folder])
    assert (report.added, report.errors) == (1, [])
    doc_t, ocr_t = schema.document, schema.document_ocr
    [row] = _rows(wh, select(doc_t.c.document_id, doc_t.c.ipp, doc_t.c.doc_date, doc_t.c.format))
    assert row["ipp"] == "8000654321" and row["format"] == "image"
    assert row["doc_date"].isoformat() == "2019-11-30"
    [page] = _rows(wh, select(ocr_t))
    assert page["document_id"] == row["document_id"] and page["page"] == 1
    assert 60 <= page["confidence"] <= 100 and page["low"] is False

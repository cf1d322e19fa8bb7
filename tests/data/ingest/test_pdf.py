"""PdfReader: text layer of real fpdf2 PDFs; truncated, scanned, encrypted and fake PDFs."""

from __future__ import annotations

import pytest
from fpdf import FPDF

from hopia.data.ingest.pdf import NO_TEXT_LAYER, PdfReader
from hopia.data.records import RawDocument
from hopia.platform.exceptions import SourceError
from tests.data.ingest.conftest import CR_TEXT, assert_ingest_error, pdf_bytes


def test_pages_are_joined_by_a_blank_line(write) -> None:
    path = write("crh.pdf", pdf_bytes(["\n".join(CR_TEXT), "Conclusion : pyélonéphrite aiguë."]))
    [doc] = PdfReader().read(path)
    assert isinstance(doc, RawDocument)
    assert doc.text == "\n".join(CR_TEXT) + "\n\nConclusion : pyélonéphrite aiguë."
    assert "fièvre à 39,5 °C" in doc.text
    assert (doc.format, doc.source_ref, doc.source_path) == ("pdf", str(path), str(path))


def test_owner_password_only_pdf_is_read(write) -> None:
    pdf = FPDF()
    pdf.set_encryption(owner_password="secret")  # printing restrictions, no opening password
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "Ordonnance : amoxicilline 1 g trois fois par jour.")
    path = write("ordonnance.pdf", bytes(pdf.output()))
    [doc] = PdfReader().read(path)
    assert doc.text == "Ordonnance : amoxicilline 1 g trois fois par jour."


def test_user_password_pdf_is_refused(write) -> None:
    pdf = FPDF()
    pdf.set_encryption(owner_password="secret", user_password="code")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "Confidentiel.")
    path = write("protege.pdf", bytes(pdf.output()))
    with pytest.raises(SourceError) as excinfo:
        list(PdfReader().read(path))
    assert_ingest_error(excinfo, "PDF protégé par mot de passe", path)


def test_truncated_pdf_is_refused(write) -> None:
    data = pdf_bytes(["\n".join(CR_TEXT)])
    path = write("tronque.pdf", data[: len(data) // 2])
    with pytest.raises(SourceError) as excinfo:
        list(PdfReader().read(path))
    assert_ingest_error(excinfo, "PDF illisible : fichier tronqué", path)


def test_corrupt_pdf_with_markers_is_refused(write) -> None:
    path = write("corrompu.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\n%%EOF\n")
    with pytest.raises(SourceError) as excinfo:
        list(PdfReader().read(path))
    assert_ingest_error(excinfo, "PDF illisible", path)


def test_not_a_pdf_is_refused(write) -> None:
    path = write("faux.pdf", "Ceci n'est pas un PDF.\n")
    with pytest.raises(SourceError) as excinfo:
        list(PdfReader().read(path))
    assert_ingest_error(excinfo, "PDF illisible : en-tête %PDF- absent", path)


@pytest.mark.parametrize("image_only", [True, False], ids=["scan", "blank-page"])
def test_pdf_without_text_layer_is_refused(write, image_only: bool) -> None:
    path = write("scan.pdf", pdf_bytes(image_only=image_only))
    with pytest.raises(SourceError) as excinfo:
        list(PdfReader().read(path))
    # The picture of the "scan" is a 64-pixel square: too small to be a page worth OCR.
    assert_ingest_error(excinfo, NO_TEXT_LAYER, path)


def test_empty_pdf_file_is_refused(write) -> None:
    path = write("vide.pdf", b"")
    with pytest.raises(SourceError) as excinfo:
        list(PdfReader().read(path))
    assert_ingest_error(excinfo, "fichier vide", path)

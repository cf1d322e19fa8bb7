"""Scans read by OCR: images (PNG, TIFF, JPEG) and image-only PDF pages, rendered by the tests
themselves; the missing-Tesseract path runs everywhere, the OCR itself where Tesseract and its
French data are installed (``make install-ocr``)."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from hopia.data.ingest import ocr
from hopia.data.ingest.image import ImageReader
from hopia.data.ingest.pdf import PdfReader
from hopia.data.ingest.readers import read_path, reader_for
from hopia.data.records import RawDocument
from hopia.platform.exceptions import SourceError
from tests.data.ingest.conftest import assert_ingest_error

LETTER = (
    "Lyon, le 30 novembre 2019",
    "",
    "Patiente : Mme DUPONT Marie, née le 03/04/1950",
    "IPP : 4401234",
    "",
    "Compte rendu de consultation",
    "Fièvre à 39 degrés depuis trois jours.",
)


def has_french_tesseract() -> bool:
    if shutil.which("tesseract") is None:
        return False
    langs = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True)
    return "fra" in langs.stdout.split()


needs_tesseract = pytest.mark.skipif(
    not has_french_tesseract(),
    reason="tesseract-ocr et tesseract-ocr-fra absents (make install-ocr)",
)


@pytest.fixture(autouse=True)
def _default_ocr_options() -> Iterator[None]:
    saved = ocr.options()
    ocr.configure(ocr.OcrOptions())
    yield
    ocr.configure(saved)


def page(lines: tuple[str, ...] = LETTER, dpi: int = 300) -> Image.Image:
    """A clean A4-width scan of ``lines``: black 11-point text on white, at ``dpi``."""
    size = round(11 / 72 * dpi)
    font = ImageFont.load_default(size=size)
    width, step = round(8.27 * dpi), round(size * 1.6)
    image = Image.new("L", (width, step * (len(lines) + 4)), color=255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((round(dpi * 0.8), step * (i + 2)), line, fill=0, font=font)
    return image


def _encoded(image: Image.Image, fmt: str, **kwargs) -> bytes:  # noqa: ANN003
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def _scanned_pdf(*images: Image.Image) -> bytes:
    """What a scanner writes: one picture per page, no text layer."""
    pdf = FPDF()
    for image in images:
        pdf.add_page()
        pdf.image(io.BytesIO(_encoded(image, "PNG")), x=0, y=0, w=210)
    return bytes(pdf.output())


def test_missing_tesseract_is_a_per_file_error_naming_the_package(tmp_path: Path) -> None:
    ocr.configure(ocr.OcrOptions(command=str(tmp_path / "pas-de-tesseract")))
    path = tmp_path / "scan.png"
    path.write_bytes(_encoded(page(), "PNG"))
    with pytest.raises(SourceError) as excinfo:
        list(read_path(path))
    assert_ingest_error(excinfo, "tesseract-ocr", path)
    assert excinfo.value.reason == ocr.MISSING_TESSERACT
    # The same for the scanned page of a PDF.
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(_scanned_pdf(page()))
    with pytest.raises(SourceError) as excinfo:
        list(PdfReader().read(pdf))
    assert excinfo.value.reason == ocr.MISSING_TESSERACT


def test_a_scan_longer_than_the_page_limit_is_one_error_before_any_ocr(tmp_path: Path) -> None:
    # a missing Tesseract would fail the file too: the limit must be checked before any OCR
    ocr.configure(ocr.OcrOptions(command=str(tmp_path / "pas-de-tesseract"), max_pages=2))
    frames = [page(dpi=200) for _ in range(3)]
    tiff = tmp_path / "long.tiff"
    frames[0].save(tiff, format="TIFF", save_all=True, append_images=frames[1:])
    with pytest.raises(SourceError, match="scan de 3 pages à lire par OCR") as excinfo:
        list(read_path(tiff))
    assert "data.ocr.max_pages" in excinfo.value.reason
    pdf = tmp_path / "long.pdf"
    pdf.write_bytes(_scanned_pdf(*frames))
    with pytest.raises(SourceError, match="plus que la limite de 2 pages"):
        list(PdfReader().read(pdf))
    ocr.configure(ocr.OcrOptions(command=str(tmp_path / "pas-de-tesseract"), max_pages=3))
    with pytest.raises(SourceError) as excinfo:  # within the limit: on to OCR (missing here)
        list(read_path(tiff))
    assert excinfo.value.reason == ocr.MISSING_TESSERACT


def test_missing_language_data_names_its_package(tmp_path: Path) -> None:
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract absent (make install-ocr)")
    ocr.configure(ocr.OcrOptions(languages="klingon"))
    path = tmp_path / "scan.png"
    path.write_bytes(_encoded(page(), "PNG"))
    with pytest.raises(SourceError) as excinfo:
        list(ImageReader().read(path))
    assert excinfo.value.reason == ocr.MISSING_LANGUAGE.format(lang="klingon")


@pytest.mark.parametrize(
    ("name", "fmt"), [("scan.png", "PNG"), ("scan.tiff", "TIFF"), ("scan.jpg", "JPEG")]
)
def test_image_suffixes_and_contents_choose_the_image_reader(
    tmp_path: Path, name: str, fmt: str
) -> None:
    path = tmp_path / name
    path.write_bytes(_encoded(page(dpi=100), fmt))
    assert isinstance(reader_for(path), ImageReader)
    misnamed = tmp_path / f"{name}.dat"  # sniffed by content
    misnamed.write_bytes(path.read_bytes())
    assert isinstance(reader_for(misnamed), ImageReader)


def _words(text: str) -> set[str]:
    return set(text.replace(",", " ").split())


@needs_tesseract
@pytest.mark.slow
def test_a_scanned_letter_is_read_with_its_confidence_and_header(tmp_path: Path) -> None:
    path = tmp_path / "courrier.png"
    path.write_bytes(_encoded(page(), "PNG"))
    [doc] = list(read_path(path))
    assert isinstance(doc, RawDocument) and doc.format == "image"
    assert {"Lyon", "novembre", "DUPONT", "Marie", "consultation"} <= _words(doc.text)
    [info] = doc.ocr
    assert info.page == 1 and 80 <= info.confidence <= 100 and not info.low
    assert doc.ocr_confidence == info.confidence
    assert ocr.doubts(doc) == []
    # The header of the scan gives its patient and date, like a text layer would.
    assert doc.stated is not None and doc.stated.ipp == "4401234"
    assert doc.stated.birth_date == date(1950, 4, 3)
    assert doc.doc_date == date(2019, 11, 30)


@needs_tesseract
@pytest.mark.slow
def test_multi_page_tiff_and_low_confidence_pages(tmp_path: Path) -> None:
    # Threshold above any real confidence: every page is flagged, and says so.
    ocr.configure(ocr.OcrOptions(low_confidence=100.0))
    first, second = page(dpi=200), page(("Page deux : examen clinique normal.",), dpi=200)
    path = tmp_path / "courrier.tif"
    first.save(path, format="TIFF", save_all=True, append_images=[second])
    [doc] = list(ImageReader().read(path))
    assert [p.page for p in doc.ocr] == [1, 2] and all(p.low for p in doc.ocr)
    assert "examen" in doc.text and "DUPONT" in doc.text
    [warning] = ocr.doubts(doc)
    assert "p. 1" in warning and "p. 2" in warning and "100 %" in warning


@needs_tesseract
@pytest.mark.slow
def test_pdf_pages_without_text_layer_are_read_by_ocr(tmp_path: Path) -> None:
    pdf = FPDF()  # page 1: a text layer; page 2: a scan
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "Page tapée : traitement par metformine.")
    pdf.add_page()
    pdf.image(io.BytesIO(_encoded(page(), "PNG")), x=0, y=0, w=210)
    path = tmp_path / "mixte.pdf"
    path.write_bytes(bytes(pdf.output()))
    [doc] = list(PdfReader().read(path))
    assert doc.text.startswith("Page tapée : traitement par metformine.")
    assert "DUPONT" in doc.text and "novembre" in doc.text
    assert [p.page for p in doc.ocr] == [2]  # only the scanned page went through OCR
    assert doc.stated is not None and doc.stated.ipp == "4401234"


@needs_tesseract
def test_a_blank_scan_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "blanc.png"
    Image.new("L", (600, 800), color=255).save(path)
    with pytest.raises(SourceError) as excinfo:
        list(ImageReader().read(path))
    assert_ingest_error(excinfo, ocr.NO_TEXT, path)


def test_a_corrupt_image_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "casse.png"
    path.write_bytes(_encoded(page(dpi=100), "PNG")[:200])
    with pytest.raises(SourceError) as excinfo:
        list(ImageReader().read(path))
    assert_ingest_error(excinfo, "image illisible", path)

"""PDF reader: the text layer, extracted with pypdf; a page without one (a scan) is read by OCR
from the pictures it holds (:mod:`hopia.data.ingest.ocr`)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from PIL import Image
from pypdf import PdfReader as _PypdfReader

from hopia.data.ingest.header import with_header
from hopia.data.ingest.ocr import check_page_count, is_scan, read_page
from hopia.data.ingest.text import file_size, normalise_newlines
from hopia.data.records import OcrPage, RawDocument, ReadFailure
from hopia.platform.exceptions import SourceError

NO_TEXT_LAYER = "PDF sans texte (ni couche texte, ni page scannée à lire par OCR)"
# pypdf's strict checks: header in the first kilobyte, end-of-file marker in the last one. Without
# the marker the file was cut short, and a lenient parser would silently return part of it.
_MARKER_WINDOW = 1024


def extract_pdf_text(data: bytes, path: Path | str) -> str:
    """Text of every page of the PDF in ``data``, pages joined by a blank line (scanned pages
    read by OCR).

    Raises
    ------
    SourceError
        Truncated, corrupt or password-protected PDF, one without text, or a scan that OCR
        cannot read.
    """
    return read_pdf(data, path)[0]


def read_pdf(data: bytes, path: Path | str) -> tuple[str, tuple[OcrPage, ...]]:
    """Text of the PDF in ``data`` and the pages read by OCR, with their confidence."""
    if b"%PDF-" not in data[:_MARKER_WINDOW]:
        raise SourceError(path, "PDF illisible : en-tête %PDF- absent")
    if b"%%EOF" not in data[-_MARKER_WINDOW:]:
        raise SourceError(path, "PDF illisible : fichier tronqué (marqueur %%EOF absent)")
    try:
        reader = _PypdfReader(io.BytesIO(data), strict=False)
        _unlock(reader, path)
        pages = [page.extract_text() or "" for page in reader.pages]
        # A page without a text layer is a scan when it holds a page-sized picture.
        scans = {
            i: _page_images(reader.pages[i]) for i, text in enumerate(pages) if not text.strip()
        }
    except SourceError:
        raise
    # pypdf raises all sorts of exceptions on malformed input, not only PyPdfError: any of them
    # means this file cannot be read, and the batch must go on.
    except Exception as exc:
        raise SourceError(path, f"PDF illisible : {_summary(exc)}") from None
    pages = [normalise_newlines(p).strip("\n") for p in pages]
    check_page_count(sum(1 for images in scans.values() if images), path)
    ocr: list[OcrPage] = []
    for i, images in scans.items():
        if not images:
            continue  # a blank page
        page = read_page(images[0], path)
        pages[i] = page.text
        ocr.append(page.info(i + 1))
    if not any(p.strip() for p in pages):
        raise SourceError(path, NO_TEXT_LAYER)
    return "\n\n".join(pages), tuple(ocr)


def _page_images(page) -> list[Image.Image]:  # noqa: ANN001 - pypdf PageObject
    """The pictures of a page large enough to be a scanned page, largest first (the scan; the
    others are logos or stamps)."""
    images = [img.image for img in page.images if img.image is not None]
    return sorted((i for i in images if is_scan(i)), key=lambda i: -i.size[0] * i.size[1])


def _unlock(reader: _PypdfReader, path: Path | str) -> None:
    # Many hospital PDFs carry only an owner password (printing restrictions): the empty user
    # password opens them.
    if reader.is_encrypted and not reader.decrypt(""):
        raise SourceError(path, "PDF protégé par mot de passe")


def _summary(exc: Exception) -> str:
    return str(exc).strip() or type(exc).__name__


class PdfReader:
    """Reads the text layer of a PDF as one document."""

    format = "pdf"
    suffixes: tuple[str, ...] = (".pdf",)

    def read(self, path: Path) -> Iterator[RawDocument | ReadFailure]:
        """Yield the PDF as a single :class:`RawDocument`.

        Raises
        ------
        SourceError
            Empty, truncated, corrupt or encrypted PDF, one without text, a scan that OCR
            cannot read (Tesseract missing: the reason names the Debian package).
        """
        path = Path(path)
        file_size(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SourceError(path, f"fichier illisible : {exc.strerror or exc}") from None
        text, ocr = read_pdf(data, path)
        doc = RawDocument(
            text=text, source_path=str(path), source_ref=str(path), format=self.format, ocr=ocr
        )
        yield with_header(doc)  # no structured patient: the one its header states

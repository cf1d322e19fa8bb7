"""PDF reader: the text layer, extracted with pypdf. Scans (no text layer) are refused: no OCR."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from pypdf import PdfReader as _PypdfReader

from hopia.data.ingest.text import file_size, normalise_newlines
from hopia.data.records import RawDocument, ReadFailure
from hopia.platform.exceptions import SourceError

NO_TEXT_LAYER = "PDF sans couche texte (scan ?) : OCR non disponible"
# pypdf's strict checks: header in the first kilobyte, end-of-file marker in the last one. Without
# the marker the file was cut short, and a lenient parser would silently return part of it.
_MARKER_WINDOW = 1024


def extract_pdf_text(data: bytes, path: Path | str) -> str:
    """Text of every page of the PDF in ``data``, pages joined by a blank line.

    Raises
    ------
    SourceError
        Truncated, corrupt or password-protected PDF, or one without a text layer.
    """
    if b"%PDF-" not in data[:_MARKER_WINDOW]:
        raise SourceError(path, "PDF illisible : en-tête %PDF- absent")
    if b"%%EOF" not in data[-_MARKER_WINDOW:]:
        raise SourceError(path, "PDF illisible : fichier tronqué (marqueur %%EOF absent)")
    try:
        reader = _PypdfReader(io.BytesIO(data), strict=False)
        _unlock(reader, path)
        pages = [page.extract_text() or "" for page in reader.pages]
    except SourceError:
        raise
    # pypdf raises all sorts of exceptions on malformed input, not only PyPdfError: any of them
    # means this file cannot be read, and the batch must go on.
    except Exception as exc:
        raise SourceError(path, f"PDF illisible : {_summary(exc)}") from None
    pages = [normalise_newlines(p).strip("\n") for p in pages]
    if not any(p.strip() for p in pages):
        raise SourceError(path, NO_TEXT_LAYER)
    return "\n\n".join(pages)


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
            Empty, truncated, corrupt, encrypted or image-only PDF.
        """
        path = Path(path)
        file_size(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SourceError(path, f"fichier illisible : {exc.strerror or exc}") from None
        text = extract_pdf_text(data, path)
        yield RawDocument(
            text=text, source_path=str(path), source_ref=str(path), format=self.format
        )

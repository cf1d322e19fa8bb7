"""Image reader: scans saved as TIFF (one page per frame), PNG or JPEG, read by OCR.

:func:`read_scan` is the whole of it, for a file or for the bytes of an image embedded
elsewhere (a FHIR attachment): the same checks (size, page count), the same OCR, the same
per-page confidence."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, ImageSequence, UnidentifiedImageError

from hopia.data.ingest.header import with_header
from hopia.data.ingest.ocr import check_page_count, is_scan, ocr_pages
from hopia.data.ingest.text import file_size
from hopia.data.records import OcrPage, RawDocument, ReadFailure
from hopia.platform.exceptions import SourceError

MAX_PIXELS = 60_000_000
"""Largest page accepted (an A4 page at 600 dpi is 35 Mpx): a bigger one is a decompression
bomb or a poster, not a letter."""

IMAGE_MEDIA_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/jpg", "image/pjpeg", "image/tiff", "image/tif"}
)
"""Media types of scans (FHIR attachments): what :func:`read_scan` reads."""


def read_scan(source: Path | bytes, path: Path | str) -> tuple[str, tuple[OcrPage, ...]]:
    """Text of the scan in ``source`` (a file, or an image's bytes) and each page's OCR
    confidence; ``path`` names it in errors.

    Raises
    ------
    SourceError
        Unreadable or oversize image, too many pages, Tesseract missing, no text recognised.
    """
    opened = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(opened) as image:
                check_page_count(getattr(image, "n_frames", 1), path)
                pages = [_page(frame, path) for frame in ImageSequence.Iterator(image)]
    except SourceError:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise SourceError(path, "image illisible ou trop grande") from None
    # Pillow raises many exception types on truncated or corrupt files.
    except Exception as exc:
        raise SourceError(path, f"image illisible : {type(exc).__name__}") from None
    return ocr_pages(pages, path)


class ImageReader:
    """Reads a scanned document (TIFF, PNG, JPEG) as one document, by OCR."""

    format = "image"
    suffixes: tuple[str, ...] = (".tif", ".tiff", ".png", ".jpg", ".jpeg")

    def read(self, path: Path) -> Iterator[RawDocument | ReadFailure]:
        """Yield the scan as a single :class:`RawDocument`, with its OCR confidence per page.

        Raises
        ------
        SourceError
            Unreadable or oversize image, Tesseract missing, or no text recognised.
        """
        path = Path(path)
        file_size(path)
        text, ocr = read_scan(path, path)
        doc = RawDocument(
            text=text, source_path=str(path), source_ref=str(path), format=self.format, ocr=ocr
        )
        yield with_header(doc)


def _page(frame: Image.Image, path: Path | str) -> Image.Image:
    width, height = frame.size
    if width * height > MAX_PIXELS:
        raise SourceError(path, f"image trop grande ({width} × {height} pixels)")
    if not is_scan(frame):  # an icon or a thumbnail: no line of text fits
        raise SourceError(path, f"image trop petite pour un document ({width} × {height} pixels)")
    return frame.copy()  # the frame is only valid while the file is open

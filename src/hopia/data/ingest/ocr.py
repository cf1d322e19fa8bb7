"""OCR of scanned pages with Tesseract (Debian ``tesseract-ocr`` + ``tesseract-ocr-fra``).

pytesseract runs the ``tesseract`` command on each page and returns its words with their
confidence (0-100). A page's text is rebuilt line by line from those words, and its confidence
is the mean over its words; a page below :attr:`OcrOptions.low_confidence` is flagged for a
human check. A missing program or language pack is a per-file
:class:`~hopia.platform.exceptions.SourceError` naming the Debian package, never a crash of the
batch.

The options are set once per process by the ingest (:func:`configure`, from the settings):
readers are built by the reader registry without arguments, so they read them here.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from hopia.data.records import OcrPage, RawDocument
from hopia.platform.exceptions import SourceError

MISSING_TESSERACT = (
    "OCR impossible : programme tesseract introuvable "
    "(installer les paquets Debian tesseract-ocr et tesseract-ocr-fra)"
)
MISSING_LANGUAGE = (
    "OCR impossible : données de langue de tesseract absentes "
    "(installer le paquet Debian tesseract-ocr-{lang})"
)
NO_TEXT = "aucun texte reconnu par l'OCR (page blanche ou image illisible)"
# Pages smaller than this are icons or logos, not scanned text.
_MIN_SIDE = 200


@dataclass(frozen=True)
class OcrOptions:
    """How scans are read (settings ``data.ocr``)."""

    command: str = "tesseract"
    languages: str = "fra"
    low_confidence: float = 60.0
    timeout_s: float = 120.0
    max_pages: int = 50


_options = OcrOptions()


def check_page_count(pages: int, path: Path | str) -> None:
    """Refuse a scan with more pages to read by OCR than ``data.ocr.max_pages``: at up to
    ``timeout_s`` a page, one such file would hold the run up for hours."""
    if pages > _options.max_pages:
        raise SourceError(
            path,
            f"scan de {pages} pages à lire par OCR, plus que la limite de "
            f"{_options.max_pages} pages (réglage data.ocr.max_pages) : découpez le document",
        )


def configure(options: OcrOptions) -> None:
    """Set the OCR options of this process (the ingest does it from the settings)."""
    global _options
    _options = options


def options() -> OcrOptions:
    """The OCR options in force."""
    return _options


@dataclass(frozen=True)
class PageText:
    """One page read by OCR."""

    text: str
    confidence: float

    def info(self, number: int) -> OcrPage:
        """What the document keeps of this page: its confidence, and whether it is low."""
        low = self.confidence < _options.low_confidence
        return OcrPage(number, round(self.confidence, 1), low)


def read_page(image: Image.Image, path: Path | str) -> PageText:
    """Text and mean word confidence of one scanned page.

    Raises
    ------
    SourceError
        Tesseract or its language data missing, OCR failed or timed out.
    """
    import pytesseract

    opts = _options
    pytesseract.pytesseract.tesseract_cmd = opts.command
    # Tesseract's OpenMP threads fight over the cores the ingest already uses (its models
    # worker); one thread per page is Tesseract's own advice for parallel work.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    page = _prepared(image)
    try:
        data = pytesseract.image_to_data(
            page,
            lang=opts.languages,
            output_type=pytesseract.Output.DICT,
            timeout=opts.timeout_s,
        )
    except pytesseract.TesseractNotFoundError:
        raise SourceError(path, MISSING_TESSERACT) from None
    except pytesseract.TesseractError as exc:
        raise SourceError(path, _tesseract_failure(exc, opts.languages)) from None
    except RuntimeError as exc:  # pytesseract's timeout
        raise SourceError(path, f"OCR interrompu après {opts.timeout_s:.0f} s ({exc})") from None
    except OSError as exc:  # the command exists but cannot be run (permissions, not a program)
        raise SourceError(path, f"{MISSING_TESSERACT} : {exc.strerror or exc}") from None
    return _page_text(data)


def ocr_pages(pages: Iterable[Image.Image], path: Path | str) -> tuple[str, tuple[OcrPage, ...]]:
    """Text of scanned ``pages`` (joined by a blank line) and each page's confidence."""
    texts: list[str] = []
    info: list[OcrPage] = []
    for number, image in enumerate(pages, start=1):
        page = read_page(image, path)
        texts.append(page.text)
        info.append(page.info(number))
    text = "\n\n".join(t for t in texts if t.strip())
    if not text.strip():
        raise SourceError(path, NO_TEXT)
    return text, tuple(info)


def doubts(doc: RawDocument) -> list[str]:
    """The warnings an OCR'd document carries: its low-confidence pages, to check by eye."""
    low = [p for p in doc.ocr if p.low]
    if not low:
        return []
    pages = ", ".join(f"p. {p.page} ({p.confidence:.0f} %)" for p in low)
    return [f"OCR peu fiable (confiance sous {_options.low_confidence:.0f} %) : {pages}"]


def is_scan(image: Image.Image) -> bool:
    """Large enough to hold text (not a logo or a signature)."""
    return min(image.size) >= _MIN_SIDE


def _prepared(image: Image.Image) -> Image.Image:
    """Grey levels, upright (EXIF orientation of phone photos)."""
    image = ImageOps.exif_transpose(image) or image
    return image.convert("L") if image.mode not in ("L", "1") else image


def _page_text(data: dict[str, list]) -> PageText:
    """Lines rebuilt from Tesseract's words; a blank line between blocks."""
    lines: dict[tuple[int, int, int], list[str]] = defaultdict(list)
    confidences: list[float] = []
    for i, word in enumerate(data["text"]):
        conf = float(data["conf"][i])
        if conf < 0 or not str(word).strip():
            continue  # layout boxes (blocks, lines) carry conf -1 and no text
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        lines[key].append(str(word))
        confidences.append(conf)
    out: list[str] = []
    previous_block = None
    for (block, _, _), words in sorted(lines.items()):
        if previous_block is not None and block != previous_block:
            out.append("")
        out.append(" ".join(words))
        previous_block = block
    confidence = sum(confidences) / len(confidences) if confidences else 0.0
    return PageText("\n".join(out), confidence)


def _tesseract_failure(exc: Exception, languages: str) -> str:
    message = str(exc)
    if "Failed loading language" in message or "traineddata" in message:
        first = languages.split("+")[0]
        return MISSING_LANGUAGE.format(lang=first)
    summary = " ".join(message.split())[:200]
    return f"OCR en échec : {summary or type(exc).__name__}"


# -- evaluation -----------------------------------------------------------------------------------


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions of one character).

    Myers' bit-parallel algorithm (Hyyrö's formulation): one column of the dynamic programming
    table is a pair of integers used as bit vectors, so a page against its OCR (thousands of
    characters each) costs thousands of integer operations, not millions of cells."""
    if len(a) < len(b):
        a, b = b, a
    m = len(b)
    if m == 0:
        return len(a)
    peq: dict[str, int] = {}
    for i, c in enumerate(b):
        peq[c] = peq.get(c, 0) | (1 << i)
    mask, last = (1 << m) - 1, 1 << (m - 1)
    pv, mv, score = mask, 0, m
    for c in a:
        eq = peq.get(c, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & mask)
        mh = pv & xh
        if ph & last:
            score += 1
        elif mh & last:
            score -= 1
        ph = ((ph << 1) | 1) & mask
        mh = (mh << 1) & mask
        pv = mh | (~(xv | ph) & mask)
        mv = ph & xv
    return score


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Edits to turn ``reference`` into ``hypothesis``, per reference character; blanks are
    compared as single spaces (a layout's line breaks and indents are not characters read)."""
    ref, hyp = " ".join(reference.split()), " ".join(hypothesis.split())
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)

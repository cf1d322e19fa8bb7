"""Reading a knowledge document into one text with its structure: headings and pages.

Text, PDF and DOCX decoding reuse the ingest's checks (``hopia.data.ingest``: strict decoding,
truncated or encrypted PDF refused); this module adds what the ingest does not keep and the
chunker needs: the heading styles of a Word document, the page boundaries of a PDF, the
headings of HTML and Markdown. Every offset is into :attr:`SourceText.text`, the text that
citations point at."""

from __future__ import annotations

import html.parser
import io
import re
from dataclasses import dataclass, field
from pathlib import PurePath

from hopia.platform.exceptions import SourceError

FORMATS = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}


@dataclass(frozen=True)
class Heading:
    start: int
    """Offset of the heading's line in the text."""
    level: int
    title: str


@dataclass
class SourceText:
    text: str
    format: str
    headings: list[Heading] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    """Start offset of each page (PDF); empty when the format has no pages."""


def format_of(name: str) -> str:
    fmt = FORMATS.get(PurePath(name).suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(FORMATS))
        raise SourceError(name, f"format non pris en charge (extensions acceptées : {known})")
    return fmt


def read_source(name: str, data: bytes) -> SourceText:
    """The text and structure of the document ``name`` (its suffix picks the format)."""
    fmt = format_of(name)
    if fmt == "pdf":
        return _pdf(name, data)
    if fmt == "docx":
        return _docx(name, data)
    from hopia.data.ingest.text import decode_text

    text = decode_text(data, name)
    if fmt == "html":
        return _html(text)
    source = SourceText(text, fmt)
    source.headings = markdown_headings(text) if fmt == "markdown" else []
    source.headings = _merge(source.headings, numbered_headings(text))
    return source


# -- headings found in plain text -----------------------------------------------------------

_MD = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
# "1. Objet", "2.3 Posologie chez l'enfant", "II. Indications": a short line, no final period.
_NUMBERED = re.compile(
    r"^[ \t]*((?:\d{1,2}\.)*\d{1,2}\.?|[IVX]{1,5}\.)[ \t]+(\S[^\n]{0,90})$", re.M
)


def markdown_headings(text: str) -> list[Heading]:
    return [Heading(m.start(), len(m.group(1)), m.group(2).strip()) for m in _MD.finditer(text)]


def numbered_headings(text: str) -> list[Heading]:
    out = []
    for m in _NUMBERED.finditer(text):
        number, title = m.group(1), m.group(2).strip()
        if title.endswith((".", ";", ",", ":")) or not title[0].isupper():
            continue  # a numbered list item or a sentence, not a title
        level = number.rstrip(".").count(".") + 1 if number[0].isdigit() else 1
        out.append(Heading(m.start(), level, f"{number} {title}"))
    return out


def _merge(first: list[Heading], second: list[Heading]) -> list[Heading]:
    seen = {h.start for h in first}
    return sorted(first + [h for h in second if h.start not in seen], key=lambda h: h.start)


# -- PDF: one text, pages joined by a blank line ---------------------------------------------


def _pdf(name: str, data: bytes) -> SourceText:
    # The ingest's reader checks the file (header, end marker, encryption, OCR of scans) and
    # returns the pages joined; pages are read again here to keep their boundaries.
    from hopia.data.ingest.pdf import read_pdf

    read_pdf(data, name)
    from pypdf import PdfReader

    from hopia.data.ingest.text import normalise_newlines

    pages = [
        normalise_newlines(p.extract_text() or "").strip("\n")
        for p in PdfReader(io.BytesIO(data)).pages
    ]
    starts, parts, offset = [], [], 0
    for page in pages:
        starts.append(offset)
        parts.append(page)
        offset += len(page) + 2
    text = "\n\n".join(parts)
    return SourceText(text, "pdf", numbered_headings(text), starts)


# -- DOCX: paragraphs and tables in order, heading styles kept --------------------------------

_HEADING_STYLE = re.compile(r"^(?:heading|titre)\s*(\d)$", re.I)


def _docx(name: str, data: bytes) -> SourceText:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    # python-docx and the zip/XML layers under it raise many exception types on corrupt input.
    except Exception as exc:
        raise SourceError(name, f"DOCX illisible : {type(exc).__name__}") from None
    lines: list[str] = []
    headings: list[Heading] = []
    offset = 0
    for block in document.iter_inner_content():
        if hasattr(block, "rows"):  # a table: one line per row, cells separated by " | "
            texts = [" | ".join(c.text.strip() for c in row.cells) for row in block.rows]
        else:
            style = block.style.name if block.style is not None else ""
            match = _HEADING_STYLE.match(style or "")
            texts = [block.text]
            if match and block.text.strip():
                headings.append(Heading(offset, int(match.group(1)), block.text.strip()))
        for t in texts:
            lines.append(t)
            offset += len(t) + 1
    text = "\n".join(lines)
    if not text.strip():
        raise SourceError(name, "document Word sans texte")
    if not headings:
        headings = numbered_headings(text)
    return SourceText(text, "docx", headings)


# -- HTML: block elements on their own lines, h1-h6 as headings ------------------------------

_BLOCKS = {"p", "div", "li", "tr", "br", "section", "article", "table", "ul", "ol", "dd", "dt"}
_SKIP = {"script", "style", "head", "nav", "noscript", "template"}


class _HtmlText(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0
        self.headings: list[Heading] = []
        self._skip = 0
        self._heading: tuple[int, int] | None = None  # (level, start offset)

    def _newline(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self._add("\n")

    def _add(self, s: str) -> None:
        self.parts.append(s)
        self.length += len(s)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self._newline()
            self._heading = (int(tag[1]), self.length)
        elif tag in _BLOCKS:
            self._newline()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            level, start = self._heading
            title = "".join(self.parts)[start:].strip()
            if title:
                self.headings.append(Heading(start, level, " ".join(title.split())))
            self._heading = None
            self._newline()
        elif tag in _BLOCKS:
            self._newline()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        chunk = re.sub(r"\s+", " ", data)
        if chunk.strip() or (self.parts and not self.parts[-1].endswith((" ", "\n"))):
            if self.parts and self.parts[-1].endswith("\n"):
                chunk = chunk.lstrip()
            self._add(chunk)


def _html(markup: str) -> SourceText:
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts)
    return SourceText(text, "html", parser.headings)

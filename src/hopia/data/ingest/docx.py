"""DOCX reader: body paragraphs and tables, in document order.

python-docx opens the package; the body is then walked directly in its XML, because its
high-level API skips the content controls (``w:sdt``) and text boxes that hospital letter
templates use for most of their fields. Headers and footers (letterhead) are not read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import docx
from docx.oxml.ns import qn

from hopia.data.ingest.header import with_header
from hopia.data.ingest.text import file_size
from hopia.data.records import RawDocument, ReadFailure
from hopia.platform.exceptions import SourceError

_P, _TBL, _TR, _TC = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc")
_T, _TAB, _BR, _CR = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")
_SDT, _SDT_PR, _PLACEHOLDER = qn("w:sdt"), qn("w:sdtPr"), qn("w:showingPlcHdr")
# Wrappers whose content belongs to the surrounding flow.
_WRAPPERS = frozenset({_SDT, qn("w:sdtContent"), qn("w:customXml"), qn("w:smartTag")})
# Subtrees that are not text: the legacy duplicate of a drawing, paragraph/run properties.
_SKIPPED = frozenset(
    {
        "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback",
        qn("w:pPr"),
        qn("w:rPr"),
        _SDT_PR,
    }
)


def _is_placeholder(element) -> bool:
    """A content control still showing its prompt ("Cliquez ici...") holds no document text."""
    if element.tag != _SDT:
        return False
    props = element.find(_SDT_PR)
    return props is not None and props.find(_PLACEHOLDER) is not None


def _children(element, tag: str) -> Iterator:
    """Children of ``element`` with ``tag``, looking through content-control wrappers."""
    for child in element.iterchildren():
        if child.tag == tag:
            yield child
        elif child.tag in _WRAPPERS and not _is_placeholder(child):
            yield from _children(child, tag)


def _blocks(container) -> Iterator[str]:
    """Lines of a body, cell or text box: one per paragraph, one per table row."""
    for child in container.iterchildren():
        if child.tag == _P:
            yield _paragraph_text(child)
        elif child.tag == _TBL:
            yield from _table_lines(child)
        elif child.tag in _WRAPPERS and not _is_placeholder(child):
            yield from _blocks(child)


def _paragraph_text(p) -> str:
    parts: list[str] = []
    _collect_runs(p, parts)
    return "".join(parts)


def _collect_runs(element, parts: list[str]) -> None:
    for child in element.iterchildren():
        tag = child.tag
        if tag in _SKIPPED or _is_placeholder(child):
            continue
        if tag == _T:
            parts.append(child.text or "")
        elif tag == _TAB:
            parts.append("\t")
        elif tag in (_BR, _CR):
            parts.append("\n")
        elif tag == _P:  # a paragraph nested in a text box starts a new line
            parts.append("\n")
            _collect_runs(child, parts)
        else:
            _collect_runs(child, parts)


def _table_lines(tbl) -> Iterator[str]:
    for tr in _children(tbl, _TR):
        cells = [_cell_text(tc) for tc in _children(tr, _TC)]
        if any(cells):
            yield " | ".join(cells)


def _cell_text(tc) -> str:
    # A row is one line: the cell's own line breaks become spaces.
    lines = (" ".join(line.split()) for line in _blocks(tc))
    return " ".join(line for line in lines if line)


def _docx_text(path: Path) -> str:
    try:
        body = docx.Document(str(path)).element.body
    # python-docx and the zip/XML layers under it raise many exception types on corrupt input.
    except Exception as exc:
        raise SourceError(path, f"DOCX illisible : {_summary(exc)}") from None
    lines = [line.rstrip() for line in "\n".join(_blocks(body)).split("\n")]
    return "\n".join(lines).strip("\n")


def _summary(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class DocxReader:
    """Reads a Word (.docx) document as one document: paragraphs and table rows, in order."""

    format = "docx"
    suffixes: tuple[str, ...] = (".docx",)

    def read(self, path: Path) -> Iterator[RawDocument | ReadFailure]:
        """Yield the document as a single :class:`RawDocument`.

        Raises
        ------
        SourceError
            Empty, corrupt or non-Word file, or a document without text.
        """
        path = Path(path)
        file_size(path)
        text = _docx_text(path)
        if not text.strip():
            raise SourceError(path, "DOCX sans texte")
        doc = RawDocument(
            text=text, source_path=str(path), source_ref=str(path), format=self.format
        )
        yield with_header(doc)  # no structured patient: the one its header states

"""JSON Lines reader (.jsonl, .ndjson): one document per line, streamed.

Each line is ``{"id": str, "text": str}`` with optional ``"patient_id"``, ``"date"`` and ``"type"``,
and optionally the hospital stay the document belongs to:

- ``"visit_id"``: the stay number (NDA); the documents of one patient sharing it make one
  ``visit_occurrence`` (without it, one visit per patient, day and document type);
- ``"visit_start"``, ``"visit_end"``: admission and discharge dates (ISO, ``AAAA-MM-JJ``), used
  with ``visit_id`` (else the stay spans its documents' dates);
- ``"service"``: the care unit in charge (written as the stay's ``care_site``).

Dates may also be ISO date-times (the day is kept). A bad line becomes a :class:`ReadFailure`
naming its line number and the faulty field; the others are still read, whatever the shape of
the bad one: invalid JSON or UTF-8, an array or a number instead of an object, nesting deep
enough to exhaust Python's recursion, a number beyond Python's conversion limit, a line longer
than :data:`MAX_LINE_BYTES` (skipped without being held in memory). A UTF-8 BOM and CRLF line
ends are accepted.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from hopia.data.ingest.text import decode_cp1252, file_size, looks_like_text, normalise_newlines
from hopia.data.records import RawDocument, ReadFailure
from hopia.platform.exceptions import SourceError
from hopia.platform.text import json_problem

_SNIFF_BYTES = 8192
MAX_LINE_BYTES = 64 * 1024 * 1024
"""Longest line read; a longer one is one bad line (the per-document limit of the pipeline,
``data.ingest.max_document_chars``, then applies to the text of the lines read)."""
_SKIP_CHUNK = 1024 * 1024
_WIDE_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class _LineError(Exception):
    """A line that cannot be read; carries the French reason."""


def _lines(stream: BinaryIO, path: Path) -> Iterator[tuple[int, bytes, str | None]]:
    """``(line number, raw bytes, decoded text or None)`` of every line, without its newline.
    A line over :data:`MAX_LINE_BYTES` comes as ``(number, b"", _TOO_LONG)``."""
    head = stream.read(_SNIFF_BYTES)
    stream.seek(0)
    encoding = next((enc for bom, enc in _WIDE_BOMS if head.startswith(bom)), None)
    if encoding:  # UTF-16/32 cannot be split on b"\n": decode the stream as a whole
        wrapper = io.TextIOWrapper(stream, encoding=encoding, errors="strict", newline="")
        try:
            for lineno, line in enumerate(wrapper, start=1):
                line = line.rstrip("\r\n")
                yield lineno, line.encode("utf-8"), line
        except UnicodeDecodeError as exc:
            raise SourceError(path, f"encodage {encoding} invalide ({exc.reason})") from None
        return
    if b"\x00" in head:
        raise SourceError(path, "fichier binaire ou corrompu (octets nuls)")
    limit = MAX_LINE_BYTES  # read at call time, so that tests can lower it
    lineno = 0
    while raw := stream.readline(limit + 1):
        lineno += 1
        if len(raw.rstrip(b"\r\n")) > limit:
            _skip_line(stream, raw)
            yield lineno, b"", _TOO_LONG
            continue
        raw = raw.rstrip(b"\r\n")
        if lineno == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        yield lineno, raw, _decode_line(raw)


_TOO_LONG = "\x00too-long"  # never a decoded line: those holding NUL are refused as binary


def _skip_line(stream: BinaryIO, head: bytes) -> None:
    """Read past the end of an over-long line, a chunk at a time."""
    chunk = head
    while chunk and not chunk.endswith(b"\n"):
        chunk = stream.readline(_SKIP_CHUNK)


def _decode_line(raw: bytes) -> str | None:
    try:
        text: str | None = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = decode_cp1252(raw)
    return text if text is not None and looks_like_text(text) else None


def _string(record: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = record.get(key)
    if value is None:
        if required:
            raise _LineError(f"champ « {key} » manquant")
        return None
    if not isinstance(value, str):
        raise _LineError(f"champ « {key} » : chaîne attendue (reçu {type(value).__name__})")
    if required and not value.strip():
        raise _LineError(f"champ « {key} » vide")
    return value


def _parse_date(value: str | None) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        if len(value.strip()) == 10:
            return date.fromisoformat(value.strip())
        return datetime.fromisoformat(value.strip()).date()
    except ValueError:
        raise _LineError("date invalide (attendu AAAA-MM-JJ)") from None


def _optional(record: dict[str, Any], key: str) -> str | None:
    """A stripped string field, None when absent or blank."""
    value = _string(record, key)
    return value.strip() if value and value.strip() else None


def _date_field(record: dict[str, Any], key: str) -> date | None:
    value = _string(record, key)
    try:
        return _parse_date(value)
    except _LineError as exc:
        raise _LineError(f"champ « {key} » : {exc}") from None


def _stay(record: dict[str, Any]) -> dict[str, Any]:
    """The stay fields of a line (see the module docstring), checked."""
    start, end = _date_field(record, "visit_start"), _date_field(record, "visit_end")
    if start and end and end < start:
        raise _LineError(
            f"séjour incohérent : « visit_end » ({end.isoformat()}) antérieur à "
            f"« visit_start » ({start.isoformat()})"
        )
    return {
        "visit_id": _optional(record, "visit_id"),
        "visit_start": start,
        "visit_end": end,
        "service": _optional(record, "service"),
    }


def _document(line: str, path: Path, lineno: int) -> RawDocument:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _LineError(f"JSON invalide : {json_problem(exc)} (colonne {exc.colno})") from None
    except RecursionError:  # e.g. "[[[[…" 100,000 deep: this line only, the file goes on
        raise _LineError("JSON invalide : structure trop profondément imbriquée") from None
    except ValueError as exc:  # e.g. an integer beyond Python's 4300-digit conversion limit
        raise _LineError(f"JSON invalide : {json_problem(exc)}") from None
    if not isinstance(record, dict):
        raise _LineError("la ligne n'est pas un objet JSON")
    return _record_document(record, str(path), f"{path}#L{lineno}")


def record_document(record: dict[str, Any], source_path: str, source_ref: str) -> RawDocument:
    """A document from one record of the JSONL contract (a parsed line, a Parquet or Spark
    table row), checked as a line is.

    Raises
    ------
    ValueError
        A field missing or of the wrong type, a bad date: the French reason, naming the field.
    """
    try:
        return _record_document(record, source_path, source_ref)
    except _LineError as exc:
        raise ValueError(str(exc)) from None


def _record_document(record: dict[str, Any], source_path: str, source_ref: str) -> RawDocument:
    doc_id = _string(record, "id", required=True)
    text = _string(record, "text", required=True)
    patient_id = _string(record, "patient_id")
    return RawDocument(
        text=normalise_newlines(text or ""),
        source_path=source_path,
        source_ref=source_ref,
        format=JsonlReader.format,
        external_id=doc_id,
        ipp=patient_id.strip() if patient_id and patient_id.strip() else None,
        doc_date=_parse_date(_string(record, "date")),
        doc_type=_string(record, "type"),
        **_stay(record),
    )


class JsonlReader:
    """Reads JSON Lines files: one document per non-blank line."""

    format = "jsonl"
    suffixes: tuple[str, ...] = (".jsonl", ".ndjson")
    streamed = True  # read line by line: no whole-file size limit, each line is bounded

    def read(self, path: Path) -> Iterator[RawDocument | ReadFailure]:
        """Yield one :class:`RawDocument` per line, or a :class:`ReadFailure` for a bad line.

        Raises
        ------
        SourceError
            Empty, unreadable or binary file, or one without any data line.
        """
        path = Path(path)
        file_size(path)
        seen = 0
        try:
            with path.open("rb") as stream:
                for lineno, raw, line in _lines(stream, path):
                    if line is not None and not line.strip():
                        continue
                    seen += 1
                    yield self._read_line(path, lineno, raw, line)
        except OSError as exc:
            raise SourceError(path, f"fichier illisible : {exc.strerror or exc}") from None
        if not seen:
            raise SourceError(path, "fichier vide (aucune ligne de données)")

    def _read_line(
        self, path: Path, lineno: int, raw: bytes, line: str | None
    ) -> RawDocument | ReadFailure:
        try:
            if line is _TOO_LONG:
                raise _LineError(f"ligne trop longue (plus de {MAX_LINE_BYTES} octets)")
            if line is None:
                raise _LineError("encodage non reconnu ou octets binaires")
            return _document(line, path, lineno)
        except _LineError as exc:
            reason = f"ligne {lineno} : {exc}"
            return ReadFailure(str(path), f"{path}#L{lineno}", self.format, reason, raw)

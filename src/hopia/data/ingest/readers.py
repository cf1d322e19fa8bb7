"""Choosing a reader for a file, and walking the folders handed to ingest.

The suffix proposes a format; the first bytes decide when they clearly say otherwise (a PDF saved
as ``.txt``, an HL7 export named ``.dat``), so that a misnamed file is read right or refused,
never read as the wrong thing. Readers are found in :data:`READERS`, a
:class:`~hopia.platform.registry.Registry`: a site adds a format (CDA, say) with a plug-in package
declaring an entry point in the ``hopia.readers`` group, and its files are chosen by suffix.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from hopia.data.ingest._base import Reader
from hopia.data.ingest.text import file_size
from hopia.data.records import RawDocument, ReadFailure
from hopia.platform.exceptions import SourceError
from hopia.platform.registry import Registry

_BUILT_IN: dict[str, str] = {
    "text": "hopia.data.ingest.text:TextReader",
    "pdf": "hopia.data.ingest.pdf:PdfReader",
    "docx": "hopia.data.ingest.docx:DocxReader",
    "hl7v2": "hopia.data.ingest.hl7v2:Hl7Reader",
    "fhir": "hopia.data.ingest.fhir:FhirReader",
    "jsonl": "hopia.data.ingest.jsonl:JsonlReader",
    "image": "hopia.data.ingest.image:ImageReader",
}
READERS: Registry[type[Reader]] = Registry("lecteur", "hopia.readers", _BUILT_IN)
"""Every reader class, by the ``format`` it writes into :attr:`RawDocument.format`: Hopia's,
imported on first use, then plug-ins (entry-point group ``hopia.readers``) and readers
registered at run time (``READERS.register("cda", CdaReader)``)."""

# Formats met in hospital exports that no reader handles: refused with a clear reason rather than
# read as plain text.
UNSUPPORTED_SUFFIXES: dict[str, str] = {
    ".doc": "Word 97-2003 (.doc) : convertir en .docx",
    ".rtf": "RTF",
    ".odt": "OpenDocument (.odt)",
    ".xml": "XML (CDA ?)",
    ".html": "HTML",
    ".htm": "HTML",
    ".xls": "Excel",
    ".xlsx": "Excel",
    ".csv": "CSV",
    ".zip": "archive ZIP",
}
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "document Office 97-2003 (OLE)"),
    (b"GIF8", "image GIF"),
    (b"{\\rtf", "RTF"),
)
# Scans, read by OCR (hopia.data.ingest.image).
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")
_SNIFF_BYTES = 64 * 1024
_TEXT_CONTROLS = frozenset(b"\t\n\r\f\x0b\x1c")
_BINARY_CONTROL_RATIO = 0.01
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as stream:
            return stream.read(_SNIFF_BYTES)
    except OSError as exc:
        raise SourceError(path, f"fichier illisible : {exc.strerror or exc}") from None


def _looks_binary(head: bytes) -> bool:
    if head.startswith(_WIDE_BOMS):
        return False
    controls = sum(1 for b in head if b < 0x20 and b not in _TEXT_CONTROLS)
    return b"\x00" in head or controls > len(head) * _BINARY_CONTROL_RATIO


def _head_text(head: bytes) -> str:
    """Best-effort text of the first bytes, for sniffing only (never returned as content)."""
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, errors="ignore")
    return head.decode("utf-8", errors="ignore")


def _sniff_json(text: str) -> str | None:
    first_line = text.split("\n", 1)[0].strip()
    try:
        first = json.loads(first_line)
    except ValueError:
        first = None
    if isinstance(first, dict) and "text" in first and "resourceType" not in first:
        return "jsonl"
    return "fhir" if '"resourceType"' in text else None


def _sniff(path: Path, head: bytes) -> str | None:
    """Format the content announces, ``None`` when it does not say.

    Raises
    ------
    SourceError
        Content of a known format that no reader handles (images, OLE, RTF, other ZIPs).
    """
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(path)
    if head.startswith(_IMAGE_MAGIC):
        return "image"
    for magic, label in _MAGIC:
        if head.startswith(magic):
            raise SourceError(path, f"format non pris en charge : {label}")
    text = _head_text(head).lstrip("\x0b \t\r\n")
    if text[:3] in ("MSH", "FHS", "BHS") and len(text) > 3 and not text[3].isalnum():
        return "hl7v2"
    if text.startswith("{"):
        return _sniff_json(text)
    return None


def _sniff_zip(path: Path) -> str:
    if path.suffix.lower() in READERS.get("docx").suffixes:
        return "docx"  # the reader says precisely what is wrong with it
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        raise SourceError(path, "format non pris en charge : archive ZIP corrompue") from None
    if "word/document.xml" in names:
        return "docx"
    raise SourceError(path, "format non pris en charge : archive ZIP (pas un document Word)")


def reader_for(path: str | Path) -> Reader:
    """The reader for ``path``: by content when it is explicit, else by suffix.

    Raises
    ------
    SourceError
        Missing, unreadable or empty file; unsupported format; binary content under an
        unknown suffix.
    """
    path = Path(path)
    file_size(path)
    head = _head(path)
    suffix = path.suffix.lower()
    fmt = _sniff(path, head)
    if fmt is None:
        fmt = _by_suffix().get(suffix)
    if fmt is None:
        if suffix in UNSUPPORTED_SUFFIXES:
            raise SourceError(path, f"format non pris en charge : {UNSUPPORTED_SUFFIXES[suffix]}")
        if _looks_binary(head):
            kind = f"extension {suffix}" if suffix else "sans extension"
            raise SourceError(path, f"format non pris en charge ({kind}, contenu binaire)")
        fmt = "text"
    return READERS.get(fmt)()


def _by_suffix() -> dict[str, str]:
    """Format of each suffix a reader claims. Hopia's readers come first: a plug-in adds
    suffixes (``.cda``, ``.xml``) but cannot change how a file Hopia reads is read."""
    names = [*_BUILT_IN, *(n for n in READERS.names() if n not in _BUILT_IN)]
    found: dict[str, str] = {}
    for name in names:
        for suffix in READERS.get(name).suffixes:
            found.setdefault(suffix.lower(), name)
    return found


def _visible(name: str) -> bool:
    # Hidden files, and the "~$" lock files Word leaves next to an open document.
    return not name.startswith((".", "~$"))


def iter_paths(paths: str | Path | Iterable[str | Path]) -> Iterator[Path]:
    """Files to ingest: files as given, folders expanded recursively in sorted order.

    Hidden files and folders inside a folder are skipped; symbolic links to folders are not
    followed. A path that does not exist is yielded as is, so that reading it reports the error.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    for given in paths:
        root = Path(given)
        if not root.is_dir():
            yield root
            continue
        found: list[Path] = []
        for folder, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if _visible(d)]
            found.extend(Path(folder, f) for f in filenames if _visible(f))
        yield from sorted(found)


def read_path(
    path: str | Path, *, max_file_bytes: int | None = None
) -> Iterator[RawDocument | ReadFailure]:
    """Documents of one file, read by the reader :func:`reader_for` chooses.

    ``max_file_bytes``: largest file a reader reads whole. A reader that streams its records
    (``streamed = True``, e.g. JSON Lines) is exempt: each record is bounded on its own.

    Raises
    ------
    SourceError
        The file as a whole cannot be read (unsupported, unreadable, corrupt, over the limit).
    """
    path = Path(path)
    reader = reader_for(path)
    if max_file_bytes is not None and not getattr(reader, "streamed", False):
        size = file_size(path)
        if size > max_file_bytes:
            raise SourceError(
                path,
                f"fichier trop volumineux ({_megabytes(size)}, limite {_megabytes(max_file_bytes)}"
                " : réglage data.ingest.max_file_bytes)",
            )
    try:
        yield from reader.read(path)
    except OSError as exc:  # e.g. the file vanished or a disk error while reading
        raise SourceError(path, f"fichier illisible : {exc.strerror or exc}") from None


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")

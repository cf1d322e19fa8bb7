"""Plain-text reader (.txt, .md) and the text-decoding helpers the other text formats share.

Decoding is strict: UTF-8 (BOM stripped), UTF-16/32 with a BOM, else cp1252 when the bytes decode
and look like text. Nothing is ever replaced silently: a file that fits none of these is refused
with an :class:`~hopia.platform.exceptions.SourceError`.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path

from hopia.data.ingest.header import with_header
from hopia.data.records import RawDocument, ReadFailure
from hopia.platform.exceptions import SourceError

MAX_TEXT_BYTES = 50 * 1024 * 1024
"""Largest plain-text file accepted; a clinical note is a few kB, more is an export gone wrong."""

# Checked longest first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Control characters text may legitimately hold: tab, newlines, form feed, and the MLLP frame
# bytes (VT, FS) that HL7 exports often keep.
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\x0b\x1c")
_MAX_CONTROL_RATIO = 0.001
# A UTF-8 accented letter (é = C3 A9) read as cp1252 gives "Ã©": "Ã" followed by a byte in
# 80-BF never occurs in French cp1252 text, so its presence means UTF-8 bytes are mixed in, and
# decoding the whole file as cp1252 would silently garble them.
_UTF8_ACCENT = re.compile(rb"\xc3[\x80-\xbf]")


def file_size(path: Path) -> int:
    """Size of ``path`` in bytes; ``SourceError`` when missing, not a file, unreadable or empty."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SourceError(path, "fichier introuvable") from None
    except OSError as exc:
        raise SourceError(path, f"fichier illisible : {exc.strerror or exc}") from None
    if not path.is_file():
        raise SourceError(path, "ce n'est pas un fichier ordinaire")
    if st.st_size == 0:
        raise SourceError(path, "fichier vide")
    return st.st_size


def read_bytes(path: Path, max_bytes: int | None = None) -> bytes:
    """Whole content of ``path``, refusing it before reading when it exceeds ``max_bytes``."""
    size = file_size(path)
    if max_bytes is not None and size > max_bytes:
        raise SourceError(
            path,
            f"fichier trop volumineux ({_human(size)}, limite {_human(max_bytes)})",
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(path, f"fichier illisible : {exc.strerror or exc}") from None


def decode_text(data: bytes, path: Path | str) -> str:
    """Decode ``data`` strictly and normalise line endings to ``\\n``.

    Raises
    ------
    SourceError
        Empty input, NUL bytes or control characters (binary), or bytes valid in no accepted
        encoding.
    """
    if not data:
        raise SourceError(path, "fichier vide")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise SourceError(
                    path, f"encodage {encoding} invalide (octet {exc.start})"
                ) from None
            return _checked(text, path)
    if b"\x00" in data:
        raise SourceError(path, "fichier binaire ou corrompu (octets nuls)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = decode_cp1252(data)
        if text is None:
            raise SourceError(path, _legacy_failure(data)) from None
    return _checked(text, path)


def decode_cp1252(data: bytes) -> str | None:
    """``data`` as Windows-1252, or ``None`` when it is not (undefined bytes, or UTF-8 inside)."""
    if _UTF8_ACCENT.search(data):
        return None
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return None


def _legacy_failure(data: bytes) -> str:
    if _UTF8_ACCENT.search(data):
        return "encodage mixte (UTF-8 et Windows-1252 dans le même fichier)"
    return "encodage non reconnu (ni UTF-8 ni Windows-1252)"


def looks_like_text(text: str) -> bool:
    """True when ``text`` holds (almost) no control characters, i.e. is not decoded binary."""
    controls = sum(1 for c in text if c < " " and c not in _ALLOWED_CONTROLS)
    return "\x00" not in text and controls <= len(text) * _MAX_CONTROL_RATIO


def normalise_newlines(text: str) -> str:
    """``\\r\\n`` and lone ``\\r`` become ``\\n``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _checked(text: str, path: Path | str) -> str:
    if not looks_like_text(text):
        raise SourceError(path, "fichier binaire ou corrompu (caractères de contrôle)")
    return normalise_newlines(text)


def _human(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} Mo"
    if size >= 1024:
        return f"{size / 1024:.1f} ko"
    return f"{size} octets"


class TextReader:
    """Reads a plain-text note (.txt, .md) as one document, content kept verbatim."""

    format = "text"
    suffixes: tuple[str, ...] = (".txt", ".md", ".text")

    def read(self, path: Path) -> Iterator[RawDocument | ReadFailure]:
        """Yield the file as a single :class:`RawDocument`.

        Raises
        ------
        SourceError
            Empty, oversize (above ``MAX_TEXT_BYTES``), binary or undecodable file.
        """
        path = Path(path)
        # Read the module constant at call time so that it can be tuned (and monkeypatched).
        text = decode_text(read_bytes(path, MAX_TEXT_BYTES), path)
        if not text.strip():
            raise SourceError(path, "fichier vide (espaces uniquement)")
        doc = RawDocument(
            text=text, source_path=str(path), source_ref=str(path), format=self.format
        )
        yield with_header(doc)  # no structured patient: the one its header states

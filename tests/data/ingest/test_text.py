"""TextReader: strict decoding (UTF-8, UTF-16 BOM, cp1252), and refusal of bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from hopia.data.ingest import text as text_module
from hopia.data.ingest.text import TextReader
from hopia.data.records import RawDocument
from hopia.platform.exceptions import SourceError
from tests.data.ingest.conftest import CR_TEXT, assert_ingest_error

NOTE = "\n".join(CR_TEXT) + "\n"


def _read_one(path: Path) -> RawDocument:
    docs = list(TextReader().read(path))
    assert len(docs) == 1
    assert isinstance(docs[0], RawDocument)
    return docs[0]


def test_utf8_note_is_read_verbatim(write) -> None:
    path = write("cr.txt", NOTE)
    doc = _read_one(path)
    assert doc.text == NOTE
    assert (doc.format, doc.source_path, doc.source_ref) == ("text", str(path), str(path))
    assert doc.patient is None and doc.external_id is None and doc.doc_date is None


def test_markdown_and_crlf_are_normalised(write) -> None:
    path = write("note.md", "# Synthèse\r\n\r\nFièvre résolutive.\rSortie J3.\r\n")
    assert _read_one(path).text == "# Synthèse\n\nFièvre résolutive.\nSortie J3.\n"


def test_utf8_bom_is_stripped(write) -> None:
    path = write("bom.txt", b"\xef\xbb\xbf" + NOTE.encode("utf-8"))
    assert _read_one(path).text == NOTE


def test_cp1252_file_is_decoded(write) -> None:
    # "œ" and the euro sign exist in cp1252 but not in latin-1.
    content = "Patient en fièvre, œdème des membres inférieurs ; dépassement 50 €.\n"
    path = write("latin.txt", content.encode("cp1252"))
    doc = _read_one(path)
    assert "fièvre" in doc.text and "œdème" in doc.text
    assert doc.text == content


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_with_bom_is_decoded(write, encoding: str) -> None:
    data = NOTE.replace("\n", "\r\n").encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path = write("utf16.txt", data)
    assert _read_one(path).text == NOTE


def test_binary_garbage_is_refused(write) -> None:
    path = write("scan.txt", bytes(range(256)) * 16)
    with pytest.raises(SourceError) as excinfo:
        list(TextReader().read(path))
    assert_ingest_error(excinfo, "fichier binaire ou corrompu (octets nuls)", path)


def test_control_characters_are_refused(write) -> None:
    path = write("ctrl.txt", b"texte\x01\x02\x03\x04\x05\x06\x07\x08" * 10)
    with pytest.raises(SourceError) as excinfo:
        list(TextReader().read(path))
    assert_ingest_error(excinfo, "fichier binaire ou corrompu (caractères de contrôle)", path)


def test_undecodable_bytes_are_refused_not_replaced(write) -> None:
    # 0x81 is undefined in cp1252 and invalid as UTF-8: no encoding fits.
    path = write("bad.txt", "fièvre".encode("cp1252") + b"\x81")
    with pytest.raises(SourceError) as excinfo:
        list(TextReader().read(path))
    assert_ingest_error(excinfo, "encodage non reconnu (ni UTF-8 ni Windows-1252)", path)


def test_mixed_utf8_and_cp1252_is_refused_not_garbled(write) -> None:
    # Decoding this as cp1252 would turn the UTF-8 "é" into "Ã©" without a word.
    path = write("mixte.txt", "Fièvre".encode("cp1252") + " et dyspnée".encode())
    with pytest.raises(SourceError) as excinfo:
        list(TextReader().read(path))
    assert_ingest_error(excinfo, "encodage mixte (UTF-8 et Windows-1252", path)


def test_empty_file_is_refused(write) -> None:
    path = write("vide.txt", b"")
    with pytest.raises(SourceError) as excinfo:
        list(TextReader().read(path))
    assert_ingest_error(excinfo, "fichier vide", path)


def test_blank_file_is_refused(write) -> None:
    path = write("blanc.txt", "  \n\n\t\n")
    with pytest.raises(SourceError) as excinfo:
        list(TextReader().read(path))
    assert_ingest_error(excinfo, "fichier vide (espaces uniquement)", path)


def test_oversize_file_is_refused_before_reading(write, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_module, "MAX_TEXT_BYTES", 100)
    path = write("gros.txt", "x" * 101)
    with pytest.raises(SourceError) as excinfo:
        list(TextReader().read(path))
    assert_ingest_error(excinfo, "fichier trop volumineux (101 octets, limite 100 octets)", path)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "absent.txt"
    with pytest.raises(SourceError) as excinfo:
        list(TextReader().read(path))
    assert_ingest_error(excinfo, "fichier introuvable", path)

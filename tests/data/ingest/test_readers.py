"""Dispatch: suffix, content sniffing for misnamed files, folder walking, refused formats."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import docx
import pytest
from PIL import Image

from hopia.data.ingest._base import Reader
from hopia.data.ingest.readers import READERS, iter_paths, read_path, reader_for
from hopia.data.records import RawDocument, ReadFailure
from hopia.platform.exceptions import IngestError
from tests.data.ingest.conftest import assert_ingest_error, pdf_bytes
from tests.data.ingest.test_hl7v2 import ORU

FHIR_DOC = {
    "resourceType": "DocumentReference",
    "status": "current",
    "content": [{"attachment": {"contentType": "text/plain", "data": "RmnDqHZyZS4="}}],
}
JSONL = '{"id": "n1", "text": "Fièvre."}\n{"id": "n2", "text": "Toux."}\n'


def _docx_bytes(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_registry_holds_every_format() -> None:
    assert set(READERS) == {"text", "pdf", "docx", "hl7v2", "fhir", "jsonl"}
    for fmt, cls in READERS.items():
        reader = cls()
        assert isinstance(reader, Reader) and reader.format == fmt
        assert reader.suffixes and all(s.startswith(".") for s in reader.suffixes)


@pytest.mark.parametrize(
    ("name", "content", "fmt"),
    [
        ("note.txt", "Fièvre.", "text"),
        ("note.MD", "# Synthèse", "text"),
        ("cr.pdf", pdf_bytes(["Compte rendu."]), "pdf"),
        ("lettre.docx", _docx_bytes("Lettre."), "docx"),
        ("cr.hl7", ORU, "hl7v2"),
        ("doc.json", json.dumps(FHIR_DOC), "fhir"),
        ("notes.jsonl", JSONL, "jsonl"),
        ("notes.ndjson", JSONL, "jsonl"),
    ],
)
def test_reader_by_suffix(write, name: str, content: str | bytes, fmt: str) -> None:
    assert reader_for(write(name, content)).format == fmt


@pytest.mark.parametrize(
    ("name", "content", "fmt"),
    [
        ("scan.txt", pdf_bytes(["Compte rendu mal nommé."]), "pdf"),
        ("export.dat", ORU, "hl7v2"),
        ("message.txt", "\x0b" + ORU, "hl7v2"),
        ("lettre.bin", _docx_bytes("Lettre."), "docx"),
        ("doc.txt", json.dumps(FHIR_DOC, indent=2), "fhir"),
        ("notes.json", JSONL, "jsonl"),
        ("sans-extension", "Consultation du 5 mars : RAS.", "text"),
        ("note.log", "Consultation du 5 mars : RAS.".encode("cp1252"), "text"),
    ],
)
def test_content_overrides_misleading_or_unknown_suffix(
    write, name: str, content: str | bytes, fmt: str
) -> None:
    path = write(name, content)
    assert reader_for(path).format == fmt
    assert all(isinstance(item, RawDocument) for item in read_path(path))


def test_read_path_yields_documents_and_failures(write) -> None:
    path = write("notes.jsonl", JSONL + "pas du json\n")
    items = list(read_path(path))
    assert [type(i) for i in items] == [RawDocument, RawDocument, ReadFailure]
    assert items[0].text == "Fièvre." and items[2].source_ref == f"{path}#L3"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (8, 8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "x")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        (
            "donnees.bin",
            bytes(range(256)) * 8,
            "format non pris en charge (extension .bin, contenu binaire)",
        ),
        ("sans-extension", b"\x00\x01\x02" * 100, "format non pris en charge (sans extension"),
        ("radio.png", _png(), "format non pris en charge : image PNG"),
        ("radio.txt", _png(), "format non pris en charge : image PNG"),
        (
            "ancien.doc",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512),
            "format non pris en charge",
        ),
        ("lettre.rtf", "{\\rtf1\\ansi Fièvre}", "format non pris en charge : RTF"),
        ("cda.xml", "<ClinicalDocument/>", "format non pris en charge : XML"),
        ("archive.zip", _zip(), "format non pris en charge : archive ZIP (pas un document Word)"),
        ("vide.txt", b"", "fichier vide"),
        ("vide.pdf", b"", "fichier vide"),
        ("bruit.txt", bytes(range(256)) * 8, "fichier binaire ou corrompu (octets nuls)"),
        ("corrompu.docx", bytes(range(256)) * 8, "DOCX illisible"),
        ("tronque.pdf", pdf_bytes(["Compte rendu."])[:600], "PDF illisible"),
    ],
)
def test_unreadable_files_raise_ingest_error(
    write, name: str, content: bytes | str, reason: str
) -> None:
    path = write(name, content)
    with pytest.raises(IngestError) as excinfo:
        list(read_path(path))
    assert_ingest_error(excinfo, reason, path)


def test_missing_file_and_folder_are_refused(tmp_path: Path) -> None:
    for path, reason in [
        (tmp_path / "absent.txt", "fichier introuvable"),
        (tmp_path, "ce n'est pas un fichier ordinaire"),
    ]:
        with pytest.raises(IngestError) as excinfo:
            list(read_path(path))
        assert_ingest_error(excinfo, reason, path)


def test_iter_paths_walks_folders_sorted_and_skips_hidden(write, tmp_path: Path) -> None:
    for name in [
        "lot/b.txt",
        "lot/a.hl7",
        "lot/sous/c.pdf",
        "lot/.cache/x.txt",
        "lot/.cache.txt",
        "lot/~$lettre.docx",
        "lot/A.json",
        "seul/.cache.txt",
    ]:
        write(name, "x")
    os.symlink(tmp_path / "lot", tmp_path / "lot" / "boucle")  # links to folders are not followed
    single = tmp_path / "seul" / ".cache.txt"
    missing = tmp_path / "absent.txt"
    found = list(iter_paths([tmp_path / "lot", single, missing]))
    lot = tmp_path / "lot"
    assert found == [
        lot / "A.json",
        lot / "a.hl7",
        lot / "b.txt",
        lot / "sous" / "c.pdf",
        single,  # named explicitly: kept
        missing,  # reported by read_path, not dropped here
    ]
    assert list(iter_paths(str(lot / "b.txt"))) == [lot / "b.txt"]

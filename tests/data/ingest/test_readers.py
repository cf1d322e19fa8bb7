"""Dispatch: suffix, content sniffing for misnamed files, folder walking, refused formats."""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
from PIL import Image
from sqlalchemy import select

from hopia.data.ingest._base import Reader
from hopia.data.ingest.readers import READERS, iter_paths, read_path, reader_for
from hopia.data.records import RawDocument, ReadFailure
from hopia.platform.exceptions import RegistryError, SourceError
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
    assert {"text", "pdf", "docx", "hl7v2", "fhir", "jsonl"} <= set(READERS.names())
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
        # Images are scans read by OCR: an 8-pixel one holds no text (sniffed under any suffix).
        ("radio.png", _png(), "image trop petite pour un document (8 × 8 pixels)"),
        ("radio.txt", _png(), "image trop petite pour un document (8 × 8 pixels)"),
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
    with pytest.raises(SourceError) as excinfo:
        list(read_path(path))
    assert_ingest_error(excinfo, reason, path)


def test_missing_file_and_folder_are_refused(tmp_path: Path) -> None:
    for path, reason in [
        (tmp_path / "absent.txt", "fichier introuvable"),
        (tmp_path, "ce n'est pas un fichier ordinaire"),
    ]:
        with pytest.raises(SourceError) as excinfo:
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


class _CdaReader:
    """A site's plug-in: HL7 CDA documents, their text without the markup (a sketch)."""

    format = "cda"
    suffixes = (".cda", ".xml")

    def read(self, path: Path) -> Iterator[RawDocument]:
        body = path.read_text(encoding="utf-8")
        ipp = re.search(r'<id extension="(\d+)"', body)
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()
        yield RawDocument(text, str(path), str(path), self.format, ipp=ipp and ipp.group(1))


@pytest.fixture
def cda_plugin() -> Iterator[None]:
    READERS.register("cda", _CdaReader)
    try:
        yield
    finally:
        READERS.unregister("cda")


CDA = (
    '<ClinicalDocument><recordTarget><id extension="8000123456"/></recordTarget>'
    "<text>Consultation : pas de fièvre, hypertension artérielle.</text></ClinicalDocument>"
)


def test_a_reader_registered_at_run_time_reads_its_files(
    cda_plugin: None, write, tmp_path: Path
) -> None:
    from hopia.data.ingest.pipeline import IngestPipeline
    from hopia.data.pseudo import Pseudonymiser
    from hopia.platform.warehouse import Warehouse, schema

    assert "cda" in READERS.names()
    cda, xml = write("lot/cr.cda", CDA), write("lot/cr2.xml", CDA.replace("pas de", "sans"))
    assert reader_for(cda).format == reader_for(xml).format == "cda"  # .xml: no longer refused
    assert reader_for(write("note.txt", "Fièvre.")).format == "text"  # built-ins unchanged

    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    secret = b"plugin-test-secret-0123456789"
    with IngestPipeline(
        warehouse=wh,
        pseudonymiser=Pseudonymiser(secret, use_model=False),
        extract=lambda texts, _ner: [[] for _ in texts],
        system="test-plugin",
        secret=secret,
    ) as pipeline:
        report = pipeline.run([tmp_path / "lot"])
    assert (report.added, report.errors) == (2, [])
    doc = schema.document
    with wh.engine.connect() as conn:
        rows = conn.execute(select(doc.c.format, doc.c.ipp, doc.c.text)).all()
    assert {(f, ipp) for f, ipp, _ in rows} == {("cda", "8000123456")}
    assert all("<" not in text and "hypertension" in text for _, _, text in rows)


def test_an_unknown_reader_name_lists_the_available_ones() -> None:
    with pytest.raises(RegistryError) as excinfo:
        READERS.get("cda")
    message = str(excinfo.value)
    assert message.startswith("lecteur inconnu : « cda »")
    assert "disponibles : docx, fhir, hl7v2, image, jsonl, pdf, text" in message
    assert excinfo.value.details["family"] == "hopia.readers"


def test_a_format_cannot_be_registered_twice() -> None:
    with pytest.raises(RegistryError, match="déjà enregistré"):
        READERS.register("pdf", _CdaReader)

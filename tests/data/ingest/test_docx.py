"""DocxReader: paragraphs, tables and content controls in order; corrupt and empty files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml import OxmlElement

from hopia.data.ingest.docx import DocxReader
from hopia.data.records import RawDocument
from hopia.platform.exceptions import SourceError
from tests.data.ingest.conftest import assert_ingest_error


def _content_control(document, text: str, *, placeholder: bool = False) -> None:
    """Append a block content control (w:sdt) holding one paragraph, as letter templates do."""
    sdt, props, content = OxmlElement("w:sdt"), OxmlElement("w:sdtPr"), OxmlElement("w:sdtContent")
    if placeholder:
        props.append(OxmlElement("w:showingPlcHdr"))
    paragraph = OxmlElement("w:p")
    run, t = OxmlElement("w:r"), OxmlElement("w:t")
    t.text = text
    run.append(t)
    paragraph.append(run)
    content.append(paragraph)
    sdt.extend([props, content])
    document.element.body.insert(len(document.element.body) - 1, sdt)  # before w:sectPr


def _letter(path: Path) -> Path:
    document = docx.Document()
    document.add_heading("Lettre de sortie", level=1)
    document.add_paragraph("Cher confrère,")
    document.add_paragraph("")
    document.add_paragraph("J'ai vu en consultation M. Bernard, 67 ans, pour une dyspnée d'effort.")
    table = document.add_table(rows=3, cols=3)
    for row, cells in zip(
        table.rows,
        [("Examen", "Résultat", "Unité"), ("Hémoglobine", "11,2", "g/dL"), ("CRP", "48", "mg/L")],
        strict=True,
    ):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    paragraph = document.add_paragraph("Traitement : furosémide 40 mg")
    paragraph.add_run().add_break()
    paragraph.add_run("le matin.")
    _content_control(document, "Conclusion : insuffisance cardiaque à FEVG préservée.")
    _content_control(document, "Cliquez ici pour entrer du texte.", placeholder=True)
    document.save(str(path))
    return path


def test_paragraphs_and_tables_in_document_order(tmp_path: Path) -> None:
    path = _letter(tmp_path / "lettre.docx")
    [doc] = DocxReader().read(path)
    assert isinstance(doc, RawDocument)
    assert doc.text == (
        "Lettre de sortie\n"
        "Cher confrère,\n"
        "\n"
        "J'ai vu en consultation M. Bernard, 67 ans, pour une dyspnée d'effort.\n"
        "Examen | Résultat | Unité\n"
        "Hémoglobine | 11,2 | g/dL\n"
        "CRP | 48 | mg/L\n"
        "Traitement : furosémide 40 mg\n"
        "le matin.\n"
        "Conclusion : insuffisance cardiaque à FEVG préservée."
    )
    assert "Cliquez ici" not in doc.text  # an unfilled content control is a prompt, not text
    assert (doc.format, doc.source_ref, doc.source_path) == ("docx", str(path), str(path))


def test_merged_cells_are_not_repeated(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Bilan biologique"
    table.cell(1, 0).text = "Créatinine"
    table.cell(1, 1).text = "92 µmol/L"
    path = tmp_path / "bilan.docx"
    document.save(str(path))
    [doc] = DocxReader().read(path)
    assert doc.text == "Bilan biologique\nCréatinine | 92 µmol/L"


def test_random_bytes_are_refused(write) -> None:
    path = write("corrompu.docx", bytes(range(256)) * 8)
    with pytest.raises(SourceError) as excinfo:
        list(DocxReader().read(path))
    assert_ingest_error(excinfo, "DOCX illisible", path)


def test_zip_that_is_not_word_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "archive.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "pas un document Word")
    with pytest.raises(SourceError) as excinfo:
        list(DocxReader().read(path))
    assert_ingest_error(excinfo, "DOCX illisible", path)


def test_truncated_docx_is_refused(tmp_path: Path) -> None:
    path = _letter(tmp_path / "lettre.docx")
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(SourceError) as excinfo:
        list(DocxReader().read(path))
    assert_ingest_error(excinfo, "DOCX illisible", path)


def test_document_without_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vide.docx"
    document = docx.Document()
    document.add_paragraph("   ")
    document.save(str(path))
    with pytest.raises(SourceError) as excinfo:
        list(DocxReader().read(path))
    assert_ingest_error(excinfo, "DOCX sans texte", path)


def test_empty_file_is_refused(write) -> None:
    path = write("vide.docx", b"")
    with pytest.raises(SourceError) as excinfo:
        list(DocxReader().read(path))
    assert_ingest_error(excinfo, "fichier vide", path)

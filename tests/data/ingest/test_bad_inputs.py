"""The bad-input probe of issue 11 (finding 8), kept as tests so that it stays true: a file name
that is not UTF-8, NUL arriving through an escape, an oversized document or file, an HL7 escape
that expands without bound, a JSONL line of any bad shape. Each is one recorded error (or is
stored cleaned), the rest of the run goes on, the same on DuckDB and PostgreSQL, and a rerun
changes nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from hopia.data.ingest import jsonl
from hopia.data.ingest.fhir import FhirReader
from hopia.data.ingest.hl7v2 import MAX_SKIPPED_LINES, Hl7Reader
from hopia.data.ingest.jsonl import JsonlReader
from hopia.data.ingest.readers import read_path
from hopia.data.records import RawDocument, ReadFailure
from hopia.data.records.patients import read_patients
from hopia.platform.config import get_settings
from hopia.platform.exceptions import InvalidRequestError, SourceError, WarehouseBusyError
from hopia.platform.files import jsonl_records
from hopia.platform.warehouse import Warehouse, schema
from hopia.services.texts import parse_text_line
from tests.data.ingest.conftest import build
from tests.data.ingest.test_hl7v2 import msh, seg

LATIN1_NAME = b"r\xe9sum\xe9.txt"  # "résumé.txt" in latin-1, as copied from a Windows share
DEEP = "[" * 100_000 + "]" * 100_000


def _hl7(text: str, ipp: str = "123456") -> bytes:
    lines = [
        msh("M1"),
        seg("PID", f1="1", f3=f"{ipp}^^^CHU^PI", f5="DUPONT^Marie"),
        seg("TXA", f1="1", f2="CRH", f4="20240304"),
        seg("OBX", f1="1", f2="TX", f5=text),
    ]
    return "\r".join(lines).encode("utf-8")


def _line(doc_id: str, text: str) -> str:
    return json.dumps({"id": doc_id, "patient_id": "123456", "date": "2024-03-05", "text": text})


# -- readers: each bad shape is one bad line ----------------------------------------------------


def test_every_bad_jsonl_line_fails_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl, "MAX_LINE_BYTES", 300_000)
    lines = [
        b"\xef\xbb\xbf" + _line("first", "Fièvre à 39 °C.").encode() + b"\r\n",  # BOM, CRLF
        DEEP.encode() + b"\r\n",  # RecursionError in json
        b"[1, 2, 3]\n",  # an array
        b"42\n",  # a number
        b'{"id": "x", "text": "\x81\x8d\x8f"}\n',  # neither UTF-8 nor cp1252
        _line("huge", "x" * 400_000).encode() + b"\n",  # longer than MAX_LINE_BYTES
        b'{"id": "n", "text": "t", "n": ' + b"1" * 5000 + b"}\n",  # int beyond Python's limit
        _line("last", "Toux sèche.").encode() + b"\n",
    ]
    path = tmp_path / "notes.jsonl"
    path.write_bytes(b"".join(lines))
    items = list(JsonlReader().read(path))
    docs = [i for i in items if isinstance(i, RawDocument)]
    failures = {
        i.source_ref.rsplit("#", 1)[1]: i.reason for i in items if isinstance(i, ReadFailure)
    }
    assert [d.external_id for d in docs] == ["first", "last"]
    assert docs[0].text == "Fièvre à 39 °C." and docs[1].source_ref.endswith("#L8")
    assert set(failures) == {"L2", "L3", "L4", "L5", "L6", "L7"}
    assert "imbriquée" in failures["L2"]
    assert "pas un objet JSON" in failures["L3"] and "pas un objet JSON" in failures["L4"]
    assert "encodage" in failures["L5"]
    assert "trop longue" in failures["L6"] and "300000" in failures["L6"]
    assert "JSON invalide" in failures["L7"]


def test_a_deep_fhir_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"resourceType": "Bundle", "entry": ' + DEEP + "}", encoding="utf-8")
    with pytest.raises(SourceError, match="trop profondément imbriquée"):
        list(FhirReader().read(path))


def test_hl7_line_skips_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "sp.hl7"
    path.write_bytes(_hl7("Début\\.sp50000000\\Fin.~Suite\\.sp3\\ok\\.sp²\\z"))
    (doc,) = Hl7Reader().read(path)
    assert isinstance(doc, RawDocument)
    skipped = "\n" * MAX_SKIPPED_LINES
    assert doc.text == f"Début{skipped}Fin.\nSuite\n\n\nok{skipped}z"


def test_hl7_hex_escape_of_nul_reaches_the_text(tmp_path: Path) -> None:
    """The reader decodes it faithfully; the warehouse writer is the one place that cleans."""
    path = tmp_path / "nul.hl7"
    path.write_bytes(_hl7("Toux\\X00\\ sèche."))
    (doc,) = Hl7Reader().read(path)
    assert isinstance(doc, RawDocument) and doc.text == "Toux\x00 sèche."


def test_file_size_limit_spares_streamed_formats(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("Compte rendu. " * 200, encoding="utf-8")
    with pytest.raises(SourceError, match=r"fichier trop volumineux .*max_file_bytes"):
        list(read_path(big, max_file_bytes=1000))
    lines = tmp_path / "many.jsonl"
    lines.write_text("\n".join(_line(f"d{i}", "Note.") for i in range(50)), encoding="utf-8")
    assert lines.stat().st_size > 1000
    assert len(list(read_path(lines, max_file_bytes=1000))) == 50


# -- the whole ingest, on both engines ----------------------------------------------------------


def _corpus(folder: Path) -> None:
    folder.mkdir(parents=True)
    # Text files name their patient in a header (a document naming none is refused).
    (folder / "ok.txt").write_text(
        "IPP : 1001\nPatiente de 54 ans, fièvre à 39 °C, pas de toux.\n", "utf-8"
    )
    with open(os.path.join(os.fsencode(folder), LATIN1_NAME), "wb") as fh:
        fh.write("IPP : 1002\nCompte rendu : douleur thoracique, ECG normal.\n".encode("cp1252"))
    (folder / "nul.jsonl").write_text(
        _line("n1", "Fièvre\u0000 persistante depuis trois jours.") + "\n", "utf-8"
    )
    (folder / "nul.hl7").write_bytes(_hl7("Toux\\X00\\ sèche depuis hier."))
    (folder / "sp.hl7").write_bytes(_hl7("Début\\.sp50000000\\Fin du compte rendu.", "654321"))
    (folder / "long.txt").write_text("Diabète de type 2. " * 150, "utf-8")  # 2,850 chars
    (folder / "big.txt").write_text("Hypertension artérielle. " * 1000, "utf-8")  # 25 kB
    lines = [_line("a", "Asthme connu."), DEEP, _line("b", "Pas d'allergie connue.")]
    (folder / "lines.jsonl").write_text("\n".join(lines) + "\n", "utf-8")


@pytest.mark.slow
def test_bad_inputs_fail_alone_and_reruns_change_nothing(
    wh: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOPIA_DATA__INGEST__MAX_DOCUMENT_CHARS", "2000")
    monkeypatch.setenv("HOPIA_DATA__INGEST__MAX_FILE_BYTES", "20000")
    get_settings.cache_clear()
    folder = tmp_path / "in"
    _corpus(folder)

    report = build(wh).run([folder])
    errors = {Path(ref).name: reason for ref, reason in report.errors}
    assert report.added == 7, report.errors
    assert set(errors) == {"long.txt", "big.txt", "lines.jsonl#L2"}
    assert "document trop long (2\u202f850 caractères, limite 2\u202f000" in errors["long.txt"]
    assert "fichier trop volumineux" in errors["big.txt"]
    assert "imbriquée" in errors["lines.jsonl#L2"]

    doc, note = schema.document, schema.CDM["note"]
    with wh.engine.connect() as conn:
        stored = conn.execute(select(doc.c.source_path, doc.c.text, doc.c.status)).all()
        notes = conn.execute(select(note.c.note_text)).scalars().all()
        status = conn.execute(select(schema.run.c.status)).scalars().all()
    assert status == ["done"]
    by_name = {Path(path).name: text for path, text, state in stored if state == "done"}
    # The latin-1 name, stored in its printable form (and the file ingested).
    assert "Compte rendu : douleur thoracique" in by_name["r\\xe9sum\\xe9.txt"]
    # NUL from a JSON or HL7 escape: replaced one for one, the same on both engines.
    assert by_name["nul.hl7"] == "Toux\ufffd sèche depuis hier."
    assert "\x00" not in "".join(t for _, t, _ in stored if t) + "".join(notes)
    assert sum("\ufffd" in t for t in notes) == 2
    # "\.sp50000000\": a few newlines, not fifty million.
    assert by_name["sp.hl7"] == "Début" + "\n" * MAX_SKIPPED_LINES + "Fin du compte rendu."

    again = build(wh).run([folder])
    assert (again.added, again.duplicates, len(again.errors)) == (0, 7, 3)
    with wh.engine.connect() as conn:
        rows = conn.execute(select(doc.c.source_ref, doc.c.status)).all()
    assert len(rows) == 7 + 3  # one row per document, one error row per source


@pytest.mark.slow
def test_an_ingest_is_refused_while_another_one_runs(tmp_path: Path) -> None:
    """The pipeline runs under the warehouse's job lease: a second ingest is refused, naming
    the first, before it opens a run (the cross-process case: tests/platform, a real process)."""
    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ok.txt").write_text("IPP : 1001\nPatiente de 54 ans, fièvre à 39 °C.\n", "utf-8")
    pipeline = build(wh)
    with wh.exclusive("ingestion") as lease:
        lease.describe(9)
        with pytest.raises(WarehouseBusyError, match="l'ingestion n° 9 commencée le"):
            pipeline.run([folder])
    with wh.engine.connect() as conn:
        assert conn.execute(select(schema.run.c.run_id)).scalars().all() == []
    assert pipeline.run([folder]).added == 1  # the lease is free again
    pipeline.close()
    wh.close()


# -- the other JSON inputs: registries, gold and training files, texts to analyse ---------------


@pytest.mark.parametrize("middle", [DEEP, '{"ipp": ' + "1" * 5000 + "}"])
def test_other_json_inputs_name_the_bad_line(tmp_path: Path, middle: str) -> None:
    """A deep or oversized line is a clear error naming its line, never a RecursionError."""
    path = tmp_path / "input.jsonl"
    path.write_text('{"ipp": "1", "id": "a", "text": "t"}\n' + middle + "\n", encoding="utf-8")
    with pytest.raises(SourceError) as registry:
        list(read_patients(path))
    with pytest.raises(SourceError) as records:
        list(jsonl_records(path))
    for err in (registry.value, records.value):
        assert err.path.endswith("input.jsonl#L2") and "JSON invalide" in err.reason
    with pytest.raises(InvalidRequestError, match="JSON invalide"):
        parse_text_line(middle.encode())

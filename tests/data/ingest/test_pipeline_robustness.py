"""Ingest edge cases found in review: partial identities, error rows, pathological input,
patients known only by IPP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hopia.platform.warehouse import Warehouse, schema
from tests.data.ingest.conftest import build
from tests.data.ingest.test_hl7v2 import msh, seg
from tests.data.ingest.test_pipeline import count, write_corpus

pytestmark = pytest.mark.slow


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    return Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")


def _note_texts(wh: Warehouse) -> str:
    with wh.engine.connect() as conn:
        return "\n".join(conn.execute(select(schema.CDM["note"].c.note_text)).scalars())


def _hl7(path: Path, ipp: str, text: str, family: str = "", given: str = "") -> None:
    pid = seg("PID", f1="1", f3=f"{ipp}^^^CHU^PI", f5=f"{family}^{given}" if family else "")
    message = [msh("M1"), seg("EVN", f1="T02"), pid, seg("TXA", f1="1", f2="CRH", f4="20240304")]
    message.append(seg("OBX", f1="1", f2="TX", f5=text))
    path.write_bytes("\r".join(message).encode())


def test_document_with_partial_identity_uses_the_registry(wh: Warehouse, tmp_path: Path) -> None:
    """An HL7 PID carrying only the IPP must not hide the registry's name from the
    pseudonymiser."""
    patients, docs = write_corpus(tmp_path / "in", notes=[])
    _hl7(docs / "crh.hl7", "8000123456", "Revue ce jour, Lemaire va mieux, Odile sourit.")
    pipeline = build(wh)
    pipeline.load_patients(patients)
    report = pipeline.run([docs])
    assert report.added == 1, report.errors
    texts = _note_texts(wh)
    assert "Lemaire" not in texts and "Odile" not in texts


def test_identity_from_one_document_protects_the_next_one_of_the_batch(
    wh: Warehouse, tmp_path: Path
) -> None:
    """A new patient announced by an HL7 PID, then a JSONL note quoting the surname, same run."""
    folder = tmp_path / "in"
    folder.mkdir()
    _hl7(folder / "a.hl7", "777", "Admission de M. Kervella.", family="KERVELLA", given="Loïc")
    line = {"id": "n1", "patient_id": "777", "date": "2024-03-05", "text": "kervella va mieux."}
    (folder / "b.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    report = build(wh).run([folder])
    assert report.added == 2, report.errors
    assert "ervella" not in _note_texts(wh).lower()


def test_error_row_survives_later_records_of_the_same_file(wh: Warehouse, tmp_path: Path) -> None:
    patients, docs = write_corpus(tmp_path / "in")
    with (docs / "notes.jsonl").open("a", encoding="utf-8") as fh:
        fh.write("not json\n")
        late = {"id": "late", "patient_id": "8000654321", "text": "Consultation, pas de fièvre."}
        fh.write(json.dumps(late) + "\n")
    pipeline = build(wh)
    pipeline.load_patients(patients)
    report = pipeline.run([docs])
    assert report.added == 5 and len(report.errors) == 1
    doc = schema.document
    with wh.engine.connect() as conn:
        errors = conn.execute(select(doc.c.source_ref).where(doc.c.status == "error")).scalars()
        assert [Path(e).name for e in errors] == ["notes.jsonl#L5"]


def test_pathological_input_fails_alone(wh: Warehouse, tmp_path: Path) -> None:
    patients, docs = write_corpus(tmp_path / "in")
    (docs / "surrogate.jsonl").write_text('{"id": "x", "text": "fi\\ud800vre"}\n', encoding="utf-8")
    (docs / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    pipeline = build(wh)
    pipeline.load_patients(patients)
    report = pipeline.run([docs])
    assert report.added == 4
    assert {Path(ref).name for ref, _ in report.errors} == {"surrogate.jsonl#L1", "deep.json"}
    with wh.engine.connect() as conn:
        status = conn.execute(select(schema.run.c.status)).scalars().all()
    assert status == ["done"]


def test_patient_known_by_ipp_only_is_linked_when_the_birth_date_arrives(
    wh: Warehouse, tmp_path: Path
) -> None:
    notes = [("n1", "555", "2024-02-01", "consultation", "Diabète de type 2 équilibré.")]
    patients, docs = write_corpus(tmp_path / "in", notes)
    pipeline = build(wh)
    assert pipeline.run([docs]).added == 1  # no registry yet: IPP 555 is unknown
    note, person = schema.CDM["note"], schema.CDM["person"]
    co = schema.CDM["condition_occurrence"]
    with wh.engine.connect() as conn:
        person_id = conn.execute(select(note.c.person_id)).scalar()
        assert person_id != 0
        assert count(wh, person) == 0  # no birth date: no OMOP person row yet
        assert conn.execute(select(func.count()).select_from(co)).scalar() >= 1
    registry = tmp_path / "late.jsonl"
    registry.write_text('{"ipp": "555", "birth_date": "1950-06-01", "sex": "M"}\n', "utf-8")
    pipeline.load_patients(registry)
    with wh.engine.connect() as conn:
        ids = conn.execute(select(person.c.person_id)).scalars().all()
    assert ids == [person_id]  # the notes and facts written earlier are now linked

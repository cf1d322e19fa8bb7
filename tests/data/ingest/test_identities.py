"""Patients and research ids: registry upserts, person ids, the OMOP person row, what the
pseudonymiser is given, and a document's note in the research space."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hopia.data.ingest.identities import Identities, note_record
from hopia.data.omop.research_ids import ResearchIds, pseudonymous_id, pseudonymous_stay_id
from hopia.data.omop.writer import UNKNOWN_PERSON, OmopWriter
from hopia.data.records import PatientIdentity, RawDocument
from hopia.platform.warehouse import Warehouse, schema

SECRET = b"identities-test-secret-0123456789"


def _shift(day: date, key: str) -> date:
    """A stand-in for the pseudonymiser's secret offset: 10 days per character of the key."""
    return day + timedelta(days=10 * len(key))


RESEARCH = ResearchIds(SECRET, _shift)


@pytest.fixture
def identities(tmp_path: Path) -> Identities:
    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    return Identities(wh, OmopWriter(wh, "test"), RESEARCH)


def _rows(wh: Warehouse, table) -> list[dict]:  # noqa: ANN001
    with wh.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(table)).mappings()]


def test_a_new_patient_gets_ids_and_a_person_with_research_values(
    identities: Identities,
) -> None:
    wh = identities.wh
    with wh.begin() as conn:
        identities.upsert(
            conn,
            [
                PatientIdentity("801", family_name="Le Goff", birth_date=date(1950, 2, 3), sex="F"),
                PatientIdentity("802", family_name="Morvan"),  # no birth date: no person row yet
            ],
        )
    patients = {r["ipp"]: r for r in _rows(wh, schema.patient)}
    assert [patients[i]["patient_id"] for i in ("801", "802")] == [1, 2]
    assert [patients[i]["person_id"] for i in ("801", "802")] == [1, 2]
    [person] = _rows(wh, schema.CDM["person"])
    assert person["person_id"] == 1
    assert person["person_source_value"] == pseudonymous_id(SECRET, "801")
    shifted = _shift(date(1950, 2, 3), "801")
    assert (person["year_of_birth"], person["month_of_birth"]) == (shifted.year, shifted.month)
    assert person["gender_concept_id"] == 8532
    assert "Le Goff" not in str(person)


def test_a_later_statement_fills_in_and_links_the_person(identities: Identities) -> None:
    wh = identities.wh
    with wh.begin() as conn:
        identities.upsert(conn, [PatientIdentity("555", family_name="Kervella")])
        assert identities.person_ids(conn, {"555", "556"}) == {"555": 1, "556": 2}
    with wh.begin() as conn:  # an IPP alone says nothing new; a birth date makes the person
        identities.upsert(conn, [PatientIdentity("555")])
        identities.upsert(conn, [PatientIdentity("555", birth_date=date(1961, 11, 2), sex="M")])
    [patient] = [r for r in _rows(wh, schema.patient) if r["ipp"] == "555"]
    assert patient["family_name"] == "Kervella"  # kept: the later record left it empty
    assert patient["birth_date"] == date(1961, 11, 2)
    [person] = _rows(wh, schema.CDM["person"])
    assert person["person_id"] == patient["person_id"] == 1
    with wh.begin() as conn:  # an update of the person row in place
        identities.upsert(conn, [PatientIdentity("555", sex="F")])
    [person] = _rows(wh, schema.CDM["person"])
    assert person["gender_concept_id"] == 8532


def test_the_pseudonymiser_gets_the_registry_merged_with_the_run(
    identities: Identities, tmp_path: Path
) -> None:
    registry = tmp_path / "p.jsonl"
    registry.write_text(
        '{"ipp": "801", "family_name": "Le Goff", "given_name": "Anne"}\n', encoding="utf-8"
    )
    assert identities.load(registry) == 1
    pid = PatientIdentity("801", phone="06 12 34 56 78")  # an HL7 PID with a phone only
    first = RawDocument("a", "f.hl7", "f.hl7", "hl7v2", patient=pid)
    later = RawDocument("b", "n.jsonl", "n.jsonl#L1", "jsonl", ipp="801")
    unknown = RawDocument("c", "n.jsonl", "n.jsonl#L2", "jsonl", ipp="999")
    found = identities.for_documents([first, later, unknown])
    assert set(found) == {"801"}
    assert (found["801"].family_name, found["801"].phone) == ("Le Goff", "06 12 34 56 78")
    # A later batch of the same run keeps what the run learnt, though not yet committed.
    assert identities.for_documents([later])["801"].phone == "06 12 34 56 78"


def test_a_note_record_holds_research_values_only() -> None:
    doc = RawDocument(
        "Texte.",
        "n.jsonl",
        "n.jsonl#L1",
        "jsonl",
        ipp="8000123456",
        doc_date=date(2024, 3, 5),
        doc_type="CRH",
        visit_id="24001234",
        visit_start=date(2024, 3, 2),
        service="Cardiologie",
    )
    note = note_record(
        doc,
        content_hash="ab" * 32,
        person_id=4,
        text="Texte pseudonymisé.",
        mentions=[],
        research=RESEARCH,
        today=date(2025, 1, 1),
    )
    assert note.note_date == _shift(date(2024, 3, 5), "8000123456")
    assert note.source_value == "doc:" + "ab" * 8
    assert note.stay is not None
    assert note.stay.research_id == pseudonymous_stay_id(SECRET, "24001234")
    assert (note.stay.start, note.stay.end) == (_shift(date(2024, 3, 2), "8000123456"), None)
    assert "8000123456" not in repr(note) and "24001234" not in repr(note)
    # No patient: no stay, the date shifted by the document's own hash, today when undated.
    anonymous = RawDocument("Texte.", "x.txt", "x.txt", "text", visit_id="24001234")
    note = note_record(
        anonymous,
        content_hash="cd" * 32,
        person_id=UNKNOWN_PERSON,
        text="Texte.",
        mentions=[],
        research=RESEARCH,
        today=date(2025, 1, 1),
    )
    assert note.stay is None and note.note_date == _shift(date(2025, 1, 1), "cd" * 32)


def test_research_ids_are_keyed_and_kept_apart() -> None:
    assert pseudonymous_id(SECRET, "801") == pseudonymous_id(SECRET, "801")
    assert pseudonymous_id(SECRET, "801") != pseudonymous_id(b"another-secret-0123456789", "801")
    assert pseudonymous_id(SECRET, "801")[0] == "P" and len(pseudonymous_id(SECRET, "801")) == 16
    # The same string as an IPP and as a stay number gives unrelated ids.
    assert pseudonymous_stay_id(SECRET, "801")[1:] != pseudonymous_id(SECRET, "801")[1:]

"""Patients and research ids: registry upserts, person ids, the OMOP person row, what the
pseudonymiser is given, and a document's note in the research space."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hopia.data.ingest.identities import Identities, Resolution, note_record
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


# -- a document's patient from its header (Identities.resolve) ----------------------------------


def _register(identities: Identities, *people: PatientIdentity) -> None:
    with identities.wh.begin() as conn:
        identities.upsert(conn, people)


def _letter(header: str, **kwargs) -> RawDocument:  # noqa: ANN003
    from hopia.data.ingest.header import with_header

    doc = RawDocument(f"{header}\n\nExamen clinique normal.", "l.pdf", "l.pdf", "pdf", **kwargs)
    return with_header(doc)


DUPONT = PatientIdentity(
    "4401", family_name="DUPONT", given_name="Marie", birth_date=date(1950, 4, 3)
)
DURAND = PatientIdentity(
    "4402", family_name="DURAND", given_name="Paul", birth_date=date(1950, 4, 3)
)


def test_header_ipp_known_to_the_registry_attaches_the_document(identities: Identities) -> None:
    from hopia.data.ingest.identities import NAME_CONFLICT

    _register(identities, DUPONT, DURAND)
    header = "Lyon, le 30 novembre 2019\nPatiente : Mme DUPONT Marie, née le 03/04/1950\nIPP : 4401"
    out = identities.resolve(_letter(header))
    assert out.error is None and out.warnings == ()
    assert out.doc is not None and out.doc.patient_ipp == "4401"
    assert out.doc.patient is None  # the registry's identity is not overwritten by a header
    assert out.doc.doc_date == date(2019, 11, 30)
    # Same IPP, another name, the same birth date: filed under the IPP, with a warning.
    header = "Lyon, le 3/4/2020\nPatient : Mme DURANT Marie, née le 03/04/1950\nIPP : 4401"
    other = identities.resolve(_letter(header))
    assert other.doc is not None and other.doc.patient_ipp == "4401"
    assert other.warnings == (NAME_CONFLICT,)


def test_header_ipp_with_another_name_and_no_birth_date_is_refused(
    identities: Identities,
) -> None:
    # a misread IPP must not file a letter under someone else: nothing vouches for this one
    from hopia.data.ingest.identities import NAME_REFUSED

    _register(identities, DUPONT)
    out = identities.resolve(_letter("Lyon, le 3/4/2020\nPatient : M. MARTIN Luc\nIPP : 4401"))
    assert out.doc is None and out.error == NAME_REFUSED


def test_header_ipp_with_another_birth_date_is_refused(identities: Identities) -> None:
    from hopia.data.ingest.identities import BIRTH_CONFLICT

    _register(identities, DUPONT)
    header = "Lyon, le 3/4/2020\nPatiente : Mme DUPONT Marie, née le 04/03/1950\nIPP : 4401"
    out = identities.resolve(_letter(header))
    assert out.doc is None and out.error == BIRTH_CONFLICT


def test_name_and_birth_date_find_the_registered_patient(identities: Identities) -> None:
    from hopia.data.ingest.identities import AMBIGUOUS, NOT_IN_REGISTRY

    _register(identities, DUPONT, DURAND)
    found = identities.resolve(
        _letter("Le 3/4/2020\nConcerne : Mme Marie Dupont, née le 3 avril 1950")
    )
    assert found.doc is not None and found.doc.patient_ipp == "4401" and found.error is None
    # Nobody of that name born that day: refused, not filed under person 0.
    missing = identities.resolve(
        _letter("Le 3/4/2020\nConcerne : Mme Marie Dupont, née le 4 avril 1950")
    )
    assert missing.doc is None and missing.error == NOT_IN_REGISTRY
    twin = PatientIdentity(
        "4403", family_name="DUPONT", given_name="Marie", birth_date=date(1950, 4, 3)
    )
    _register(identities, twin)
    both = identities.resolve(
        _letter("Le 3/4/2020\nConcerne : Mme Marie DUPONT, née le 03/04/1950")
    )
    assert both.doc is None and both.error == AMBIGUOUS


def test_unknown_ipp_creates_the_patient_with_a_warning(identities: Identities) -> None:
    from hopia.data.ingest.identities import NEW_IPP

    header = "Bron, le 2 mai 2023\nPatient : M. LE GALL Paul, né le 07/08/1962\nN° patient : 9911"
    out = identities.resolve(_letter(header))
    assert out.warnings == (NEW_IPP,)
    assert out.doc is not None and out.doc.patient == PatientIdentity(
        "9911", family_name="LE GALL", given_name="Paul", birth_date=date(1962, 8, 7), sex="M"
    )


def test_a_document_without_any_identity_is_refused(identities: Identities) -> None:
    from hopia.data.ingest.identities import NO_DATE, NO_IDENTITY

    out = identities.resolve(_letter("Fièvre à 39 °C depuis trois jours."))
    assert out.doc is None and out.error == NO_IDENTITY
    # A structured patient needs no header; a missing date is a warning.
    doc = RawDocument("Texte.", "a.jsonl", "a.jsonl#L1", "jsonl", ipp="55")
    assert identities.resolve(doc) == Resolution(doc, None, (NO_DATE,))

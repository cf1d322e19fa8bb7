"""The one OMOP writer, called as dictation or a Spark executor would call it: research-space
records in, OMOP rows out (person, visits and stays, notes, note_nlp, facts, provenance), with
identifiers allocated from the committed maximum. DuckDB and, when one answers, PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Table, select

from hopia.data.omop import concepts as c
from hopia.data.omop.research_ids import pseudonymous_stay_id
from hopia.data.omop.writer import (
    UNKNOWN_PERSON,
    NoteRecord,
    OmopWriter,
    PersonRecord,
    StayRecord,
    stay_concept,
    visit_concept,
)
from hopia.platform.warehouse import Warehouse, schema
from tests.data.omop.test_mapping import M
from tests.platform.pg import engine_warehouse

STAY = pseudonymous_stay_id(b"writer-test-secret-0123456789", "24001234")
D = date(2024, 3, 2)


@pytest.fixture(params=["duckdb", "postgres"])
def wh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    with engine_warehouse(request.param, tmp_path) as warehouse:
        yield warehouse


def _rows(wh: Warehouse, table: Table) -> list[dict]:
    key = next(iter(table.primary_key.columns), None)
    query = select(table).order_by(key) if key is not None else select(table)
    with wh.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def _note(person_id: int = 1, day: date = D, **kw: object) -> NoteRecord:
    values: dict = {
        "person_id": person_id,
        "note_date": day,
        "doc_type": "CRH",
        "text": "Diabète de type 2. Pas de fièvre. Créatinine 145 µmol/L.",
        "source_value": "doc:0123456789abcdef",
    }
    return NoteRecord(**(values | kw))


MENTIONS = [
    M("cim10", text="Diabète de type 2", start=0, end=17, codes={"cim10": "E11"}),
    M("cim10", text="fièvre", start=26, end=32, codes={"cim10": "R50"}, negation=True),
    M(
        "lab",
        text="Créatinine 145 µmol/L",
        start=34,
        end=55,
        codes={"loinc": "2160-0"},
        value=145.0,
        unit="µmol/L",
    ),
]


def test_a_note_with_mentions_facts_and_provenance(wh: Warehouse) -> None:
    writer = OmopWriter(wh, "hopia-test 1.0")
    with wh.begin() as conn:
        written = writer.write_notes(conn, [_note(mentions=MENTIONS)], run_id=7)
    assert written.note_ids == [1] and written.visit_ids == [1]
    assert dict(written.facts) == {"condition_occurrence": 1, "measurement": 1}
    [note] = _rows(wh, schema.CDM["note"])
    assert (note["person_id"], note["note_date"], note["visit_occurrence_id"]) == (1, D, 1)
    assert note["note_source_value"] == "doc:0123456789abcdef" and note["note_title"] == "CRH"
    nlp = _rows(wh, schema.CDM["note_nlp"])
    assert [(r["note_nlp_id"], r["term_exists"]) for r in nlp] == [(1, "Y"), (2, "N"), (3, "Y")]
    assert {r["nlp_system"] for r in nlp} == {"hopia-test 1.0"}
    [condition] = _rows(wh, schema.CDM["condition_occurrence"])
    [measurement] = _rows(wh, schema.CDM["measurement"])
    assert condition["condition_source_value"] == "Diabète de type 2"  # the negated one: no fact
    assert measurement["value_as_number"] == 145.0
    provenance = _rows(wh, schema.provenance)
    assert sorted((p["table_name"], p["note_nlp_id"], p["run_id"]) for p in provenance) == [
        ("condition_occurrence", 1, 7),
        ("measurement", 3, 7),
    ]
    concepts = {r["concept_code"]: r["concept_id"] for r in _rows(wh, schema.CDM["concept"])}
    assert condition["condition_concept_id"] == concepts["E11"] >= c.LOCAL_CONCEPT_START
    assert {str(c.EHR), str(c.MALE)} <= set(concepts)  # the standard concepts, once


def test_a_qualitative_result_is_written_with_its_standard_concept(wh: Warehouse) -> None:
    text = "Créatinine 145 µmol/L. La sérologie VIH est négative."
    serology = M("clinical_ner", text="sérologie VIH", start=26, end=39)
    serology = M(**{**serology.__dict__, "attributes": {"result": "negative"}})
    # the same test found by a second pipe: one result
    again = M(**{**serology.__dict__, "label": "terms", "pipe": "terms"})
    writer = OmopWriter(wh, "t")
    with wh.begin() as conn:
        written = writer.write_notes(
            conn, [_note(text=text, mentions=[MENTIONS[2], serology, again])], run_id=1
        )
    assert written.facts["measurement"] == 2
    rows = _rows(wh, schema.CDM["measurement"])
    assert [(r["value_as_number"], r["value_as_concept_id"]) for r in rows] == [
        (145.0, None),
        (None, c.NEGATIVE),
    ]
    concepts = {r["concept_id"]: r for r in _rows(wh, schema.CDM["concept"])}
    assert concepts[9189]["concept_name"] == "Negative"
    assert concepts[9189]["domain_id"] == "Meas Value"


def test_ids_continue_from_the_committed_maximum(wh: Warehouse) -> None:
    writer = OmopWriter(wh, "t")
    with wh.begin() as conn:
        writer.write_notes(conn, [_note(mentions=MENTIONS[:1])], run_id=1)
    with wh.begin() as conn:
        ids = writer.ids(conn)
        written = writer.write_notes(
            conn, [_note(mentions=MENTIONS[:1]), _note(2, mentions=MENTIONS[:1])], 2, ids
        )
        assert ids.next("document") == 1  # the caller's own rows share the allocator
    assert written.note_ids == [2, 3]
    rows = _rows(wh, schema.CDM["condition_occurrence"])
    assert [r["condition_occurrence_id"] for r in rows] == [1, 2, 3]
    assert [r["note_nlp_id"] for r in _rows(wh, schema.CDM["note_nlp"])] == [1, 2, 3]


def test_a_note_of_an_unknown_patient_gets_mentions_but_no_fact(wh: Warehouse) -> None:
    writer = OmopWriter(wh, "t")
    with wh.begin() as conn:
        written = writer.write_notes(conn, [_note(UNKNOWN_PERSON, mentions=MENTIONS)], 1)
    assert written.visit_ids == [None] and not written.facts
    assert len(_rows(wh, schema.CDM["note_nlp"])) == 3
    assert _rows(wh, schema.CDM["visit_occurrence"]) == []
    assert _rows(wh, schema.provenance) == []


def test_one_visit_per_person_day_and_type_without_a_stay(wh: Warehouse) -> None:
    writer = OmopWriter(wh, "t")
    notes = [_note(), _note(), _note(doc_type="urgences"), _note(day=date(2024, 3, 3))]
    with wh.begin() as conn:
        first = writer.write_notes(conn, notes, 1)
    with wh.begin() as conn:  # a later batch finds the visit already written
        later = writer.write_notes(conn, [_note()], 2)
    assert first.visit_ids == [1, 1, 2, 3] and later.visit_ids == [1]
    visits = _rows(wh, schema.CDM["visit_occurrence"])
    assert [(v["visit_source_value"], v["visit_concept_id"]) for v in visits] == [
        ("CRH", c.INPATIENT_VISIT),
        ("urgences", c.ER_VISIT),
        ("CRH", c.INPATIENT_VISIT),
    ]


def test_a_stay_spans_its_notes_and_takes_the_wards_care_site(wh: Warehouse) -> None:
    writer = OmopWriter(wh, "t")
    er = _note(day=D, doc_type="urgences", stay=StayRecord(STAY, D, None, "Urgences"))
    with wh.begin() as conn:
        writer.write_notes(conn, [er], 1)
    ward = _note(
        day=date(2024, 3, 8),
        doc_type="CRH",
        stay=StayRecord(STAY, None, date(2024, 3, 8), "Cardiologie"),
    )
    no_dates = StayRecord(STAY, None, None, None)
    letter = _note(day=date(2024, 3, 11), doc_type="courrier", stay=no_dates)
    with wh.begin() as conn:  # a stay written by an earlier batch is updated in place
        written = writer.write_notes(conn, [ward, letter], 2)
    assert written.visit_ids == [1, 1]
    [stay] = _rows(wh, schema.CDM["visit_occurrence"])
    assert stay["visit_source_value"] == STAY
    assert (stay["visit_start_date"], stay["visit_end_date"]) == (D, date(2024, 3, 11))
    assert stay["visit_concept_id"] == c.ER_AND_INPATIENT_VISIT
    sites = {r["care_site_id"]: r["care_site_name"] for r in _rows(wh, schema.CDM["care_site"])}
    assert sites[stay["care_site_id"]] == "Cardiologie"
    assert set(sites.values()) == {"Urgences", "Cardiologie"}
    with wh.begin() as conn:  # the same stay hash of another person is another stay
        other = _note(2, stay=StayRecord(STAY, D, D, None))
        assert writer.write_notes(conn, [other], 3).visit_ids == [2]


def test_visit_levels() -> None:
    assert visit_concept("Urgences") == c.ER_VISIT
    assert visit_concept("consultation") == c.OUTPATIENT_VISIT
    assert visit_concept("CRH") == c.INPATIENT_VISIT
    assert stay_concept(c.ER_VISIT, c.INPATIENT_VISIT) == c.ER_AND_INPATIENT_VISIT
    assert stay_concept(c.INPATIENT_VISIT, c.OUTPATIENT_VISIT) == c.INPATIENT_VISIT
    assert stay_concept(c.OUTPATIENT_VISIT, c.ER_VISIT) == c.ER_VISIT


def test_a_person_is_inserted_then_updated_in_place(wh: Warehouse) -> None:
    writer = OmopWriter(wh, "t")
    with wh.begin() as conn:
        writer.ensure_standard(conn)
        writer.write_person(conn, PersonRecord(3, "Pabc", date(1948, 5, 17), "F"))
    with wh.begin() as conn:
        writer.write_person(conn, PersonRecord(3, "Pabc", date(1949, 1, 2), None))
    [person] = _rows(wh, schema.CDM["person"])
    assert (person["person_id"], person["person_source_value"]) == (3, "Pabc")
    assert (person["year_of_birth"], person["month_of_birth"]) == (1949, 1)
    assert person["gender_concept_id"] == c.UNKNOWN and person["gender_source_value"] is None


def test_a_rolled_back_batch_forgets_its_concepts(wh: Warehouse) -> None:
    writer = OmopWriter(wh, "t")
    with pytest.raises(RuntimeError), wh.begin() as conn:
        writer.write_notes(conn, [_note(mentions=MENTIONS[:1])], 1)
        raise RuntimeError("crash inside the transaction")
    writer.forget()
    with wh.begin() as conn:  # the concept is created again, not referenced from the cache
        writer.write_notes(conn, [_note(mentions=MENTIONS[:1])], 2)
    [condition] = _rows(wh, schema.CDM["condition_occurrence"])
    codes = {r["concept_id"]: r["concept_code"] for r in _rows(wh, schema.CDM["concept"])}
    assert codes[condition["condition_concept_id"]] == "E11"

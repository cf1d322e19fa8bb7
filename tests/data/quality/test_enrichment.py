"""NLP enrichment: conditions known only from text vs structured sources, by service."""

from __future__ import annotations

from datetime import date

import pytest

from hopia.data.quality.enrichment import enrichment_report
from hopia.platform.warehouse import schema
from tests.data.quality.builders import EHR, ENGINES, FEMALE, MALE, NLP, _person, warehouse

DIABETES, HYPERTENSION, ASTHMA = 201826, 320128, 317009
ER_VISIT = 9203


def _condition(cid: int, pid: int, concept: int, kind: int, visit: int | None) -> dict:
    return {
        "condition_occurrence_id": cid,
        "person_id": pid,
        "condition_concept_id": concept,
        "condition_start_date": date(2023, 2, 1),
        "condition_type_concept_id": kind,
        "visit_occurrence_id": visit,
    }


def _note(nid: int, pid: int) -> dict:
    return {
        "note_id": nid,
        "person_id": pid,
        "note_date": date(2023, 2, 1),
        "note_type_concept_id": EHR,
        "note_class_concept_id": 0,
        "note_text": "texte pseudonymisé",
        "encoding_concept_id": 0,
        "language_concept_id": 0,
    }


def _mention(mid: int, note: int, affirmed: bool) -> dict:
    return {
        "note_nlp_id": mid,
        "note_id": note,
        "lexical_variant": "diabete",
        "nlp_date": date(2023, 2, 2),
        "term_exists": "Y" if affirmed else "N",
        "note_nlp_concept_id": 0,
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_text_only_conditions_by_service(engine: str, tmp_path) -> None:
    with warehouse(engine, tmp_path) as wh:
        with wh.begin() as conn:
            rows = {
                "person": [
                    _person(1, MALE, date(1950, 1, 1)),
                    _person(2, FEMALE, date(1960, 1, 1)),
                    _person(3, FEMALE, date(1970, 1, 1)),
                ],
                "care_site": [{"care_site_id": 10, "care_site_name": "Cardiologie"}],
                "visit_occurrence": [
                    {
                        "visit_occurrence_id": 1,
                        "person_id": 1,
                        "visit_concept_id": 9201,
                        "visit_start_date": date(2023, 2, 1),
                        "visit_end_date": date(2023, 2, 3),
                        "visit_type_concept_id": EHR,
                        "care_site_id": 10,
                    },
                    {
                        "visit_occurrence_id": 2,
                        "person_id": 2,
                        "visit_concept_id": ER_VISIT,
                        "visit_start_date": date(2023, 2, 1),
                        "visit_end_date": date(2023, 2, 1),
                        "visit_type_concept_id": EHR,
                        "care_site_id": None,
                    },
                ],
                "condition_occurrence": [
                    _condition(1, 1, DIABETES, EHR, 1),  # structured
                    _condition(2, 1, DIABETES, NLP, 1),  # confirms it: not text-only
                    _condition(3, 1, HYPERTENSION, NLP, 1),  # text only
                    _condition(4, 2, ASTHMA, NLP, 2),  # text only, patient known only by text
                    _condition(5, 3, DIABETES, EHR, None),  # structured, no visit
                ],
                "note": [_note(1, 1), _note(2, 1), _note(3, 2)],
                "note_nlp": [_mention(1, 1, True), _mention(2, 1, False), _mention(3, 3, True)],
            }
            for table, values in rows.items():
                wh.insert_rows(conn, schema.CDM[table], values)
        report = enrichment_report(wh)
    assert (report.persons, report.notes, report.notes_with_mentions) == (3, 3, 2)
    assert (report.mentions, report.mentions_affirmed) == (3, 2)
    assert report.condition_pairs_structured == 2
    assert report.condition_pairs_text == 3
    assert report.condition_pairs_text_only == 2
    assert report.persons_condition_text_only == 1
    conditions = report.domains[0]
    assert conditions.table == "condition_occurrence"
    assert (conditions.structured_rows, conditions.text_rows) == (2, 3)
    assert (conditions.persons_structured, conditions.persons_text) == (2, 2)
    services = {
        s.service: (
            s.persons,
            s.structured_rows,
            s.text_rows,
            s.text_only_rows,
            s.persons_text_only,
        )
        for s in report.services
    }
    assert services == {
        "Cardiologie": (1, 1, 2, 1, 1),
        "Urgences": (1, 0, 1, 1, 1),
        "Sans séjour": (1, 1, 0, 0, 0),
    }
    cardiology = next(s for s in report.services if s.service == "Cardiologie")
    assert round(cardiology.text_share, 1) == 66.7
    drugs = report.domains[1]
    assert (drugs.structured_rows, drugs.text_rows, drugs.persons_text_only) == (0, 0, 0)

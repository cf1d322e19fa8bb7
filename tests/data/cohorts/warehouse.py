"""A small warehouse written row by row, the way ingest would have: eight patients around
heart failure ("insuffisance cardiaque"), with the qualifiers NLP puts on mentions.

Who is who (index = first affirmed, current mention of "insuffisance cardiaque"):

====  ===  ====  =================================================  ==========================
id    sex  born  mentions (note date)                               drug (ATC) / BNP / other
====  ===  ====  =================================================  ==========================
1     M    1950  affirmed 2024-01-10                                 C03CA01 01-15 / 800 01-11
2     F    1960  negated 2024-02-01                                  C03CA01 / 900
3     F    1980  affirmed 2024-03-01                                 none / 500
4     M    2010  affirmed 2024-01-05                                 C03CA01 / 600 (a child)
5     M    1945  family 2024-01-01, history 2024-01-02               C03CA01 / 700
6     F    1955  affirmed 2024-04-01                                 C03CA01 in 2022 / 450
7     M    1970  affirmed 2024-05-01                                 C03CA01 05-03 / 300
8     F    1940  affirmed 2024-06-01 and 2024-07-01, hypothetical    C03CA01 / 1200, E11.9
====  ===  ====  =================================================  ==========================
"""

from __future__ import annotations

import json
from datetime import date, datetime

from hopia.platform.warehouse import Warehouse, schema
from tests.data.rows import concept_row

HF = "insuffisance cardiaque"
I509, E119, FUROSEMIDE, BNP = 2_000_000_001, 2_000_000_002, 2_000_000_003, 2_000_000_004
CARDIO_SITE = 1

PERSONS = {
    1: ("M", 1950),
    2: ("F", 1960),
    3: ("F", 1980),
    4: ("M", 2010),
    5: ("M", 1945),
    6: ("F", 1955),
    7: ("M", 1970),
    8: ("F", 1940),
}

# person, note date, qualifiers
MENTIONS = [
    (1, date(2024, 1, 10), {}),
    (2, date(2024, 2, 1), {"negation": True}),
    (3, date(2024, 3, 1), {}),
    (4, date(2024, 1, 5), {}),
    (5, date(2024, 1, 1), {"family": True}),
    (5, date(2024, 1, 2), {"history": True}),
    (6, date(2024, 4, 1), {}),
    (7, date(2024, 5, 1), {}),
    (8, date(2024, 6, 1), {}),
    (8, date(2024, 7, 1), {}),
    (8, date(2024, 6, 1), {"hypothesis": True}),
]
DRUGS = {
    1: date(2024, 1, 15),
    2: date(2024, 2, 3),
    4: date(2024, 1, 6),
    5: date(2024, 1, 3),
    6: date(2022, 1, 1),
    7: date(2024, 5, 3),
    8: date(2024, 6, 2),
}
BNP_VALUES = {
    1: (800, date(2024, 1, 11)),
    2: (900, date(2024, 2, 1)),
    3: (500, date(2024, 3, 2)),
    4: (600, date(2024, 1, 5)),
    5: (700, date(2024, 1, 2)),
    6: (450, date(2024, 4, 1)),
    7: (300, date(2024, 5, 1)),
    8: (1200, date(2024, 6, 1)),
}


def modifiers(**flags: bool) -> str:
    values = {
        "label": "congestive_heart_failure",
        "negation": False,
        "hypothesis": False,
        "family": False,
        "history": False,
    } | flags
    return json.dumps(values, ensure_ascii=False)


def fill(wh: Warehouse, identities: bool = True) -> None:
    """Write the eight patients (and, with ``identities``, their identified records)."""
    cdm = schema.CDM
    rows: dict[str, list[dict]] = {
        name: []
        for name in (
            "concept",
            "care_site",
            "person",
            "visit_occurrence",
            "condition_occurrence",
            "drug_exposure",
            "measurement",
            "note",
            "note_nlp",
        )
    }
    rows["concept"] = [
        concept_row(I509, "I50.9", "CIM10", "Insuffisance cardiaque, sans précision", "Condition"),
        concept_row(E119, "E11.9", "CIM10", "Diabète sucré de type 2", "Condition"),
        concept_row(FUROSEMIDE, "C03CA01", "ATC", "furosémide", "Drug"),
        concept_row(BNP, "42637-9", "LOINC", "Natriuretic peptide B", "Measurement"),
    ]
    rows["care_site"] = [
        {
            "care_site_id": CARDIO_SITE,
            "care_site_name": "Cardiologie",
            "care_site_source_value": "CARDIO",
        }
    ]
    for pid, (sex, year) in PERSONS.items():
        rows["person"].append(
            {
                "person_id": pid,
                "gender_concept_id": 8507 if sex == "M" else 8532,
                "year_of_birth": year,
                "month_of_birth": 6,
                "race_concept_id": 0,
                "ethnicity_concept_id": 0,
            }
        )
    # Inpatient stays in cardiology for 1 and 3; an outpatient visit for 2; a stay admitted
    # through the emergency department (OMOP 262) for 5.
    for vid, pid, concept, site, day in [
        (1, 1, 9201, CARDIO_SITE, date(2024, 1, 10)),
        (2, 3, 9201, CARDIO_SITE, date(2024, 3, 1)),
        (3, 2, 9202, None, date(2024, 2, 1)),
        (4, 5, 262, None, date(2024, 6, 1)),
    ]:
        rows["visit_occurrence"].append(
            {
                "visit_occurrence_id": vid,
                "person_id": pid,
                "visit_concept_id": concept,
                "visit_start_date": day,
                "visit_end_date": day,
                "visit_type_concept_id": 32817,
                "care_site_id": site,
                "visit_source_value": "CRH",
            }
        )
    for cid, (pid, concept, day, status) in enumerate(
        [
            (1, I509, date(2024, 1, 10), None),
            (8, E119, date(2020, 1, 1), "antecedent"),
        ],
        1,
    ):
        rows["condition_occurrence"].append(
            {
                "condition_occurrence_id": cid,
                "person_id": pid,
                "condition_concept_id": concept,
                "condition_start_date": day,
                "condition_type_concept_id": 32858,
                "condition_source_concept_id": concept,
                "condition_source_value": "texte",
                "condition_status_source_value": status,
            }
        )
    for did, (pid, day) in enumerate(DRUGS.items(), 1):
        rows["drug_exposure"].append(
            {
                "drug_exposure_id": did,
                "person_id": pid,
                "drug_concept_id": FUROSEMIDE,
                "drug_exposure_start_date": day,
                "drug_exposure_end_date": day,
                "drug_type_concept_id": 32858,
                "drug_source_concept_id": FUROSEMIDE,
                "drug_source_value": "furosémide",
            }
        )
    for mid, (pid, (value, day)) in enumerate(BNP_VALUES.items(), 1):
        rows["measurement"].append(
            {
                "measurement_id": mid,
                "person_id": pid,
                "measurement_concept_id": BNP,
                "measurement_date": day,
                "measurement_type_concept_id": 32817,
                "value_as_number": float(value),
                "measurement_source_value": "42637-9",
                "unit_source_value": "pg/mL",
            }
        )
    for nid, (pid, day, flags) in enumerate(MENTIONS, 1):
        rows["note"].append(
            {
                "note_id": nid,
                "person_id": pid,
                "note_date": day,
                "note_type_concept_id": 32817,
                "note_class_concept_id": 0,
                "note_text": "(pseudonymisé)",
                "encoding_concept_id": 0,
                "language_concept_id": 0,
            }
        )
        fact = not (flags.get("negation") or flags.get("hypothesis") or flags.get("family"))
        variant = "Insuffisance cardiaque" if nid % 2 else "insuffisance cardiaque congestive"
        rows["note_nlp"].append(
            {
                "note_nlp_id": nid,
                "note_id": nid,
                "section_concept_id": 0,
                "snippet": variant,
                "lexical_variant": variant,
                "note_nlp_concept_id": I509,
                "note_nlp_source_concept_id": I509,
                "nlp_system": "test",
                "nlp_date": day,
                "term_exists": "Y" if fact else "N",
                "term_temporal": "history" if flags.get("history") else "present",
                "term_modifiers": modifiers(**flags),
            }
        )
    with wh.begin() as conn:
        for name, table_rows in rows.items():
            wh.insert_rows(conn, cdm[name], table_rows)
        if identities:
            now = datetime(2024, 1, 1)
            wh.insert_rows(
                conn,
                schema.patient,
                [
                    {
                        "patient_id": pid,
                        "ipp": f"IPP{pid:04d}",
                        "person_id": pid,
                        "family_name": f"NOM{pid}",
                        "given_name": "Prénom",
                        "sex": sex,
                        "birth_date": date(year, 6, 1),
                        "updated_at": now,
                    }
                    for pid, (sex, year) in PERSONS.items()
                ],
            )

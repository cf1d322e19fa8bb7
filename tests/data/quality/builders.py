"""Small warehouses for the quality tests: a clean one that passes every DQD check, and the
same with one bad row per defect. Standard concepts only, as in an Athena-mapped warehouse."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy import text

from hopia.platform.warehouse import Warehouse, schema
from tests.platform.pg import engine_warehouse

MALE, FEMALE, EHR, NLP = 8507, 8532, 32817, 32858
INPATIENT = 9201
DIABETES = 201826  # Type 2 diabetes mellitus
PREGNANCY = 198212  # Spotting per vagina in pregnancy: DQD says Female only
BODY_WEIGHT, KILOGRAM = 3025315, 9529
METFORMIN, TOBACCO_USER, ECG = 1503297, 4005823, 4230911
UNKNOWN_CONCEPT = 999_999_999
TODAY = date(2024, 6, 1)  # the runs' "today": fixed, so date bounds never drift

CONCEPTS = [
    # concept_id, name, domain, vocabulary, class
    (MALE, "MALE", "Gender", "Gender", "Gender"),
    (FEMALE, "FEMALE", "Gender", "Gender", "Gender"),
    (INPATIENT, "Inpatient Visit", "Visit", "Visit", "Visit"),
    (EHR, "EHR", "Type Concept", "Type Concept", "Type Concept"),
    (NLP, "NLP", "Type Concept", "Type Concept", "Type Concept"),
    (DIABETES, "Type 2 diabetes mellitus", "Condition", "SNOMED", "Clinical Finding"),
    (PREGNANCY, "Spotting per vagina in pregnancy", "Condition", "SNOMED", "Clinical Finding"),
    (BODY_WEIGHT, "Body weight", "Measurement", "LOINC", "Clinical Observation"),
    (KILOGRAM, "kilogram", "Unit", "UCUM", "Unit"),
    (METFORMIN, "metformin", "Drug", "RxNorm", "Ingredient"),
    (TOBACCO_USER, "Tobacco user", "Observation", "SNOMED", "Clinical Finding"),
    (ECG, "Electrocardiographic procedure", "Procedure", "SNOMED", "Procedure"),
]


warehouse = engine_warehouse  # a fresh warehouse on one engine


ENGINES = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]


def _person(pid: int, gender: int, born: date | None) -> dict:
    return {
        "person_id": pid,
        "gender_concept_id": gender,
        "year_of_birth": born.year if born else None,
        "month_of_birth": born.month if born else None,
        "day_of_birth": born.day if born else None,
        "race_concept_id": 0,
        "ethnicity_concept_id": 0,
        "gender_source_value": {MALE: "M", FEMALE: "F"}[gender],
    }


def _period(pid: int, start: date, end: date) -> dict:
    return {
        "observation_period_id": pid,
        "person_id": pid,
        "observation_period_start_date": start,
        "observation_period_end_date": end,
        "period_type_concept_id": EHR,
    }


def _visit(vid: int, pid: int, start: date, end: date) -> dict:
    return {
        "visit_occurrence_id": vid,
        "person_id": pid,
        "visit_concept_id": INPATIENT,
        "visit_start_date": start,
        "visit_end_date": end,
        "visit_type_concept_id": EHR,
    }


def _condition(cid: int, pid: int, concept: int, day: date, visit: int | None) -> dict:
    return {
        "condition_occurrence_id": cid,
        "person_id": pid,
        "condition_concept_id": concept,
        "condition_start_date": day,
        "condition_type_concept_id": EHR,
        "visit_occurrence_id": visit,
    }


def _weight(mid: int, pid: int, kg: float, day: date, visit: int | None) -> dict:
    return {
        "measurement_id": mid,
        "person_id": pid,
        "measurement_concept_id": BODY_WEIGHT,
        "measurement_date": day,
        "measurement_type_concept_id": EHR,
        "value_as_number": kg,
        "unit_concept_id": KILOGRAM,
        "unit_source_value": "kg",
        "visit_occurrence_id": visit,
    }


def _events(pid: int, day: date, visit: int, concept: int) -> dict[str, dict]:
    """One row per person in each remaining clinical table, on the day of their visit."""
    return {
        "drug_exposure": {
            "drug_exposure_id": pid,
            "person_id": pid,
            "drug_concept_id": METFORMIN,
            "drug_exposure_start_date": day,
            "drug_exposure_end_date": day,
            "drug_type_concept_id": EHR,
            "visit_occurrence_id": visit,
        },
        "observation": {
            "observation_id": pid,
            "person_id": pid,
            "observation_concept_id": TOBACCO_USER,
            "observation_date": day,
            "observation_type_concept_id": EHR,
            "visit_occurrence_id": visit,
        },
        "procedure_occurrence": {
            "procedure_occurrence_id": pid,
            "person_id": pid,
            "procedure_concept_id": ECG,
            "procedure_date": day,
            "procedure_type_concept_id": EHR,
            "visit_occurrence_id": visit,
        },
        "condition_era": {
            "condition_era_id": pid,
            "person_id": pid,
            "condition_concept_id": concept,
            "condition_era_start_date": datetime.combine(day, time()),
            "condition_era_end_date": datetime.combine(day, time()),
            "condition_occurrence_count": 1,
        },
        "drug_era": {
            "drug_era_id": pid,
            "person_id": pid,
            "drug_concept_id": METFORMIN,
            "drug_era_start_date": datetime.combine(day, time()),
            "drug_era_end_date": datetime.combine(day, time()),
            "drug_exposure_count": 1,
            "gap_days": 0,
        },
    }


def seed_clean(wh: Warehouse) -> None:
    """Four patients whose every row satisfies DQD's checks and conventions."""
    with wh.begin() as conn:
        vocabulary = {
            "domain": {(c[2],) for c in CONCEPTS},
            "vocabulary": {(c[3],) for c in CONCEPTS},
            "concept_class": {(c[4],) for c in CONCEPTS},
        }
        wh.insert_rows(
            conn,
            schema.CDM["domain"],
            [
                {"domain_id": d, "domain_name": d, "domain_concept_id": 0}
                for (d,) in vocabulary["domain"]
            ],
        )
        wh.insert_rows(
            conn,
            schema.CDM["vocabulary"],
            [
                {"vocabulary_id": v, "vocabulary_name": v, "vocabulary_concept_id": 0}
                for (v,) in vocabulary["vocabulary"]
            ],
        )
        wh.insert_rows(
            conn,
            schema.CDM["concept_class"],
            [
                {"concept_class_id": k, "concept_class_name": k, "concept_class_concept_id": 0}
                for (k,) in vocabulary["concept_class"]
            ],
        )
        wh.insert_rows(
            conn,
            schema.CDM["concept"],
            [
                {
                    "concept_id": cid,
                    "concept_name": name,
                    "domain_id": domain,
                    "vocabulary_id": vocab,
                    "concept_class_id": klass,
                    "standard_concept": "S",
                    "concept_code": str(cid),
                    "valid_start_date": date(1970, 1, 1),
                    "valid_end_date": date(2099, 12, 31),
                }
                for cid, name, domain, vocab, klass in CONCEPTS
            ],
        )
        wh.insert_rows(
            conn,
            schema.CDM["person"],
            [
                _person(1, MALE, date(1960, 3, 1)),
                _person(2, FEMALE, date(1975, 7, 14)),
                _person(3, FEMALE, date(1990, 1, 2)),
                _person(4, MALE, date(1950, 11, 30)),
            ],
        )
        wh.insert_rows(
            conn,
            schema.CDM["observation_period"],
            [
                _period(1, date(2019, 1, 1), date(2023, 12, 31)),
                _period(2, date(2019, 1, 1), date(2023, 12, 31)),
                _period(3, date(2019, 1, 1), date(2023, 12, 31)),
                _period(4, date(2019, 1, 1), date(2021, 6, 1)),
            ],
        )
        wh.insert_rows(
            conn,
            schema.CDM["death"],
            [{"person_id": 4, "death_date": date(2021, 6, 1), "death_type_concept_id": EHR}],
        )
        wh.insert_rows(
            conn,
            schema.CDM["visit_occurrence"],
            [
                _visit(1, 1, date(2020, 1, 10), date(2020, 1, 12)),
                _visit(2, 2, date(2020, 3, 1), date(2020, 3, 5)),
                _visit(3, 3, date(2021, 2, 1), date(2021, 2, 1)),
                _visit(4, 4, date(2021, 5, 1), date(2021, 5, 20)),
            ],
        )
        wh.insert_rows(
            conn,
            schema.CDM["condition_occurrence"],
            [
                _condition(1, 1, DIABETES, date(2020, 1, 10), 1),
                _condition(2, 2, PREGNANCY, date(2020, 3, 2), 2),
                _condition(3, 3, DIABETES, date(2021, 2, 1), 3),
                _condition(4, 4, DIABETES, date(2021, 5, 2), 4),
            ],
        )
        wh.insert_rows(
            conn,
            schema.CDM["measurement"],
            [
                _weight(1, 1, 82.0, date(2020, 1, 10), 1),
                _weight(2, 2, 61.5, date(2020, 3, 2), 2),
                _weight(3, 3, 55.0, date(2021, 2, 1), 3),
                _weight(4, 4, 70.0, date(2021, 5, 2), 4),
            ],
        )
        events = [
            _events(1, date(2020, 1, 10), 1, DIABETES),
            _events(2, date(2020, 3, 2), 2, PREGNANCY),
            _events(3, date(2021, 2, 1), 3, DIABETES),
            _events(4, date(2021, 5, 2), 4, DIABETES),
        ]
        for table in events[0]:
            wh.insert_rows(conn, schema.CDM[table], [e[table] for e in events])


# check_id -> number of rows it must find. A defect may break two DQD checks: DQD tests a
# death before birth both as plausibleAfterBirth and as plausibleTemporalAfter (death after
# birth), an event after death both as plausibleBeforeDeath and plausibleDuringLife, a visit
# ending before it starts from its start and from its end.
DEFECTS = {
    # death before birth (person 5: born 1980-05-05, "died" 1980-04-01)
    "plausibleAfterBirth:death.death_date": 1,
    "plausibleTemporalAfter:death.death_date": 1,
    # visit ending before it starts
    "plausibleStartBeforeEnd:visit_occurrence.visit_start_date": 1,
    "plausibleTemporalAfter:visit_occurrence.visit_end_date": 1,
    # a condition coded with a concept that is not in the vocabulary
    "isForeignKey:condition_occurrence.condition_concept_id": 1,
    # a person without year of birth (a required field: 0 % NULL allowed, checked twice by DQD)
    "isRequired:person.year_of_birth": 1,
    "measureValueCompleteness:person.year_of_birth": 1,
    # a condition pointing to a visit that does not exist
    "isForeignKey:condition_occurrence.visit_occurrence_id": 1,
    # a body weight of 900 kg
    "plausibleValueHigh:measurement.measurement_concept_id:3025315:unit=9529": 1,
    # a man with a pregnancy condition
    f"plausibleGender:condition_occurrence.condition_concept_id:{PREGNANCY}": 1,
    # a condition six months after death
    "plausibleBeforeDeath:condition_occurrence.condition_start_date": 1,
    "plausibleDuringLife:condition_occurrence.condition_start_date": 1,
}


def plant_defects(wh: Warehouse) -> None:
    """One bad row per defect of :data:`DEFECTS`, on top of :func:`seed_clean`."""
    with wh.begin() as conn:
        # Hopia's schema makes required columns NOT NULL; a warehouse built by another ETL may
        # not. Relax one to plant the null (same statement on DuckDB and PostgreSQL).
        conn.execute(text("ALTER TABLE omop.person ALTER COLUMN year_of_birth DROP NOT NULL"))
        wh.insert_rows(
            conn,
            schema.CDM["person"],
            [_person(5, FEMALE, date(1980, 5, 5)), _person(6, MALE, None)],
        )
        wh.insert_rows(
            conn,
            schema.CDM["observation_period"],
            # person 5: inside both "after birth" and "before death + 60 days"
            [
                _period(5, date(1980, 5, 5), date(1980, 5, 10)),
                _period(6, date(2019, 1, 1), date(2019, 2, 1)),
            ],
        )
        wh.insert_rows(
            conn,
            schema.CDM["death"],
            [{"person_id": 5, "death_date": date(1980, 4, 1), "death_type_concept_id": EHR}],
        )
        wh.insert_rows(
            conn, schema.CDM["visit_occurrence"], [_visit(5, 2, date(2022, 3, 5), date(2022, 3, 1))]
        )
        wh.insert_rows(
            conn,
            schema.CDM["condition_occurrence"],
            [
                _condition(5, 3, UNKNOWN_CONCEPT, date(2021, 2, 1), 3),
                _condition(6, 1, DIABETES, date(2020, 1, 11), 777),
                _condition(7, 1, PREGNANCY, date(2020, 1, 11), 1),
                _condition(8, 4, DIABETES, date(2021, 12, 1), None),
            ],
        )
        wh.insert_rows(conn, schema.CDM["measurement"], [_weight(5, 3, 900.0, date(2021, 2, 1), 3)])

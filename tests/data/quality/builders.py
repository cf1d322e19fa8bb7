"""Small warehouses for the quality tests: a clean one that passes every DQD check, and the
same with one bad row per defect. Standard concepts only, as in an Athena-mapped warehouse.
Hand-made because the planted defects are the point: each must be caught by its check and by
nothing else (the sample warehouse, ``tests/sample.py``, is for checks that only need data)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import text

from hopia.platform.warehouse import Warehouse
from tests.data.rows import EHR, FEMALE, MALE, NLP, Rows
from tests.platform.pg import engine_warehouse

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


def person(rows: Rows, pid: int, sex: str, born: date | None) -> None:
    rows.person(pid, sex, born, gender_source_value=sex)


def weight(rows: Rows, pid: int, kg: float, day: date, visit: int, **extra: object) -> None:
    rows.measurement(
        pid,
        BODY_WEIGHT,
        day,
        kg,
        unit_concept_id=KILOGRAM,
        unit_source_value="kg",
        visit_occurrence_id=visit,
        **extra,
    )


def seed_clean(wh: Warehouse) -> None:
    """Four patients whose every row satisfies DQD's checks and conventions."""
    rows = Rows()
    for kind, column in [("domain", 2), ("vocabulary", 3), ("concept_class", 4)]:
        for name in sorted({c[column] for c in CONCEPTS}):
            rows.add(kind, {f"{kind}_id": name, f"{kind}_name": name, f"{kind}_concept_id": 0})
    for cid, name, domain, vocabulary, klass in CONCEPTS:
        rows.concept(cid, str(cid), vocabulary, name, domain, standard="S", klass=klass)
    clean = [  # person, sex, birth, observed until, visit start and end, condition, its day, kg
        (1, "M", date(1960, 3, 1), date(2023, 12, 31), date(2020, 1, 10), date(2020, 1, 12),
         DIABETES, date(2020, 1, 10), 82.0),
        (2, "F", date(1975, 7, 14), date(2023, 12, 31), date(2020, 3, 1), date(2020, 3, 5),
         PREGNANCY, date(2020, 3, 2), 61.5),
        (3, "F", date(1990, 1, 2), date(2023, 12, 31), date(2021, 2, 1), date(2021, 2, 1),
         DIABETES, date(2021, 2, 1), 55.0),
        (4, "M", date(1950, 11, 30), date(2021, 6, 1), date(2021, 5, 1), date(2021, 5, 20),
         DIABETES, date(2021, 5, 2), 70.0),
    ]  # fmt: skip
    for pid, sex, born, observed_to, start, end, concept, day, kg in clean:
        person(rows, pid, sex, born)
        rows.add(
            "observation_period",
            person_id=pid,
            period_type_concept_id=EHR,
            observation_period_start_date=date(2019, 1, 1),
            observation_period_end_date=observed_to,
        )
        visit = rows.visit(pid, start, end)
        rows.condition(pid, concept, day, visit_occurrence_id=visit)
        weight(rows, pid, kg, day, visit)
        # One row in each remaining clinical table, on the day of the visit.
        rows.drug(pid, METFORMIN, day, visit_occurrence_id=visit)
        rows.add(
            "observation",
            person_id=pid,
            observation_concept_id=TOBACCO_USER,
            observation_date=day,
            observation_type_concept_id=EHR,
            visit_occurrence_id=visit,
        )
        rows.add(
            "procedure_occurrence",
            person_id=pid,
            procedure_concept_id=ECG,
            procedure_date=day,
            procedure_type_concept_id=EHR,
            visit_occurrence_id=visit,
        )
        at = datetime(day.year, day.month, day.day)
        rows.add(
            "condition_era",
            person_id=pid,
            condition_concept_id=concept,
            condition_era_start_date=at,
            condition_era_end_date=at,
            condition_occurrence_count=1,
        )
        rows.add(
            "drug_era",
            person_id=pid,
            drug_concept_id=METFORMIN,
            drug_era_start_date=at,
            drug_era_end_date=at,
            drug_exposure_count=1,
            gap_days=0,
        )
    rows.add("death", person_id=4, death_date=date(2021, 6, 1), death_type_concept_id=EHR)
    rows.write(wh)


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
    """One bad row per defect of :data:`DEFECTS`, on top of :func:`seed_clean` (explicit ids:
    they follow the clean rows)."""
    with wh.begin() as conn:
        # Hopia's schema makes required columns NOT NULL; a warehouse built by another ETL may
        # not. Relax one to plant the null (same statement on DuckDB and PostgreSQL).
        conn.execute(text("ALTER TABLE omop.person ALTER COLUMN year_of_birth DROP NOT NULL"))
    rows = Rows()
    person(rows, 5, "F", date(1980, 5, 5))
    person(rows, 6, "M", None)
    # person 5: inside both "after birth" and "before death + 60 days"
    for pid, start, end in [
        (5, date(1980, 5, 5), date(1980, 5, 10)),
        (6, date(2019, 1, 1), date(2019, 2, 1)),
    ]:
        rows.add(
            "observation_period",
            observation_period_id=pid,
            person_id=pid,
            period_type_concept_id=EHR,
            observation_period_start_date=start,
            observation_period_end_date=end,
        )
    rows.add("death", person_id=5, death_date=date(1980, 4, 1), death_type_concept_id=EHR)
    rows.visit(2, date(2022, 3, 5), date(2022, 3, 1), visit_occurrence_id=5)
    for cid, pid, concept, day, visit in [
        (5, 3, UNKNOWN_CONCEPT, date(2021, 2, 1), 3),
        (6, 1, DIABETES, date(2020, 1, 11), 777),
        (7, 1, PREGNANCY, date(2020, 1, 11), 1),
        (8, 4, DIABETES, date(2021, 12, 1), None),
    ]:
        rows.condition(pid, concept, day, condition_occurrence_id=cid, visit_occurrence_id=visit)
    weight(rows, 3, 900.0, date(2021, 2, 1), 3, measurement_id=5)
    rows.write(wh)

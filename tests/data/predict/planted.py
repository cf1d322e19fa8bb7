"""A small OMOP warehouse in DuckDB with a planted readmission signal.

Patients have one to four inpatient stays between 2019 and 2023. At each stay a patient may
have heart failure (CIM-10 I50.9, recorded) and a creatinine measured during the stay; when
both are present and creatinine is high (> 150 µmol/L), the next stay follows within 3 to 25
days in 80 % of cases, against 8 % otherwise. Other rows add noise: an NLP-derived pneumonia
(J18.9, type concept NLP), furosemide (ATC C03CA01) for heart failure, an outpatient visit.

Leakage bait: every readmission gets a ``Y95`` condition (nosocomial, chosen because nothing
else uses it) dated on its admission day, i.e. after the previous discharge. A feature builder
that looks past discharge would find a perfect predictor there.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from hopia.data.omop.concepts import EHR, FEMALE, INPATIENT_VISIT, MALE, NLP, OUTPATIENT_VISIT
from hopia.platform.warehouse import Warehouse, schema
from tests.data.rows import concept_row

CONCEPTS = {  # concept_id: (vocabulary, code, domain)
    2_000_000_001: ("CIM10", "I50.9", "Condition"),
    2_000_000_002: ("CIM10", "J18.9", "Condition"),
    2_000_000_003: ("CIM10", "Y95", "Condition"),
    2_000_000_004: ("ATC", "C03CA01", "Drug"),
    2_000_000_005: ("LOINC", "2160-0", "Measurement"),
    2_000_000_006: ("CIM10", "E11.9", "Condition"),
}
HEART_FAILURE, PNEUMONIA, NOSOCOMIAL, FUROSEMIDE, CREATININE, DIABETES = sorted(CONCEPTS)
FIRST_DAY, LAST_DAY = date(2019, 1, 1), date(2023, 12, 31)


class Rows:
    """Rows per CDM table, with identifiers handed out in order."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict]] = {}

    def add(self, table: str, **values: object) -> dict:
        rows = self.tables.setdefault(table, [])
        id_column = {
            "visit_occurrence": "visit_occurrence_id",
            "condition_occurrence": "condition_occurrence_id",
            "drug_exposure": "drug_exposure_id",
            "measurement": "measurement_id",
        }.get(table)
        if id_column and id_column not in values:
            values[id_column] = len(rows) + 1
        rows.append(dict(values))
        return rows[-1]

    def person(self, person_id: int, sex: str, year: int) -> None:
        self.add(
            "person",
            person_id=person_id,
            gender_concept_id=FEMALE if sex == "F" else MALE,
            year_of_birth=year,
            month_of_birth=6,
            race_concept_id=0,
            ethnicity_concept_id=0,
        )

    def visit(self, person_id: int, start: date, end: date, concept: int = INPATIENT_VISIT) -> int:
        row = self.add(
            "visit_occurrence",
            person_id=person_id,
            visit_concept_id=concept,
            visit_start_date=start,
            visit_end_date=end,
            visit_type_concept_id=EHR,
        )
        return row["visit_occurrence_id"]

    def condition(self, person_id: int, concept: int, day: date, type_concept: int = EHR) -> None:
        self.add(
            "condition_occurrence",
            person_id=person_id,
            condition_concept_id=concept,
            condition_start_date=day,
            condition_type_concept_id=type_concept,
        )

    def drug(self, person_id: int, concept: int, day: date) -> None:
        self.add(
            "drug_exposure",
            person_id=person_id,
            drug_concept_id=concept,
            drug_exposure_start_date=day,
            drug_exposure_end_date=day,
            drug_type_concept_id=EHR,
        )

    def lab(self, person_id: int, concept: int, day: date, value: float, source: str) -> None:
        self.add(
            "measurement",
            person_id=person_id,
            measurement_concept_id=concept,
            measurement_date=day,
            measurement_type_concept_id=EHR,
            value_as_number=value,
            measurement_source_value=source,
        )

    def write(self, path: Path) -> Warehouse:
        wh = Warehouse(f"duckdb:///{path}")
        with wh.begin() as conn:
            concepts = [concept_row(c, k, voc, k, dom) for c, (voc, k, dom) in CONCEPTS.items()]
            wh.insert_rows(conn, schema.CDM["concept"], concepts)
            for table, rows in self.tables.items():
                wh.insert_rows(conn, schema.CDM[table], rows)
        return wh


def planted_rows(n_persons: int = 300, seed: int = 7) -> Rows:
    rng = random.Random(seed)
    rows = Rows()
    span = (LAST_DAY - FIRST_DAY).days
    for pid in range(1, n_persons + 1):
        rows.person(pid, rng.choice("FM"), rng.randint(1930, 1995))
        day = FIRST_DAY + timedelta(days=rng.randrange(span - 200))
        readmitted_from_previous = False
        for _ in range(rng.choice((1, 2, 2, 3, 3, 4))):
            if day > LAST_DAY:
                break
            end = day + timedelta(days=rng.randint(1, 8))
            rows.visit(pid, day, end)
            if readmitted_from_previous:
                rows.condition(pid, NOSOCOMIAL, day)
            heart_failure = rng.random() < 0.45
            creatinine = rng.uniform(160, 300) if rng.random() < 0.5 else rng.uniform(60, 110)
            if heart_failure:
                rows.condition(pid, HEART_FAILURE, day)
                if rng.random() < 0.7:
                    rows.drug(pid, FUROSEMIDE, day + timedelta(days=1))
            rows.lab(pid, CREATININE, end, round(creatinine), "2160-0")
            if rng.random() < 0.3:
                rows.condition(pid, PNEUMONIA, end, type_concept=NLP)
            if rng.random() < 0.3:
                rows.condition(pid, DIABETES, day)
            if rng.random() < 0.3:
                rows.visit(pid, end + timedelta(days=2), end + timedelta(days=2), OUTPATIENT_VISIT)
            risky = heart_failure and creatinine > 150
            readmitted_from_previous = rng.random() < (0.8 if risky else 0.08)
            gap = rng.randint(3, 25) if readmitted_from_previous else rng.randint(45, 300)
            day = end + timedelta(days=gap)
    return rows


def planted_warehouse(path: Path, n_persons: int = 300, seed: int = 7) -> Warehouse:
    return planted_rows(n_persons, seed).write(path)

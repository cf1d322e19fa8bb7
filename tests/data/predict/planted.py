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

from hopia.data.omop.concepts import NLP, OUTPATIENT_VISIT
from hopia.platform.warehouse import Warehouse
from tests.data.rows import Rows

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


def concept_rows() -> Rows:
    """Rows holding the concepts above, to add persons and events to."""
    rows = Rows()
    for cid, (vocabulary, code, domain) in CONCEPTS.items():
        rows.concept(cid, code, vocabulary, code, domain)
    return rows


def planted_rows(n_persons: int = 300, seed: int = 7) -> Rows:
    rng = random.Random(seed)
    rows = concept_rows()
    span = (LAST_DAY - FIRST_DAY).days
    for pid in range(1, n_persons + 1):
        rows.person(pid, rng.choice("FM"), rng.randint(1930, 1995), month_of_birth=6)
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
            rows.measurement(
                pid, CREATININE, end, round(creatinine), measurement_source_value="2160-0"
            )
            if rng.random() < 0.3:
                rows.condition(pid, PNEUMONIA, end, NLP)
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
    return planted_rows(n_persons, seed).duckdb(path)

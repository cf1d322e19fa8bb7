"""A made-up file in the UCI diabetes format (same columns and codes), for offline tests.

Readmission ``<30`` is planted on ``number_inpatient``: 45 % with three prior admissions or
more, 5 % otherwise. Some encounters end in death or hospice (dispositions 11 and 13).
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from pathlib import Path

from hopia.data.predict.uci import CATEGORICAL, MEDICATIONS, NUMERIC

HEADER = [
    "encounter_id", "patient_nbr", "race", "gender", "age", "weight", *CATEGORICAL[1:4],
    "time_in_hospital", "payer_code", "medical_specialty", *list(NUMERIC)[1:],
    "diag_1", "diag_2", "diag_3", "max_glu_serum", "A1Cresult", *MEDICATIONS, "change",
    "diabetesMed", "readmitted",
]  # fmt: skip


def uci_rows(n_patients: int = 400, seed: int = 1) -> list[dict[str, object]]:
    rng = random.Random(seed)
    rows = []
    encounter = 1000
    for patient in range(1, n_patients + 1):
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            encounter += rng.randint(1, 50)
            inpatient = rng.choice((0, 0, 0, 1, 2, 3, 4, 5))
            readmitted = rng.random() < (0.45 if inpatient >= 3 else 0.05)
            row: dict[str, object] = {name: "No" for name in MEDICATIONS}
            row |= {
                "encounter_id": encounter,
                "patient_nbr": 90_000 + patient,
                "race": rng.choice(("Caucasian", "AfricanAmerican", "?")),
                "gender": rng.choice(("Female", "Male", "Male")),
                "age": rng.choice(("[30-40)", "[50-60)", "[60-70)", "[70-80)", "[80-90)")),
                "weight": "?",
                "admission_type_id": rng.choice((1, 2, 3)),
                "discharge_disposition_id": rng.choice((1, 1, 1, 3, 6, 11, 13)),
                "admission_source_id": rng.choice((1, 7)),
                "time_in_hospital": rng.randint(1, 14),
                "payer_code": rng.choice(("MC", "?")),
                "medical_specialty": rng.choice(("InternalMedicine", "Cardiology", "?")),
                "num_lab_procedures": rng.randint(1, 80),
                "num_procedures": rng.randint(0, 6),
                "num_medications": rng.randint(1, 40),
                "number_outpatient": rng.randint(0, 3),
                "number_emergency": rng.randint(0, 2),
                "number_inpatient": inpatient,
                "number_diagnoses": rng.randint(1, 9),
                "diag_1": rng.choice(("428", "250.83", "414", "786", "V57", "?")),
                "diag_2": rng.choice(("250", "401", "E888", "?")),
                "diag_3": rng.choice(("276", "250.01", "?")),
                "max_glu_serum": rng.choice(("None", ">300", "Norm")),
                "A1Cresult": rng.choice(("None", ">8", "Norm")),
                "insulin": rng.choice(("No", "Steady", "Up", "Down")),
                "metformin": rng.choice(("No", "Steady")),
                "change": rng.choice(("No", "Ch")),
                "diabetesMed": rng.choice(("No", "Yes")),
                "readmitted": "<30" if readmitted else rng.choice((">30", "NO")),
            }
            rows.append(row)
    return rows


def write_uci_zip(path: Path, n_patients: int = 400, seed: int = 1) -> Path:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(uci_rows(n_patients, seed))
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("dataset_diabetes/diabetic_data.csv", text.getvalue())
        zf.writestr("dataset_diabetes/IDs_mapping.csv", "admission_type_id,description\n")
    return path

"""A small synthetic hospital for the steering and bed tests: inpatient stays over 24 months in
five services of very different sizes (one tiny, so that small cells occur), readmissions,
a main diagnosis per stay, written with SQLAlchemy Core on DuckDB or PostgreSQL.

Deterministic (a seeded generator); the expected values of the tests are computed from these
frames with pandas, never from a previous run of the code under test.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from hopia.platform.warehouse import Warehouse, schema

FIRST, LAST = date(2023, 7, 1), date(2025, 6, 30)
# care_site_id -> (name, admissions a day, mean length of stay in days)
SITES = {
    1: ("Cardiologie", 3.0, 6.0),
    2: ("Pneumologie", 2.0, 8.0),
    3: ("Gériatrie", 1.5, 12.0),
    4: ("Chirurgie digestive", 1.0, 4.0),
    5: ("Unité de sommeil", 0.12, 1.5),  # a few stays a month: small cells
}
CODES = ["I50.9", "J44.1", "N39.0", "C34.9", "K80.2", "E11.9", "S72.0", "R07.4", "Z49.1"]
LOCAL = 2_000_000_001
INPATIENT, ER_INPATIENT, OUTPATIENT = 9201, 262, 9202


def frames(seed: int = 7) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    days = pd.date_range(FIRST, LAST, freq="D")
    rows = []
    persons = 1500
    for site, (_, rate, mean_los) in SITES.items():
        weekday = np.where(days.dayofweek < 5, 1.2, 0.5)
        season = 1 + 0.2 * np.cos(2 * np.pi * (days.dayofyear - 15) / 365.25)
        counts = rng.poisson(rate * weekday * season)
        for day, n in zip(days, counts, strict=True):
            for _ in range(n):
                los = int(rng.gamma(1.5, mean_los / 1.5))
                rows.append((site, day, day + pd.Timedelta(days=los)))
    visits = pd.DataFrame(rows, columns=["care_site_id", "visit_start_date", "visit_end_date"])
    visits = visits.sort_values(["visit_start_date", "care_site_id"]).reset_index(drop=True)
    visits["person_id"] = rng.integers(1, persons + 1, len(visits))
    # Readmissions: some stays are followed by another of the same person soon after.
    again = visits.sample(frac=0.08, random_state=seed).copy()
    again["visit_start_date"] = again["visit_end_date"] + pd.to_timedelta(
        rng.integers(0, 45, len(again)), unit="D"
    )
    again["visit_end_date"] = again["visit_start_date"] + pd.to_timedelta(
        rng.integers(0, 10, len(again)), unit="D"
    )
    visits = pd.concat([visits, again], ignore_index=True)
    visits = visits[visits["visit_start_date"] <= pd.Timestamp(LAST)].reset_index(drop=True)
    visits["visit_occurrence_id"] = np.arange(1, len(visits) + 1)
    visits["visit_concept_id"] = np.where(rng.random(len(visits)) < 0.3, ER_INPATIENT, INPATIENT)
    visits["visit_type_concept_id"] = 32817
    # The CDM requires a discharge date: a stay still present at the end of the data ends
    # on its last day, as ingest writes it.
    visits["visit_end_date"] = visits["visit_end_date"].clip(upper=pd.Timestamp(LAST))
    # Consultations: never counted.
    consult = visits.sample(n=300, random_state=1).copy()
    consult["visit_occurrence_id"] = np.arange(len(visits) + 1, len(visits) + 301)
    consult["visit_concept_id"] = OUTPATIENT
    consult["visit_end_date"] = consult["visit_start_date"]
    visits = pd.concat([visits, consult], ignore_index=True)
    for col in ("visit_start_date", "visit_end_date"):
        visits[col] = visits[col].dt.date.astype(object).where(visits[col].notna(), None)

    concepts = pd.DataFrame(
        {
            "concept_id": LOCAL + np.arange(len(CODES)),
            "concept_name": CODES,
            "domain_id": "Condition",
            "vocabulary_id": "CIM10",
            "concept_class_id": "Code",
            "concept_code": CODES,
            "valid_start_date": date(2000, 1, 1),
            "valid_end_date": date(2099, 12, 31),
        }
    )
    # Conditions: the main one for 95 % of stays; a third of those also have a history
    # (written first, dated first: it must not be taken for the main diagnosis).
    stays = visits[visits["visit_concept_id"] != OUTPATIENT]
    coded = stays[rng.random(len(stays)) > 0.05]
    main = rng.integers(0, len(CODES), len(coded))
    with_history = coded[rng.random(len(coded)) < 1 / 3]
    hist = (main[coded.index.get_indexer(with_history.index)] + 1) % len(CODES)
    n, h = len(coded), len(with_history)
    conditions = pd.DataFrame(
        {
            "condition_occurrence_id": np.arange(1, h + n + 1),
            "person_id": np.concatenate([with_history["person_id"], coded["person_id"]]),
            "visit_occurrence_id": np.concatenate(
                [with_history["visit_occurrence_id"], coded["visit_occurrence_id"]]
            ),
            "condition_concept_id": np.concatenate([LOCAL + hist, LOCAL + main]),
            "condition_source_concept_id": np.concatenate([LOCAL + hist, LOCAL + main]),
            "condition_start_date": np.concatenate(
                [with_history["visit_start_date"], coded["visit_start_date"]]
            ),
            "condition_type_concept_id": 32858,
            "condition_source_value": "mention",
            "condition_status_source_value": ["antecedent"] * h + [None] * n,
        }
    )
    sites = pd.DataFrame(
        {"care_site_id": list(SITES), "care_site_name": [v[0] for v in SITES.values()]}
    )
    main_codes = pd.DataFrame(
        {
            "visit_occurrence_id": coded["visit_occurrence_id"].to_numpy(),
            "code": np.array(CODES)[main],
        }
    )
    return {
        "care_site": sites,
        "concept": concepts,
        "visit_occurrence": visits,
        "condition_occurrence": conditions,
        "_main": main_codes,
    }


def fill(wh: Warehouse, data: dict[str, pd.DataFrame]) -> None:
    with wh.begin() as conn:
        for name, frame in data.items():
            if not name.startswith("_"):
                wh.insert_frame(conn, schema.CDM[name], frame)

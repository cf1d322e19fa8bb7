"""Stays and features on the sample warehouse (the synthetic CHU through the real ingest), on
DuckDB and PostgreSQL: the stays are the inpatient visits merged as a plain loop merges them, and
every stay gets one feature row whose values agree with the tables."""

from __future__ import annotations

import pandas as pd

from hopia.data.omop.concepts import ER_AND_INPATIENT_VISIT, INPATIENT_VISIT, NLP
from hopia.data.predict.features import build_features, build_stays, read_events
from hopia.platform.warehouse import Warehouse
from tests.sample import frame


def _expected_stays(wh: Warehouse) -> list[tuple]:
    """(person, admission, discharge, visits): a visit starting at most a day after the end of
    the stay so far belongs to it."""
    visits = frame(wh, "visit_occurrence")
    visits = visits[visits["visit_concept_id"].isin([INPATIENT_VISIT, ER_AND_INPATIENT_VISIT])]
    stays: list[list] = []
    for v in visits.sort_values(["person_id", "visit_start_date", "visit_end_date"]).itertuples():
        last = stays[-1] if stays else None
        if last and last[0] == v.person_id and v.visit_start_date <= last[2] + pd.Timedelta(days=1):
            last[2] = max(last[2], v.visit_end_date)
            last[3] += 1
        else:
            stays.append([v.person_id, v.visit_start_date, v.visit_end_date, 1])
    return sorted(tuple(s) for s in stays)


def test_one_feature_row_per_stay(sample: Warehouse) -> None:
    events = read_events(sample)
    stays = build_stays(events.visits)
    got = stays[["person_id", "admission_date", "discharge_date", "n_visits"]]
    assert sorted(got.itertuples(index=False, name=None)) == _expected_stays(sample)
    assert len(stays) >= 10

    features = build_features(events, stays).set_index("stay_id")
    assert sorted(features.index) == sorted(stays["stay_id"])
    person = frame(sample, "person").set_index("person_id")
    stay = stays.set_index("stay_id").join(person, on="person_id")
    born_later = stay["month_of_birth"].fillna(1) > stay["admission_date"].dt.month
    age = stay["admission_date"].dt.year - stay["year_of_birth"] - born_later.astype(int)
    assert (features["age"] == age.loc[features.index]).all()
    female = (stay["gender_concept_id"] == 8532).astype(float)
    assert (features["sex_female"] == female.loc[features.index]).all()
    assert (features["los_days"] == stay["los_days"].loc[features.index]).all()

    # A hypertension found in the notes (I10) by the discharge of a stay flags that stay.
    concept = frame(sample, "concept")
    code = concept["concept_code"].str.replace(".", "", regex=False)
    i10 = concept.loc[(concept["vocabulary_id"] == "CIM10") & code.str.startswith("I10")]
    conditions = frame(sample, "condition_occurrence")
    hta = conditions[
        conditions["condition_concept_id"].isin(i10["concept_id"])
        & (conditions["condition_type_concept_id"] == NLP)
    ]
    first = hta.groupby("person_id")["condition_start_date"].min()
    flagged = stay["discharge_date"] >= stay["person_id"].map(first)
    assert flagged.sum() > 0
    assert (features["nlp_cim_I10"] == flagged.astype(float).loc[features.index]).all()

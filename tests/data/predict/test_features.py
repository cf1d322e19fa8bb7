"""Stays, features and their cutoff: nothing dated after the prediction time is used."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from hopia.data.omop.concepts import ER_VISIT, INPATIENT_VISIT, NLP
from hopia.data.predict.features import (
    META_COLUMNS,
    build_features,
    build_stays,
    cim10_chapter,
    read_events,
)
from tests.data.predict.planted import (
    CREATININE,
    FUROSEMIDE,
    HEART_FAILURE,
    NOSOCOMIAL,
    PNEUMONIA,
    concept_rows,
    planted_rows,
)


def _visits(*spans: tuple[int, str, str, int]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "visit_occurrence_id": i,
                "person_id": p,
                "visit_concept_id": concept,
                "start": pd.Timestamp(a),
                "end": pd.Timestamp(b),
            }
            for i, (p, a, b, concept) in enumerate(spans, start=1)
        ]
    )


def test_stays_merge_visits_that_touch_and_ignore_outpatient_ones() -> None:
    visits = _visits(
        (1, "2024-01-01", "2024-01-03", INPATIENT_VISIT),
        (1, "2024-01-04", "2024-01-06", INPATIENT_VISIT),  # next day: a transfer, same stay
        (1, "2024-01-02", "2024-01-02", INPATIENT_VISIT),  # inside the first visit
        (1, "2024-01-10", "2024-01-12", INPATIENT_VISIT),  # 4 days later: a new stay
        (1, "2024-01-20", "2024-01-20", ER_VISIT),  # not an inpatient visit
        (2, "2024-01-05", "2024-01-05", INPATIENT_VISIT),
    )
    stays = build_stays(visits, gap_days=1)
    assert stays[["person_id", "admission_date", "discharge_date", "los_days", "n_visits"]].to_dict(
        orient="records"
    ) == [
        {"person_id": 1, "admission_date": pd.Timestamp("2024-01-01"),
         "discharge_date": pd.Timestamp("2024-01-06"), "los_days": 5, "n_visits": 3},
        {"person_id": 1, "admission_date": pd.Timestamp("2024-01-10"),
         "discharge_date": pd.Timestamp("2024-01-12"), "los_days": 2, "n_visits": 1},
        {"person_id": 2, "admission_date": pd.Timestamp("2024-01-05"),
         "discharge_date": pd.Timestamp("2024-01-05"), "los_days": 0, "n_visits": 1},
    ]  # fmt: skip
    assert stays["stay_id"].tolist() == [1, 4, 6]
    assert len(build_stays(visits, gap_days=7)) == 2  # a wider gap merges the two of person 1


@pytest.mark.parametrize(
    ("category", "chapter"),
    [("A41", "I"), ("C80", "II"), ("D50", "III"), ("D48", "II"), ("E11", "IV"), ("H59", "VII"),
     ("H60", "VIII"), ("I50", "IX"), ("N18", "XIV"), ("U07", "XXII"), ("Y95", "XX"),
     ("Z99", "XXI"), ("S72", "XIX"), ("T81", "XIX"), ("2160", None), ("i50", None)],
)  # fmt: skip
def test_cim10_chapters(category: str, chapter: str | None) -> None:
    assert cim10_chapter(category) == chapter


@pytest.fixture(scope="module")
def small_warehouse(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """Person 1: stay A (Jan 1-5), stay B (Jan 20-22). Rows dated between or after them."""
    rows = concept_rows()
    rows.person(1, "F", 1950, month_of_birth=6)
    rows.person(2, "M", 1980, month_of_birth=6)
    rows.visit(1, date(2024, 1, 1), date(2024, 1, 5))
    rows.visit(1, date(2024, 1, 20), date(2024, 1, 22))
    rows.visit(2, date(2023, 12, 1), date(2023, 12, 1))  # persons' rows never mix
    rows.condition(1, HEART_FAILURE, date(2024, 1, 3))  # during A
    rows.condition(1, NOSOCOMIAL, date(2024, 1, 10))  # after A's discharge, before B
    rows.condition(1, PNEUMONIA, date(2024, 1, 21), NLP)  # during B, from notes
    rows.condition(2, NOSOCOMIAL, date(2023, 11, 1))
    rows.drug(1, FUROSEMIDE, date(2024, 1, 6))  # the day after A's discharge
    creatinine = {date(2024, 1, 2): 90.0, date(2024, 1, 5): 120.0, date(2024, 1, 8): 400.0}
    for day, value in creatinine.items():  # 120: the last value of A; 400: after A
        rows.measurement(1, CREATININE, day, value, measurement_source_value="2160-0")
    # no concept: keyed by source value
    rows.measurement(1, 0, date(2024, 1, 4), 7.5, measurement_source_value="hba1c local")
    return rows.duckdb(tmp_path_factory.mktemp("wh") / "small.duckdb")


def _features(wh, cutoff: str = "discharge") -> pd.DataFrame:  # noqa: ANN001
    events = read_events(wh)
    stays = build_stays(events.visits)
    return build_features(events, stays, cutoff=cutoff).set_index("admission_date")


def test_no_row_dated_after_discharge_is_used(small_warehouse) -> None:  # noqa: ANN001
    f = _features(small_warehouse)
    a, b = f.loc[pd.Timestamp("2024-01-01")], f.loc[pd.Timestamp("2024-01-20")]
    # Stay A: the nosocomial code, the drug and the 400 creatinine all come after its discharge.
    assert a["cim_I50"] == 1 and a["cim_Y95"] == 0 and a["chap_XX"] == 0
    assert a["atc2_C03"] == 0 and a["atc3_C03C"] == 0
    assert a["lab_LOINC_2160_0"] == 120.0
    assert a["lab_hba1c_local"] == 7.5
    assert a["nlp_cim_J18"] == 0
    assert a["prior_stays_365d"] == 0 and pd.isna(a["days_since_last_discharge"])
    assert a["los_days"] == 4 and a["age"] == 73 and a["sex_female"] == 1
    # Stay B sees everything up to its own discharge.
    assert b["cim_Y95"] == 1 and b["cim_I50"] == 1 and b["atc3_C03C"] == 1
    assert b["lab_LOINC_2160_0"] == 400.0
    assert b["nlp_cim_J18"] == 1 and b["nlp_chap_X"] == 1 and "cim_J18" not in f.columns
    assert b["prior_stays_365d"] == 1 and b["prior_visits_365d"] == 1
    assert b["days_since_last_discharge"] == 15


def test_admission_cutoff_ignores_the_stay_itself(small_warehouse) -> None:  # noqa: ANN001
    f = _features(small_warehouse, cutoff="admission")
    a, b = f.loc[pd.Timestamp("2024-01-01")], f.loc[pd.Timestamp("2024-01-20")]
    assert "los_days" not in f.columns  # the length of stay is unknown at admission
    assert a["cim_I50"] == 0 and pd.isna(a["lab_LOINC_2160_0"])
    assert "nlp_cim_J18" not in f.columns  # only recorded during stay B
    assert b["cim_Y95"] == 1 and b["lab_LOINC_2160_0"] == 400.0
    assert list(f.reset_index(drop=True).columns[: len(META_COLUMNS) - 1]) == [
        c for c in META_COLUMNS if c != "admission_date"
    ]


def test_planted_leak_is_never_seen_before_it_happens(tmp_path: Path) -> None:
    """Y95 is written at each readmission: a stay sees it only if one is dated by its end."""
    rows = planted_rows(n_persons=60, seed=3)
    wh = rows.duckdb(tmp_path / "wh.duckdb")
    events = read_events(wh)
    stays = build_stays(events.visits)
    f = build_features(events, stays, cutoff="discharge")
    y95 = pd.DataFrame(
        [r for r in rows.tables["condition_occurrence"] if r["condition_concept_id"] == NOSOCOMIAL]
    )
    first_y95 = y95.groupby("person_id")["condition_start_date"].min().map(pd.Timestamp)
    expected = f["discharge_date"] >= f["person_id"].map(first_y95)
    assert (f["cim_Y95"] == expected.astype(float)).all()
    # Stays followed by a first readmission: the leak exists later, the feature must be 0.
    assert ((f["cim_Y95"] == 0) & f["person_id"].isin(first_y95.index)).sum() > 5


def test_features_of_an_empty_warehouse(tmp_path: Path) -> None:
    wh = concept_rows().duckdb(tmp_path / "empty.duckdb")
    events = read_events(wh)
    stays = build_stays(events.visits)
    assert stays.empty and events.observation_end is None
    assert build_features(events, stays).empty


def test_cutoff_is_checked(small_warehouse) -> None:  # noqa: ANN001
    events = read_events(small_warehouse)
    with pytest.raises(ValueError, match="cutoff"):
        build_features(events, build_stays(events.visits), cutoff="tomorrow")

"""The synthetic inpatient activity: ids above the offsets, known concepts reused, a person row
for every person with a stay, each service's own diagnoses, deterministic for a seed."""

from __future__ import annotations

from datetime import date

import pandas as pd

from hopia.data.synth.activity import PROFILES, Activity, Service, frames, profile

SPEC = Activity(
    {
        7: Service("cardiologie", 5.0, 6.0, ("I50.9", "I21.4")),
        9: Service("endocrinologie", 3.0, 4.0),
    },
    date(2024, 1, 1),
    date(2024, 6, 30),
    seed=3,
    persons=400,
    person_offset=1000,
    visit_offset=5000,
    condition_offset=90_000,
    consultations=20,
    source="essai",
)


def test_offsets_concepts_persons_and_diagnoses() -> None:
    t = frames(SPEC, known={"I50.9": 42}, next_concept=3_000_000_000)
    visits, conditions, persons = t["visit_occurrence"], t["condition_occurrence"], t["person"]
    assert visits["visit_occurrence_id"].min() == 5001 and visits["visit_occurrence_id"].is_unique
    assert conditions["condition_occurrence_id"].min() == 90_001
    assert visits["person_id"].between(1001, 1400).all()
    assert set(persons["person_id"]) == set(visits["person_id"])  # a row for each, no more
    assert persons["person_source_value"].str.startswith("essai-").all()
    assert (
        visits["visit_source_value"] == "essai-" + visits["visit_occurrence_id"].astype(str)
    ).all()
    assert (persons["year_of_birth"] <= 2024 - 18).all()
    assert set(persons["gender_concept_id"]) == {8507, 8532}
    # The known code keeps its concept; the others are new, numbered from next_concept.
    assert "I50.9" not in set(t["concept"]["concept_code"])
    assert t["concept"]["concept_id"].min() == 3_000_000_000
    ids = dict(zip(t["concept"]["concept_code"], t["concept"]["concept_id"], strict=True))
    ids["I50.9"] = 42
    main = t["_main"].merge(visits[["visit_occurrence_id", "care_site_id"]])
    assert set(main.loc[main["care_site_id"] == 7, "code"]) == {"I50.9", "I21.4"}
    assert set(main.loc[main["care_site_id"] == 9, "code"]) <= set(SPEC.codes)
    assert set(conditions["condition_concept_id"]) <= set(ids.values())
    # Stays end by the last day; about the asked volume (5 + 3 a day, plus readmissions).
    stays = visits[visits["visit_concept_id"] != 9202]
    assert pd.to_datetime(stays["visit_end_date"]).max() <= pd.Timestamp(SPEC.last)
    assert 0.8 * 8 * 182 < len(stays) < 1.3 * 8 * 182
    again = frames(SPEC, known={"I50.9": 42}, next_concept=3_000_000_000)
    assert all(again[k].equals(t[k]) for k in t)


def test_ward_profiles_by_name() -> None:
    assert profile("Cardiologie").admissions == PROFILES["cardio"].admissions
    assert profile("Gériatrie aiguë").mean_los == PROFILES["geriatr"].mean_los
    assert profile("geriatrie").name == "geriatrie"  # the ward keeps its name
    assert profile("urgences") is None  # the emergency department admits into the wards
    assert profile("Rhumatologie").admissions > 0

"""A cohort on the sample warehouse (the synthetic CHU through the real ingest), on DuckDB and
PostgreSQL: its attrition, members and characterisation match the same cohort computed in pandas
from the tables, and the identified list is audited."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import func, select

from hopia.data.cohorts import identified_patients, parse_definition, run_cohort
from hopia.platform import audit
from hopia.platform.exceptions import ReasonRequiredError
from hopia.platform.warehouse import Warehouse, schema
from tests.sample import frame

# First hypertension (I10), 50 or older then, a diuretic or beta blocker (ATC C03, C07) within
# six months of it, with a systolic pressure above 140 within a month; no current diabetes.
DEFINITION = parse_definition(
    {
        "name": "echantillon",
        "title": "Hypertension traitée",
        "index": {"condition": {"cim10": ["I10"]}},
        "inclusion": [
            {"demographics": {"age_min": 50}},
            {"drug": {"atc": ["C03", "C07"]}, "window": {"start": -180, "end": 180}},
            {
                "measurement": {"loinc": ["8480-6"], "value": {"gt": 140}},
                "window": {"start": -30, "end": 30},
            },
        ],
        "exclusion": [{"condition": {"cim10": ["E11", "E14"], "include_history": False}}],
    }
)


def _concepts(wh: Warehouse, vocabulary: str, codes: tuple[str, ...]) -> pd.Series:
    """Ids of the concepts of ``vocabulary`` whose code starts with one of ``codes`` (dots
    ignored: I10 covers I10.0)."""
    concept = frame(wh, "concept")
    compact = concept["concept_code"].str.replace(".", "", regex=False).str.upper()
    chosen = (concept["vocabulary_id"] == vocabulary) & compact.str.startswith(codes)
    return concept.loc[chosen, "concept_id"]


def _conditions(wh: Warehouse, codes: tuple[str, ...]) -> pd.DataFrame:
    """Conditions coded (source concept, else concept) with a CIM-10 code under ``codes``."""
    rows = frame(wh, "condition_occurrence")
    source = rows["condition_source_concept_id"]
    concept = source.where(source.fillna(0) != 0, rows["condition_concept_id"])
    return rows[concept.isin(_concepts(wh, "CIM10", codes))]


def expected(wh: Warehouse) -> tuple[list[int], set[int], pd.DataFrame]:
    """Attrition, members and person table (with age at index) in plain pandas."""
    person = frame(wh, "person").set_index("person_id")
    hta = _conditions(wh, ("I10",))
    index = hta.groupby("person_id")["condition_start_date"].min().rename("index_date")
    cohort = person.join(index, how="inner")
    birth_md = cohort["month_of_birth"].fillna(1) * 100 + cohort["day_of_birth"].fillna(1)
    index_md = cohort["index_date"].dt.month * 100 + cohort["index_date"].dt.day
    cohort["age"] = (
        cohort["index_date"].dt.year - cohort["year_of_birth"] - (index_md < birth_md).astype(int)
    )

    def within(events: pd.DataFrame, column: str, lo: int, hi: int) -> set[int]:
        x = events.join(index, on="person_id", how="inner")
        offset = (x[column] - x["index_date"]).dt.days
        return set(x.loc[offset.between(lo, hi), "person_id"])

    drugs = frame(wh, "drug_exposure")
    drugs = drugs[drugs["drug_concept_id"].isin(_concepts(wh, "ATC", ("C03", "C07")))]
    measurement = frame(wh, "measurement")
    loinc = frame(wh, "concept").query("vocabulary_id == 'LOINC' and concept_code == '8480-6'")
    systolic = measurement[
        (measurement["measurement_source_value"] == "8480-6")
        | measurement["measurement_concept_id"].isin(loinc["concept_id"])
    ]
    diabetes = _conditions(wh, ("E11", "E14"))
    current = diabetes["condition_status_source_value"].fillna("") != "antecedent"
    steps = [set(cohort.index[cohort["age"] >= 50])]
    steps.append(steps[-1] & within(drugs, "drug_exposure_start_date", -180, 180))
    high = systolic[systolic["value_as_number"] > 140]
    steps.append(steps[-1] & within(high, "measurement_date", -30, 30))
    steps.append(steps[-1] - set(diabetes.loc[current, "person_id"]))
    counts = [len(person), len(cohort), *(len(s) for s in steps)]
    return counts, steps[-1], cohort


def test_attrition_and_members_match_pandas(sample: Warehouse) -> None:
    counts, members, _ = expected(sample)
    result = run_cohort(sample, DEFINITION)
    assert [s.count for s in result.attrition] == counts
    assert counts[1] >= 5 and counts[-1] >= 1  # a real funnel, not an empty one
    assert len(set(counts)) > 3  # the criteria select: several steps lose patients
    assert result.persons == len(members)


def test_characterisation_matches_pandas(sample: Warehouse) -> None:
    _, members, cohort = expected(sample)
    result = run_cohort(sample, DEFINITION).characterisation
    assert result.persons == len(members)
    genders = cohort.loc[sorted(members), "gender_concept_id"]
    assert result.sex == {
        "M": int((genders == 8507).sum()),
        "F": int((genders == 8532).sum()),
        "inconnu": int((~genders.isin([8507, 8532])).sum()),
    }
    assert dict(result.ages) == cohort.loc[sorted(members), "age"].value_counts().to_dict()
    concept = frame(sample, "concept").set_index("concept_id")
    for key, table, prefix in [
        ("conditions", "condition_occurrence", "condition"),
        ("drugs", "drug_exposure", "drug"),
        ("measurements", "measurement", "measurement"),
    ]:
        rows = frame(sample, table)
        rows = rows[rows["person_id"].isin(members)].copy()
        # uncoded rows (concept 0, e.g. a qualitative test no vocabulary names) by source value
        coded = rows[f"{prefix}_concept_id"] != 0
        rows["key"] = (
            rows[f"{prefix}_concept_id"]
            .astype(str)
            .where(coded, "0:" + rows[f"{prefix}_source_value"].astype(str))
        )
        persons = rows.groupby("key")["person_id"].nunique()
        top = result.top[key]
        assert top, key
        assert [i.persons for i in top] == sorted((i.persons for i in top), reverse=True)
        keys = []
        for item in top:
            item_key = str(item.concept_id) if item.concept_id else f"0:{item.name}"
            keys.append(item_key)
            assert item.persons == persons[item_key], (key, item)
            if item.concept_id:
                assert item.code == concept.loc[item.concept_id, "concept_code"]
            if key == "measurements":
                values = rows.loc[rows["key"] == item_key, "value_as_number"].dropna()
                if values.empty:
                    assert item.median_value is None
                else:
                    assert item.median_value == pytest.approx(values.median())
        if len(top) == 10:  # a cut list: nothing left out is more frequent than its last item
            left_out = persons.drop(keys)
            assert left_out.empty or left_out.max() <= top[-1].persons


def test_patient_list_is_audited_and_needs_a_reason(sample_copy: Warehouse) -> None:
    _, members, _ = expected(sample_copy)
    with pytest.raises(ReasonRequiredError, match="motif obligatoire"):
        identified_patients(sample_copy, DEFINITION, reason="court")
    log = schema.audit_log
    with sample_copy.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(log)).scalar()
    rows, entry = identified_patients(
        sample_copy, DEFINITION, reason="Étude HTA, avis CPP 26-001", actor="dr.x"
    )
    identities = frame(sample_copy, "patient", schema="hopia_id").set_index("person_id")
    assert [r["person_id"] for r in rows] == sorted(members)
    assert [r["ipp"] for r in rows] == list(identities.loc[sorted(members), "ipp"])
    assert entry.action == "cohort.patients" and entry.actor == "dr.x"
    assert entry.details["patients"] == len(members) == entry.details["with_identity"]
    with sample_copy.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(log)).scalar() == before + 1
        assert audit.verify(conn).ok

"""Quasi-identifiers and the sensitive attribute of each selected person, from an extract.

- age: whole years between the year of birth and the reference year (years only, so that an age
  band is exactly a set of birth years, which is what the export shows);
- sex: from ``gender_concept_id``;
- postcode: ``omop.location`` zip, state and country of the person's location;
- diagnoses: the distinct (vocabulary, code) of the person's conditions; rare ones (held by
  fewer than k persons) are quasi-identifiers;
- sensitive attribute (l-diversity): the chapter of the main diagnosis (the most frequent
  condition, the earliest on a tie); for vocabularies without chapters (SNOMED, EDS-NLP local
  codes) the main diagnosis itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hopia.data.sharing.extract import Extract
from hopia.data.sharing.hierarchy import CIM10_VOCABULARIES, cim10_chapter_number

MALE, FEMALE = 8507, 8532
NO_DIAGNOSIS = "aucun"


@dataclass(frozen=True)
class Population:
    """``persons``: person_id, age, sex, zip, state, country, sensitive.
    ``diagnoses``: person_id, vocabulary, code (distinct)."""

    persons: pd.DataFrame
    diagnoses: pd.DataFrame
    reference_year: int


def condition_codes(frame: pd.DataFrame, concepts: pd.DataFrame) -> pd.DataFrame:
    """Each condition row with its (vocabulary, code): the concept's, else the source concept's."""
    out = frame[["condition_occurrence_id", "person_id", "condition_start_date"]].copy()
    vocab = pd.Series(None, index=frame.index, dtype=object)
    code = pd.Series(None, index=frame.index, dtype=object)
    for col in ("condition_concept_id", "condition_source_concept_id"):
        ids = frame[col].astype("Int64")
        known = ids.notna() & (ids != 0) & ids.isin(concepts.index) & vocab.isna()
        vocab[known] = concepts.loc[ids[known].astype(int), "vocabulary_id"].to_numpy()
        code[known] = concepts.loc[ids[known].astype(int), "concept_code"].to_numpy()
    out["vocabulary"] = vocab
    out["code"] = code.map(lambda c: c.strip().upper() if isinstance(c, str) else c)
    return out.dropna(subset=["code"])


def _main_diagnosis(codes: pd.DataFrame) -> pd.Series:
    """person_id → sensitive value (chapter of the main diagnosis)."""
    if codes.empty:
        return pd.Series(dtype=object)
    counts = (
        codes.groupby(["person_id", "vocabulary", "code"], as_index=False)
        .agg(rows=("condition_occurrence_id", "size"), first=("condition_start_date", "min"))
        .sort_values(["person_id", "rows", "first", "code"], ascending=[True, False, True, True])
        .drop_duplicates("person_id")
    )

    def chapter(row: pd.Series) -> str:
        if row["vocabulary"] in CIM10_VOCABULARIES:
            number = cim10_chapter_number(row["code"])
            if number:
                return f"CIM-10 chapitre {number}"
        return f"{row['vocabulary']}:{row['code']}"

    return pd.Series(
        counts.apply(chapter, axis=1).to_numpy(), index=counts["person_id"].astype(int)
    )


def population(extract: Extract, reference_year: int) -> Population:
    person = extract.tables["person"]
    persons = pd.DataFrame({"person_id": person["person_id"].astype(int)})
    years = person["year_of_birth"].astype("Int64")
    persons["age"] = (reference_year - years).clip(lower=0)
    gender = person["gender_concept_id"].astype("Int64")
    persons["sex"] = gender.map({MALE: "M", FEMALE: "F"}).fillna("?").astype(object).to_numpy()
    locations = extract.locations.set_index("location_id") if len(extract.locations) else None
    for column in ("zip", "state", "country_source_value"):
        if locations is None:
            persons[column] = None
        else:
            persons[column] = person["location_id"].map(locations[column]).astype(object)
            persons[column] = persons[column].where(persons[column].notna(), None)
    persons = persons.rename(columns={"country_source_value": "country"})
    codes = condition_codes(extract.tables["condition_occurrence"], extract.concepts)
    main = _main_diagnosis(codes)
    persons["sensitive"] = persons["person_id"].map(main).fillna(NO_DIAGNOSIS)
    diagnoses = codes[["person_id", "vocabulary", "code"]].drop_duplicates()
    diagnoses = diagnoses.astype({"person_id": "int64"}).reset_index(drop=True)
    return Population(persons.reset_index(drop=True), diagnoses, reference_year)

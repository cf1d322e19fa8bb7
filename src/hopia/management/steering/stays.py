"""The stays and their main diagnosis, read from the research space (``omop`` schema).

SQLAlchemy Core only, so the same statements run on DuckDB and PostgreSQL. The reads return
tidy pandas frames; every computation happens in :mod:`.indicators`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Connection, and_, func, or_, select

from hopia.platform.warehouse import schema

from .chapters import UNCODED, chapter, is_code

#: Inpatient stays (OMOP visit concepts): "Inpatient Visit" and "Emergency Room and Inpatient
#: Visit" (admitted through the emergency department). Consultations (9202) and emergency
#: visits without admission (9203) are not hospital stays.
INPATIENT_CONCEPTS: tuple[int, ...] = (9201, 262)
#: Vocabularies whose concept codes are CIM-10 / ICD-10 codes (Hopia's local one is "CIM10").
CIM10_VOCABULARIES: tuple[str, ...] = ("CIM10", "ICD10", "ICD10CM", "CIM-10")
#: OMOP condition status concepts that name the main diagnosis (Primary diagnosis, Primary
#: admission diagnosis, Primary discharge diagnosis).
PRIMARY_STATUS: tuple[int, ...] = (32902, 32901, 32903)
READMISSION_DAYS = 30

STAY_COLUMNS = ["visit_occurrence_id", "person_id", "care_site_id", "care_site", "start", "end"]


def read_stays(
    conn: Connection,
    first: date,
    last: date,
    concepts: Sequence[int] = INPATIENT_CONCEPTS,
    lookback_days: int = READMISSION_DAYS,
) -> pd.DataFrame:
    """Stays of the ``concepts`` kinds that touch ``[first - lookback_days, last]``: those
    admitted or discharged in the window, those still present in it, and those discharged in
    the ``lookback_days`` before it (the stays a readmission of the window may follow).

    Columns: :data:`STAY_COLUMNS` (``end`` is missing for a stay without a discharge date)."""
    v, cs = schema.CDM["visit_occurrence"], schema.CDM["care_site"]
    since = first - timedelta(days=lookback_days)
    end = func.coalesce(v.c.visit_end_date, v.c.visit_start_date)
    rows = conn.execute(
        select(
            v.c.visit_occurrence_id,
            v.c.person_id,
            v.c.care_site_id,
            cs.c.care_site_name,
            v.c.visit_start_date,
            v.c.visit_end_date,
        )
        .join(cs, cs.c.care_site_id == v.c.care_site_id, isouter=True)
        .where(
            v.c.visit_concept_id.in_(list(concepts)),
            v.c.visit_start_date.is_not(None),
            v.c.visit_start_date <= last,
            or_(end >= since, v.c.visit_end_date.is_(None)),
        )
        .order_by(v.c.visit_occurrence_id)
    ).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=STAY_COLUMNS)
    frame["start"] = pd.to_datetime(frame["start"])
    frame["end"] = pd.to_datetime(frame["end"])
    frame["care_site_id"] = frame["care_site_id"].astype("Int64")
    return frame


def main_chapters(
    conn: Connection, first: date, last: date, concepts: Sequence[int] = INPATIENT_CONCEPTS
) -> pd.DataFrame:
    """The CIM-10 chapter of each stay admitted in ``[first, last]`` that has a coded
    condition: columns ``visit_occurrence_id, code, chapter``.

    The main diagnosis of a stay: the condition whose status is a primary diagnosis
    (:data:`PRIMARY_STATUS`) when a coded source (PMSI) gave one; else the stay's first
    condition, by date then id, that is not a history (``condition_status_source_value =
    'antecedent'``, as Hopia's NLP writes past conditions). The code is the concept's code in a
    CIM-10 vocabulary, else the source value when it reads as a CIM-10 code."""
    v, co, concept = (
        schema.CDM["visit_occurrence"],
        schema.CDM["condition_occurrence"],
        schema.CDM["concept"],
    )
    stays = (
        select(v.c.visit_occurrence_id)
        .where(
            v.c.visit_concept_id.in_(list(concepts)),
            v.c.visit_start_date >= first,
            v.c.visit_start_date <= last,
        )
        .scalar_subquery()
    )
    rows = conn.execute(
        select(
            co.c.visit_occurrence_id,
            co.c.condition_occurrence_id,
            co.c.condition_start_date,
            co.c.condition_status_concept_id,
            co.c.condition_status_source_value,
            co.c.condition_source_value,
            concept.c.concept_code,
            concept.c.vocabulary_id,
        )
        .join(
            concept,
            and_(
                concept.c.concept_id == co.c.condition_concept_id,
                concept.c.vocabulary_id.in_(list(CIM10_VOCABULARIES)),
            ),
            isouter=True,
        )
        .where(co.c.visit_occurrence_id.in_(stays))
    ).all()
    columns = ["visit_occurrence_id", "id", "day", "status", "status_source", "source", "code_c"]
    frame = pd.DataFrame([tuple(r)[:7] for r in rows], columns=columns)
    if frame.empty:
        return pd.DataFrame(columns=["visit_occurrence_id", "code", "chapter"])
    source_code = frame["source"].where(frame["source"].map(is_code))
    frame["code"] = frame["code_c"].where(frame["code_c"].notna(), source_code)
    frame = frame[frame["code"].notna()].copy()
    frame["primary"] = frame["status"].isin(PRIMARY_STATUS)
    frame["history"] = frame["status_source"].fillna("").str.lower().eq("antecedent")
    frame = frame[frame["primary"] | ~frame["history"]].copy()
    frame["day"] = pd.to_datetime(frame["day"])
    frame = frame.sort_values(
        ["visit_occurrence_id", "primary", "history", "day", "id"],
        ascending=[True, False, True, True, True],
    )
    main = frame.drop_duplicates("visit_occurrence_id")[["visit_occurrence_id", "code"]].copy()
    main["chapter"] = main["code"].map(chapter)
    main = main[main["chapter"] != UNCODED]
    return main.reset_index(drop=True)

"""The whole-state rows of a Spark run: patients (and their ``person``) and visits.

A note, a fact or a mention is written once; a patient's identity and a stay are not: every
document may say more about them (a birth date, a later note of the stay). The local ingest
updates them in the warehouse as it goes. The Spark job cannot update published Parquet, so it
folds, per key, the published state and what this run says about it, in input order, with the
local ingest's rules, and writes the result where it differs from the published state: the
loader upserts it, the latest published run winning (docs/spark.md, "Output").

Pure Python over pandas groups (``applyInPandas``), no Spark here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import pandas as pd

from hopia.data.omop.research_ids import ResearchIds
from hopia.data.omop.writer import PersonRecord, person_row, stay_changes
from hopia.data.records import PatientIdentity

#: The identity's fields (``hopia_id.patient`` less the ids and ``updated_at``).
FIELDS = tuple(PatientIdentity.__dataclass_fields__)
#: Order of the statements about a patient: the published state, the registry, the documents.
PUBLISHED, REGISTRY, DOCUMENT = 0, 1, 2
#: The visit state's columns folded (``care_site_id`` holds the service's name here).
_VISIT_STATE = ("visit_start_date", "visit_end_date", "visit_concept_id", "care_site_id")
#: ``omop.person`` columns a person row sets (:func:`hopia.data.omop.writer.person_row`).
PERSON_COLUMNS = (
    "gender_concept_id",
    "year_of_birth",
    "month_of_birth",
    "race_concept_id",
    "ethnicity_concept_id",
    "gender_source_value",
)


def merge_patients(
    group: pd.DataFrame, research: ResearchIds, now: datetime
) -> Iterable[dict[str, Any]]:
    """One IPP's statements (columns ``ipp``, ``_order``, ``_seq`` and :data:`FIELDS`) folded
    as :meth:`hopia.data.ingest.identities.Identities.upsert` does: the registry's line, then
    each document's, each field it states overriding the one known (an IPP alone says nothing
    new). Yields the patient's row when this run created or changed it, with its ``person``
    columns and whether the person row changed (birth date or sex)."""
    rows = sorted(group.to_dict("records"), key=lambda r: (r["_order"], r["_seq"]))
    ipp = rows[0]["ipp"]
    before: dict[str, Any] | None = None
    state: dict[str, Any] | None = None
    for r in rows:
        values = {k: _value(r.get(k)) for k in FIELDS if k != "ipp"}
        values["birth_date"] = _day(values["birth_date"])
        if r["_order"] == PUBLISHED:
            before = dict(values)
            state = dict(values)
            continue
        if state is None:
            state = dict(values)
        else:
            state.update({k: v for k, v in values.items() if v is not None})
    assert state is not None
    if before is not None and state == before:
        return
    changed_person = before is None or (state["birth_date"], state["sex"]) != (
        before["birth_date"],
        before["sex"],
    )
    row: dict[str, Any] = {
        "patient_id": None,
        "person_id": None,
        "ipp": ipp,
        **state,
        "updated_at": now,
        "person_source_value": research.person(ipp),
        "_write_person": bool(changed_person and state["birth_date"] is not None),
    }
    person = {k: None for k in PERSON_COLUMNS}
    if state["birth_date"] is not None:
        record = PersonRecord(
            person_id=0,
            research_id=research.person(ipp),
            birth_date=research.shift(state["birth_date"], ipp),
            sex=state["sex"],
        )
        person = {k: v for k, v in person_row(record).items() if k in PERSON_COLUMNS}
    yield row | person


def merge_visits(group: pd.DataFrame) -> Iterable[dict[str, Any]]:
    """One visit's statements (a person and a ``visit_key``: the published row, ``_order`` 0,
    then each note of this run in input order) folded as
    :meth:`hopia.data.omop.writer.OmopWriter.write_notes` does: a stay takes its first note's
    dates, concept and service, and each further note widens it
    (:func:`~hopia.data.omop.writer.stay_changes`); a per-day visit is its first note's. Yields
    the visit's row when this run created or changed it."""
    rows = sorted(group.to_dict("records"), key=lambda r: (r["_order"], r["_seq"]))
    first = rows[0]
    before: dict[str, Any] | None = None
    state: dict[str, Any] | None = None
    stay = str(first["visit_key"]).startswith("stay:")
    for r in rows:
        values = {k: _value(r.get(k)) for k in _VISIT_STATE}
        values["visit_start_date"] = _day(values["visit_start_date"])
        values["visit_end_date"] = _day(values["visit_end_date"])
        if r["_order"] == PUBLISHED:
            before, state = dict(values), dict(values)
        elif state is None:
            state = dict(values)
        elif stay:
            start, end = values["visit_start_date"], values["visit_end_date"]
            changes = stay_changes(
                state, start, end, values["visit_concept_id"], values["care_site_id"]
            )
            state.update(changes)
    assert state is not None
    if before is not None and state == before:
        return
    site = state["care_site_id"]
    yield {
        "visit_occurrence_id": None,
        "person_id": None,
        "visit_concept_id": state["visit_concept_id"],
        "visit_start_date": state["visit_start_date"],
        "visit_end_date": state["visit_end_date"],
        "visit_type_concept_id": first["visit_type_concept_id"],
        "visit_source_value": first["visit_source_value"],
        "care_site_id": None,
        "person_source_value": first["person_source_value"],
        "visit_key": first["visit_key"],
        "care_site_source_value": None if site is None else site[:50],
        "care_site_name": site,
        "month": state["visit_start_date"].strftime("%Y-%m"),
    }


def _value(v: Any) -> Any:
    """A pandas cell as a plain value: None for missing, a date for a timestamp, an int for a
    numpy integer."""
    if v is None:
        return None
    if isinstance(v, float) and v != v:
        return None
    if v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.date()
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if hasattr(v, "item"):
        return v.item()
    return v


def _day(v: Any) -> date | None:
    """A date given as a date or an ISO string (a JSON statement's)."""
    if v is None or isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])

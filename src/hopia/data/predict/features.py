"""Features from the OMOP warehouse: one row per index stay, nothing dated after its cutoff.

An index stay is a run of inpatient visits of one person that overlap or follow each other
within ``gap_days`` (the ingest makes one visit per stay when the source gives a stay number,
else one per document day, so a stay can then span several visits). Each stay gets a *cutoff*
date: its discharge for outcomes predicted at discharge (30-day readmission), its admission for
outcomes predicted at admission (long stay). Every feature is computed from rows dated on or
before that cutoff; later rows are ignored. This is what keeps a diagnosis coded at the
readmission out of the features of the stay before it.

Feature families (column prefixes):

- ``age``, ``sex_female``, ``los_days`` (discharge cutoff only), ``prior_visits_365d``,
  ``prior_stays_365d``, ``days_since_last_discharge``;
- ``cim_<category>`` / ``chap_<roman>``: CIM-10 categories and chapters of recorded conditions,
  ``nlp_cim_<category>`` / ``nlp_chap_<roman>``: the same for conditions derived from notes
  (``condition_type_concept_id`` = the NLP type concept), kept apart so that a model card shows
  what the text adds; conditions outside CIM-10 become ``cond_<vocabulary>_<code>``;
- ``atc2_<code>``, ``atc3_<code>``: drug classes (ATC levels 2 and 3) in the look-back window;
  other drug vocabularies become ``drug_<vocabulary>_<code>``;
- ``lab_<key>``: last numeric value of each analyte in the look-back window, keyed by its
  concept (``<vocabulary>_<code>``) or, without one, by ``measurement_source_value``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, select

from hopia.data.omop.concepts import ER_AND_INPATIENT_VISIT, FEMALE, INPATIENT_VISIT, MALE, NLP
from hopia.platform.warehouse import Warehouse, schema

# OMOP "Emergency Room and Inpatient Visit": an admission through the ER is one stay.
INPATIENT_CONCEPTS = (INPATIENT_VISIT, ER_AND_INPATIENT_VISIT)
ICD10_VOCABULARIES = {"CIM10", "ICD10", "ICD10CM"}
META_COLUMNS = ["stay_id", "person_id", "admission_date", "discharge_date", "index_date", "sex"]

# CIM-10 chapters by their first category (the chapter runs up to the next one).
_CHAPTERS = [
    ("A00", "I"), ("C00", "II"), ("D50", "III"), ("E00", "IV"), ("F00", "V"), ("G00", "VI"),
    ("H00", "VII"), ("H60", "VIII"), ("I00", "IX"), ("J00", "X"), ("K00", "XI"), ("L00", "XII"),
    ("M00", "XIII"), ("N00", "XIV"), ("O00", "XV"), ("P00", "XVI"), ("Q00", "XVII"),
    ("R00", "XVIII"), ("S00", "XIX"), ("U00", "XXII"), ("V01", "XX"), ("Z00", "XXI"),
]  # fmt: skip
_CHAPTER_STARTS = [start for start, _ in _CHAPTERS]


def cim10_chapter(category: str) -> str | None:
    """Roman numeral of the CIM-10 chapter of a category such as ``I50`` (None if not CIM-10)."""
    if not re.fullmatch(r"[A-Z][0-9][0-9A-Z]", category):
        return None
    i = int(np.searchsorted(_CHAPTER_STARTS, category, side="right")) - 1
    return _CHAPTERS[i][1] if i >= 0 else None


def safe_name(value: object) -> str:
    """Column-name form of a code: ASCII letters, digits and underscores (LightGBM-safe)."""
    return re.sub(r"[^0-9A-Za-z]+", "_", str(value)).strip("_") or "x"


@dataclass(frozen=True)
class WarehouseEvents:
    """The warehouse rows features are built from, as tidy frames with ``date`` columns."""

    persons: pd.DataFrame  # person_id, year_of_birth, month_of_birth, sex
    visits: pd.DataFrame  # visit_occurrence_id, person_id, visit_concept_id, start, end
    conditions: pd.DataFrame  # person_id, date, vocabulary, code, nlp
    drugs: pd.DataFrame  # person_id, date, vocabulary, code
    measurements: pd.DataFrame  # person_id, date, key, value
    deaths: pd.DataFrame  # person_id, death_date

    @property
    def observation_end(self) -> pd.Timestamp | None:
        """Last date the warehouse has a visit for: outcomes after it cannot be observed."""
        if self.visits.empty:
            return None
        return max(self.visits["start"].max(), self.visits["end"].max())


def read_events(wh: Warehouse) -> WarehouseEvents:
    """Read the columns features need (research space ``omop`` only, no identities)."""
    cdm = schema.CDM
    with wh.engine.connect() as conn:
        p = cdm["person"]
        persons = _read(conn, select(p.c.person_id, p.c.year_of_birth, p.c.month_of_birth,
                                     p.c.gender_concept_id))  # fmt: skip
        v = cdm["visit_occurrence"]
        visits = _read(conn, select(
            v.c.visit_occurrence_id, v.c.person_id, v.c.visit_concept_id,
            v.c.visit_start_date.label("start"), v.c.visit_end_date.label("end"),
        ))  # fmt: skip
        c = cdm["condition_occurrence"]
        conditions = _read(conn, _coded(
            c.c.person_id, c.c.condition_start_date, c.c.condition_concept_id,
            c.c.condition_type_concept_id.label("type_concept_id"),
        ))  # fmt: skip
        d = cdm["drug_exposure"]
        drugs = _read(conn, _coded(d.c.person_id, d.c.drug_exposure_start_date,
                                   d.c.drug_concept_id))  # fmt: skip
        m = cdm["measurement"]
        measurements = _read(conn, _coded(
            m.c.person_id, m.c.measurement_date, m.c.measurement_concept_id,
            m.c.measurement_source_value.label("source_value"),
            m.c.value_as_number.label("value"),
        ).where(m.c.value_as_number.is_not(None)))  # fmt: skip
        dt = cdm["death"]
        deaths = _read(conn, select(dt.c.person_id, dt.c.death_date))
    persons["sex"] = persons.pop("gender_concept_id").map({FEMALE: "F", MALE: "M"}).fillna("?")
    for frame, columns in ((visits, ["start", "end"]), (deaths, ["death_date"])):
        for col in columns:
            frame[col] = pd.to_datetime(frame[col])
    visits["end"] = visits["end"].fillna(visits["start"])
    conditions["nlp"] = conditions.pop("type_concept_id").eq(NLP)
    measurements["key"] = _measurement_keys(measurements)
    return WarehouseEvents(
        persons=persons,
        visits=visits,
        conditions=conditions,
        drugs=drugs,
        measurements=measurements[["person_id", "date", "key", "value"]],
        deaths=deaths,
    )


def _coded(person_id, when, concept_id, *extra):  # noqa: ANN001, ANN202 - SQLAlchemy columns
    """A clinical table's rows with the vocabulary and code of their concept (if known)."""
    concept = schema.CDM["concept"]
    return select(
        person_id,
        when.label("date"),
        concept_id.label("concept_id"),
        concept.c.vocabulary_id.label("vocabulary"),
        concept.c.concept_code.label("code"),
        *extra,
    ).select_from(
        when.table.outerjoin(concept, and_(concept.c.concept_id == concept_id, concept_id != 0))
    )


def _read(conn: Connection, query) -> pd.DataFrame:  # noqa: ANN001 - a SQLAlchemy Select
    frame = pd.DataFrame(conn.execute(query).mappings().all())
    if frame.empty:
        frame = pd.DataFrame(columns=[c.name for c in query.selected_columns])
    if "date" in frame:
        frame["date"] = pd.to_datetime(frame["date"])
    return frame


def _measurement_keys(m: pd.DataFrame) -> pd.Series:
    coded = m["vocabulary"].notna() & m["code"].notna()
    by_concept = m["vocabulary"].astype("string") + "_" + m["code"].astype("string")
    by_source = m["source_value"].astype("string").fillna("c" + m["concept_id"].astype("string"))
    return by_concept.where(coded, by_source).map(safe_name)


def build_stays(
    visits: pd.DataFrame, *, gap_days: int = 1, visit_concepts: tuple[int, ...] = INPATIENT_CONCEPTS
) -> pd.DataFrame:
    """Merge a person's inpatient visits that overlap or are ``gap_days`` apart into stays.

    Returns one row per stay: ``stay_id`` (its first visit), ``person_id``, ``admission_date``,
    ``discharge_date``, ``los_days``, ``n_visits``.
    """
    v = visits[visits["visit_concept_id"].isin(visit_concepts)]
    v = v.sort_values(["person_id", "start", "end", "visit_occurrence_id"])
    if v.empty:
        return pd.DataFrame(
            columns=["stay_id", "person_id", "admission_date", "discharge_date", "los_days",
                     "n_visits"]
        )  # fmt: skip
    reach = v.groupby("person_id")["end"].cummax() + pd.Timedelta(days=gap_days)
    previous_reach = reach.groupby(v["person_id"]).shift()
    new_stay = previous_reach.isna() | (v["start"] > previous_reach)
    stay_no = new_stay.cumsum()
    stays = v.groupby(stay_no).agg(
        stay_id=("visit_occurrence_id", "first"),
        person_id=("person_id", "first"),
        admission_date=("start", "min"),
        discharge_date=("end", "max"),
        n_visits=("visit_occurrence_id", "size"),
    )
    stays["los_days"] = (stays["discharge_date"] - stays["admission_date"]).dt.days
    return stays.reset_index(drop=True)


def build_features(
    events: WarehouseEvents,
    stays: pd.DataFrame,
    *,
    cutoff: str = "discharge",
    lookback_days: int = 365,
) -> pd.DataFrame:
    """One row per stay: the ``META_COLUMNS`` then the features (see the module docstring).

    ``cutoff`` is ``"discharge"`` or ``"admission"``: no row dated after it is used.
    """
    if cutoff not in ("discharge", "admission"):
        raise ValueError(f"cutoff must be 'discharge' or 'admission', not {cutoff!r}")
    if stays.empty:
        return pd.DataFrame(columns=META_COLUMNS)
    base = stays[["stay_id", "person_id", "admission_date", "discharge_date"]].copy()
    base["index_date"] = base[f"{cutoff}_date"]
    base = base.merge(events.persons, on="person_id", how="left")
    base["sex"] = base["sex"].fillna("?")
    age = base["admission_date"].dt.year - base["year_of_birth"]
    born_later = base["month_of_birth"].fillna(1) > base["admission_date"].dt.month
    features = pd.DataFrame(index=base.index)
    features["age"] = (age - born_later.astype(int)).astype(float)
    features["sex_female"] = (base["sex"] == "F").astype(float)
    if cutoff == "discharge":
        features["los_days"] = stays["los_days"].astype(float).to_numpy()
    features = features.join(_history(events.visits, stays, base))
    window = pd.Timedelta(days=lookback_days)
    features = features.join(_condition_flags(events.conditions, base))
    features = features.join(_drug_flags(events.drugs, base, window))
    features = features.join(_last_labs(events.measurements, base, window))
    meta = base[META_COLUMNS]
    features = features.fillna(_flag_fill(features)).astype(np.float32)  # half of float64
    return pd.concat([meta, features], axis=1)


def _flag_fill(features: pd.DataFrame) -> dict[str, float]:
    # Absent code = 0; absent lab or history = missing (NaN), which the models handle.
    return {c: 0.0 for c in features.columns if not c.startswith(("lab_", "days_since"))}


def _history(visits: pd.DataFrame, stays: pd.DataFrame, base: pd.DataFrame) -> pd.DataFrame:
    """Visits and stays in the 365 days before admission (starting strictly before it)."""
    year = pd.Timedelta(days=365)
    row = base[["person_id", "admission_date"]].reset_index(names="row")
    prior = row.merge(visits[["person_id", "start"]], on="person_id")
    prior = prior[(prior["start"] < prior["admission_date"])
                  & (prior["start"] >= prior["admission_date"] - year)]  # fmt: skip
    out = pd.DataFrame(index=base.index)
    out["prior_visits_365d"] = prior.groupby("row").size()
    earlier = row.merge(stays[["person_id", "discharge_date"]], on="person_id")
    earlier = earlier[earlier["discharge_date"] < earlier["admission_date"]]
    recent = earlier[earlier["discharge_date"] >= earlier["admission_date"] - year]
    out["prior_stays_365d"] = recent.groupby("row").size()
    last = earlier.groupby("row")["discharge_date"].max()
    out["days_since_last_discharge"] = (
        base.loc[last.index, "admission_date"] - last
    ).dt.days.astype(float)
    return out


def _in_window(events: pd.DataFrame, base: pd.DataFrame, window: pd.Timedelta | None):  # noqa: ANN202
    """Events joined to the stays of their person, dated on or before the stay's cutoff."""
    row = base[["person_id", "index_date"]].reset_index(names="row")
    joined = row.merge(events, on="person_id")
    keep = joined["date"] <= joined["index_date"]
    if window is not None:
        keep &= joined["date"] >= joined["index_date"] - window
    return joined[keep]


def _flags(rows: pd.DataFrame, key: pd.Series, index: pd.Index) -> pd.DataFrame:
    if rows.empty:
        return pd.DataFrame(index=index)
    pairs = pd.DataFrame({"row": rows["row"].to_numpy(), "key": key.to_numpy()}).dropna()
    pairs = pairs.drop_duplicates()
    wide = pd.crosstab(pairs["row"], pairs["key"]).clip(upper=1).astype(float)
    wide.columns.name = None
    return wide.reindex(index)


def _condition_flags(conditions: pd.DataFrame, base: pd.DataFrame) -> pd.DataFrame:
    rows = _in_window(conditions, base, None)  # a diagnosis stays true: no look-back limit
    is_icd = rows["vocabulary"].isin(ICD10_VOCABULARIES)
    category = rows["code"].astype("string").str.replace(".", "", regex=False).str[:3]
    category = category.str.upper().where(is_icd)
    chapter = category.map(lambda c: cim10_chapter(c) if isinstance(c, str) else None)
    other = "cond_" + rows["vocabulary"].astype("string") + "_" + rows["code"].astype("string")
    prefix = rows["nlp"].map({True: "nlp_", False: ""})
    keys = pd.concat(
        [
            prefix + ("cim_" + category).where(is_icd, other.map(safe_name, na_action="ignore")),
            prefix + ("chap_" + chapter.astype("string")),
        ]
    )
    both = pd.concat([rows, rows])
    return _flags(both, keys, base.index)


def _drug_flags(drugs: pd.DataFrame, base: pd.DataFrame, window: pd.Timedelta) -> pd.DataFrame:
    rows = _in_window(drugs, base, window)
    code = rows["code"].astype("string").str.upper()
    is_atc = rows["vocabulary"].eq("ATC")
    other = ("drug_" + rows["vocabulary"].astype("string") + "_" + code).map(
        safe_name, na_action="ignore"
    )
    keys = pd.concat(
        [("atc2_" + code.str[:3]).where(is_atc, other), ("atc3_" + code.str[:4]).where(is_atc)]
    )
    return _flags(pd.concat([rows, rows]), keys, base.index)


def _last_labs(m: pd.DataFrame, base: pd.DataFrame, window: pd.Timedelta) -> pd.DataFrame:
    rows = _in_window(m, base, window)
    if rows.empty:
        return pd.DataFrame(index=base.index)
    last = rows.sort_values("date").groupby(["row", "key"])["value"].last()
    wide = last.unstack("key").astype(float)
    wide.columns = ["lab_" + str(c) for c in wide.columns]
    return wide.reindex(base.index)


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """The feature columns of a frame built by :func:`build_features` (meta and target excluded)."""
    return [c for c in frame.columns if c not in META_COLUMNS and c != "label"]

"""Synthetic inpatient activity: stays, main diagnoses and persons of a hospital's services over
a period, in the research space (``omop``) only: no identity, no document.

What the steering, forecast and bed dashboards read (``visit_occurrence``,
``condition_occurrence``, ``care_site``), at a volume a handful of documented patients cannot
give. Each service admits a Poisson number of patients a day (x1.2 on weekdays, x0.5 at
weekends, +-20 % over the year, highest mid-January); lengths of stay are gamma distributed
(shape 1.5) around the service's mean; 8 % of stays are followed by a readmission within 45
days; 30 % of stays come through the emergency department (OMOP visit 262); a few hundred
consultations (9202) are added, which the dashboards must not count. 95 % of stays have a main
diagnosis (NLP-style conditions, a third of them with a history written first). Deterministic
for a seed.

>>> from datetime import date
>>> spec = Activity({1: Service("Cardiologie", 4.0, 6.0)}, date(2024, 1, 1), date(2024, 12, 31))
>>> tables = frames(spec)
>>> sorted(k for k in tables if not k.startswith("_"))
['care_site', 'concept', 'condition_occurrence', 'person', 'visit_occurrence']

:func:`add` writes it into an existing warehouse: ids above the given offsets
(:func:`free_offsets`), the warehouse's CIM-10 concepts reused, its care sites kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, select

from hopia.data.omop import concepts as omop_concepts
from hopia.platform.warehouse import Warehouse, schema

LOCAL = omop_concepts.LOCAL_CONCEPT_START
INPATIENT = omop_concepts.INPATIENT_VISIT
ER_INPATIENT = omop_concepts.ER_AND_INPATIENT_VISIT
OUTPATIENT = omop_concepts.OUTPATIENT_VISIT
CODES: tuple[str, ...] = (
    "I50.9",
    "J44.1",
    "N39.0",
    "C34.9",
    "K80.2",
    "E11.9",
    "S72.0",
    "R07.4",
    "Z49.1",
)
"""The main diagnoses drawn for a service that lists none of its own."""


@dataclass(frozen=True)
class Service:
    """A care site's activity: ``admissions`` a day on average, ``mean_los`` days of stay,
    ``codes`` its main diagnoses (CIM-10; empty: :attr:`Activity.codes`)."""

    name: str
    admissions: float
    mean_los: float
    codes: tuple[str, ...] = ()


#: A CHU's wards, by a word of their name (accents and case aside): admissions a day, mean
#: length of stay, main diagnoses. About 200 beds in all; the emergency department admits
#: into the wards and has none of its own (``None``).
PROFILES: dict[str, Service | None] = {
    "cardio": Service("Cardiologie", 6.0, 5.5, ("I50.9", "I21.4", "I48.9", "I20.0", "R07.4")),
    "pneumo": Service("Pneumologie", 4.0, 7.5, ("J44.1", "J18.9", "C34.9", "J96.0", "J84.1")),
    "onco": Service("Oncologie", 5.0, 6.0, ("C34.9", "C18.9", "C50.9", "C61", "C25.9")),
    "geriatr": Service("Gériatrie", 4.0, 11.0, ("S72.0", "J18.9", "N39.0", "F03", "R26.8")),
    "chirurgie": Service("Chirurgie", 7.0, 4.5, ("K80.2", "K35.8", "K56.6", "C18.9", "K57.3")),
    "nephro": Service("Néphrologie", 3.0, 6.5, ("N18.5", "N17.9", "Z49.1", "E87.5")),
    "endocrino": Service("Endocrinologie", 3.0, 4.0, ("E11.9", "E10.1", "E87.1", "E66.9")),
    "urgence": None,
}
DEFAULT_PROFILE = Service("Service", 4.0, 6.0)


def profile(name: str) -> Service | None:
    """The activity of a ward called ``name`` (:data:`PROFILES`, else
    :data:`DEFAULT_PROFILE`), under that name; ``None`` for an emergency department."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    for word, found in PROFILES.items():
        if word in plain:
            return None if found is None else replace(found, name=name)
    return replace(DEFAULT_PROFILE, name=name)


@dataclass(frozen=True)
class Activity:
    """What to generate: ``sites`` (``care_site_id`` -> :class:`Service`), admissions from
    ``first`` to ``last`` (stays still present on ``last`` end on it, as ingest writes them),
    ``persons`` patients with ids ``person_offset + 1 ...`` (visits and conditions likewise
    above their offsets), ``consultations`` outpatient visits. ``source``: when set,
    ``person_source_value`` and ``visit_source_value`` read ``<source>-<id>``, which tells
    these rows from the others of a warehouse."""

    sites: Mapping[int, Service]
    first: date
    last: date
    seed: int = 7
    persons: int = 1500
    person_offset: int = 0
    visit_offset: int = 0
    condition_offset: int = 0
    codes: tuple[str, ...] = CODES
    consultations: int = 300
    source: str | None = None


def frames(
    spec: Activity, known: Mapping[str, int] | None = None, next_concept: int = LOCAL
) -> dict[str, pd.DataFrame]:
    """The tables of ``spec``: ``care_site``, ``concept`` (the codes not in ``known``, a CIM-10
    code -> ``concept_id`` map, numbered from ``next_concept``), ``visit_occurrence``,
    ``condition_occurrence``, ``person``, and ``_main`` (each coded stay's main code: what the
    steering indicators should find)."""
    rng = np.random.default_rng(spec.seed)
    days = pd.date_range(spec.first, spec.last, freq="D")
    rows = []
    for site, service in spec.sites.items():
        weekday = np.where(days.dayofweek < 5, 1.2, 0.5)
        season = 1 + 0.2 * np.cos(2 * np.pi * (days.dayofyear - 15) / 365.25)
        counts = rng.poisson(service.admissions * weekday * season)
        for day, n in zip(days, counts, strict=True):
            for _ in range(n):
                los = int(rng.gamma(1.5, service.mean_los / 1.5))
                rows.append((site, day, day + pd.Timedelta(days=los)))
    visits = pd.DataFrame(rows, columns=["care_site_id", "visit_start_date", "visit_end_date"])
    visits = visits.sort_values(["visit_start_date", "care_site_id"]).reset_index(drop=True)
    visits["person_id"] = rng.integers(1, spec.persons + 1, len(visits)) + spec.person_offset
    # Readmissions: some stays are followed by another of the same person soon after.
    again = visits.sample(frac=0.08, random_state=spec.seed).copy()
    again["visit_start_date"] = again["visit_end_date"] + pd.to_timedelta(
        rng.integers(0, 45, len(again)), unit="D"
    )
    again["visit_end_date"] = again["visit_start_date"] + pd.to_timedelta(
        rng.integers(0, 10, len(again)), unit="D"
    )
    last = pd.Timestamp(spec.last)
    visits = pd.concat([visits, again], ignore_index=True)
    visits = visits[visits["visit_start_date"] <= last].reset_index(drop=True)
    visits["visit_occurrence_id"] = np.arange(1, len(visits) + 1) + spec.visit_offset
    visits["visit_concept_id"] = np.where(rng.random(len(visits)) < 0.3, ER_INPATIENT, INPATIENT)
    visits["visit_type_concept_id"] = omop_concepts.EHR
    # The CDM requires a discharge date: a stay still present at the end of the data ends
    # on its last day, as ingest writes it.
    visits["visit_end_date"] = visits["visit_end_date"].clip(upper=last)
    # Consultations: never counted.
    n_consult = min(spec.consultations, len(visits))
    consult = visits.sample(n=n_consult, random_state=1).copy()
    consult["visit_occurrence_id"] = np.arange(len(visits) + 1, len(visits) + n_consult + 1)
    consult["visit_occurrence_id"] += spec.visit_offset
    consult["visit_concept_id"] = OUTPATIENT
    consult["visit_end_date"] = consult["visit_start_date"]
    visits = pd.concat([visits, consult], ignore_index=True)
    for col in ("visit_start_date", "visit_end_date"):
        visits[col] = visits[col].dt.date.astype(object).where(visits[col].notna(), None)
    if spec.source is not None:
        visits["visit_source_value"] = [f"{spec.source}-{i}" for i in visits["visit_occurrence_id"]]

    # Conditions: the main one for 95 % of stays; a third of those also have a history
    # (written first, dated first: it must not be taken for the main diagnosis).
    stays = visits[visits["visit_concept_id"] != OUTPATIENT]
    coded = stays[rng.random(len(stays)) > 0.05]
    codes = list(spec.codes)
    if any(s.codes for s in spec.sites.values()):
        codes += sorted({c for s in spec.sites.values() for c in s.codes} - set(codes))
        u = rng.random(len(coded))
        main = np.empty(len(coded), dtype=np.int64)
        for site, service in spec.sites.items():
            own = [codes.index(c) for c in service.codes or spec.codes]
            at = (coded["care_site_id"] == site).to_numpy()
            main[at] = np.array(own)[(u[at] * len(own)).astype(np.int64)]
    else:
        main = rng.integers(0, len(codes), len(coded))
    with_history = coded[rng.random(len(coded)) < 1 / 3]
    hist = (main[coded.index.get_indexer(with_history.index)] + 1) % len(codes)
    new = [c for c in codes if c not in (known or {})]
    ids = {**(known or {}), **{c: next_concept + i for i, c in enumerate(new)}}
    concept_of = np.array([ids[c] for c in codes], dtype=np.int64)
    concepts = pd.DataFrame(
        {
            "concept_id": np.array([ids[c] for c in new], dtype=np.int64),
            "concept_name": new,
            "domain_id": "Condition",
            "vocabulary_id": "CIM10",
            "concept_class_id": "Code",
            "concept_code": new,
            "valid_start_date": date(2000, 1, 1),
            "valid_end_date": date(2099, 12, 31),
        }
    )
    n, h = len(coded), len(with_history)
    conditions = pd.DataFrame(
        {
            "condition_occurrence_id": np.arange(1, h + n + 1) + spec.condition_offset,
            "person_id": np.concatenate([with_history["person_id"], coded["person_id"]]),
            "visit_occurrence_id": np.concatenate(
                [with_history["visit_occurrence_id"], coded["visit_occurrence_id"]]
            ),
            "condition_concept_id": np.concatenate([concept_of[hist], concept_of[main]]),
            "condition_source_concept_id": np.concatenate([concept_of[hist], concept_of[main]]),
            "condition_start_date": np.concatenate(
                [with_history["visit_start_date"], coded["visit_start_date"]]
            ),
            "condition_type_concept_id": omop_concepts.NLP,
            "condition_source_value": "mention",
            "condition_status_source_value": ["antecedent"] * h + [None] * n,
        }
    )
    sites = pd.DataFrame(
        {
            "care_site_id": list(spec.sites),
            "care_site_name": [s.name for s in spec.sites.values()],
        }
    )
    main_codes = pd.DataFrame(
        {
            "visit_occurrence_id": coded["visit_occurrence_id"].to_numpy(),
            "code": np.array(codes)[main],
        }
    )
    return {
        "care_site": sites,
        "concept": concepts,
        "visit_occurrence": visits,
        "condition_occurrence": conditions,
        "person": _persons(spec, visits["person_id"]),
        "_main": main_codes,
    }


def _persons(spec: Activity, used: pd.Series) -> pd.DataFrame:
    """Sex and year of birth of the persons with a visit (``used``; a generator of their own:
    the stays do not move when persons change); adults, older on average, as in a CHU's
    wards."""
    rng = np.random.default_rng([spec.seed, 1])
    ids = np.arange(1, spec.persons + 1) + spec.person_offset
    male = rng.random(spec.persons) < 0.5
    age = np.clip(rng.normal(64, 18, spec.persons), 18, 100).astype(np.int64)
    frame = pd.DataFrame(
        {
            "person_id": ids,
            "gender_concept_id": np.where(male, omop_concepts.MALE, omop_concepts.FEMALE),
            "year_of_birth": spec.last.year - age,
            "race_concept_id": 0,
            "ethnicity_concept_id": 0,
            "gender_source_value": np.where(male, "M", "F"),
        }
    )
    if spec.source is not None:
        frame["person_source_value"] = [f"{spec.source}-{i}" for i in ids]
    return frame[frame["person_id"].isin(used)].reset_index(drop=True)


def fill(wh: Warehouse, data: Mapping[str, pd.DataFrame]) -> None:
    """Insert the tables of :func:`frames` (not the ``_``-prefixed ones) in one transaction."""
    with wh.begin() as conn:
        for name, frame in data.items():
            if not name.startswith("_"):
                wh.insert_frame(conn, schema.CDM[name], frame)


@dataclass(frozen=True)
class Offsets:
    """The largest ids in use: new rows go above them."""

    person: int
    visit: int
    condition: int


def free_offsets(conn: Connection) -> Offsets:
    """The largest ``person_id``, ``visit_occurrence_id`` and ``condition_occurrence_id`` of
    the warehouse (0 when empty)."""

    def top(table: str, column: str) -> int:
        t = schema.CDM[table]
        return int(conn.execute(select(func.max(t.c[column]))).scalar() or 0)

    return Offsets(
        top("person", "person_id"),
        top("visit_occurrence", "visit_occurrence_id"),
        top("condition_occurrence", "condition_occurrence_id"),
    )


def add(wh: Warehouse, spec: Activity) -> dict[str, int]:
    """Write ``spec`` into ``wh`` in one transaction: its CIM-10 concepts where the warehouse
    has the codes (else new local concepts above the largest ``concept_id``), care sites only
    those missing. The ids must be free: take ``spec``'s offsets from :func:`free_offsets`.
    Returns the rows written per table."""
    concept = schema.CDM["concept"]
    codes = sorted({*spec.codes, *(c for s in spec.sites.values() for c in s.codes)})
    with wh.begin() as conn:
        known: dict[str, int] = {}
        for code, cid in conn.execute(
            select(concept.c.concept_code, func.min(concept.c.concept_id))
            .where(concept.c.vocabulary_id == "CIM10", concept.c.concept_code.in_(codes))
            .group_by(concept.c.concept_code)
        ):
            known[str(code)] = int(cid)
        top = conn.execute(select(func.max(concept.c.concept_id))).scalar()
        tables = frames(spec, known, max(int(top or 0) + 1, LOCAL))
        tables["concept"]["concept_name"] = [
            _label(code) for code in tables["concept"]["concept_code"]
        ]
        cs = schema.CDM["care_site"]
        present = set(conn.execute(select(cs.c.care_site_id)).scalars())
        tables["care_site"] = tables["care_site"][
            ~tables["care_site"]["care_site_id"].isin(present)
        ]
        written = {}
        for name, frame in tables.items():
            if not name.startswith("_") and len(frame):
                wh.insert_frame(conn, schema.CDM[name], frame)
                written[name] = len(frame)
    return written


def _label(code: str) -> str:
    try:
        return omop_concepts.concept_name("CIM10", code)
    except (ImportError, OSError):  # EDS-NLP's terminology absent: the code names itself
        return code

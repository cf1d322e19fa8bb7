"""Turn an extract and its anonymisation plan into the tables that leave: fresh ids, generalised
quasi-identifiers, an allow-list of columns per table.

Columns not allowed below are emptied, never guessed at: provider and care-site links, free
text (``*_source_value`` other than a terminology code, ``sig``, ``value_as_string``,
``stop_reason``, ``lot_number``), times (dates are kept, already shifted per patient by
pseudonymisation), race and ethnicity (extra quasi-identifiers, not collected in France).

Identifiers: ``person_id`` is a keyed hash (HMAC-SHA256 under a key derived from the platform
secret and a random per-export salt, kept in the audit log): nobody holding the export alone can
join it back to the warehouse, and the research space can re-derive the map. Every other id is
a sequential number local to the export.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from hopia.data.sharing.anonymity import AnonymisationPlan, Diagnosis
from hopia.data.sharing.extract import Extract
from hopia.data.sharing.note_dates import Coarsened, coarsen
from hopia.data.sharing.quasi import FEMALE, MALE, condition_codes
from hopia.platform.exceptions import SharingError
from hopia.platform.warehouse import schema

# Columns kept per table (besides the ids remapped below). Source values are rebuilt from the
# concept codes; everything else is emptied.
KEEP = {
    "person": {"gender_concept_id", "year_of_birth", "location_id", "gender_source_value"},
    "visit_occurrence": {
        "visit_concept_id",
        "visit_start_date",
        "visit_end_date",
        "visit_type_concept_id",
        "care_site_id",
        "visit_source_concept_id",
        "admitted_from_concept_id",
        "discharged_to_concept_id",
        "preceding_visit_occurrence_id",
    },
    "condition_occurrence": {
        "condition_concept_id",
        "condition_start_date",
        "condition_end_date",
        "condition_type_concept_id",
        "condition_status_concept_id",
        "condition_source_concept_id",
        "condition_source_value",
        "condition_status_source_value",
    },
    "drug_exposure": {
        "drug_concept_id",
        "drug_exposure_start_date",
        "drug_exposure_end_date",
        "verbatim_end_date",
        "drug_type_concept_id",
        "refills",
        "quantity",
        "days_supply",
        "route_concept_id",
        "drug_source_concept_id",
        "drug_source_value",
        "dose_unit_source_value",
    },
    "measurement": {
        "measurement_concept_id",
        "measurement_date",
        "measurement_type_concept_id",
        "operator_concept_id",
        "value_as_number",
        "value_as_concept_id",
        "unit_concept_id",
        "range_low",
        "range_high",
        "measurement_source_concept_id",
        "measurement_source_value",
        "unit_source_concept_id",
        "unit_source_value",
    },
    "observation": {
        "observation_concept_id",
        "observation_date",
        "observation_type_concept_id",
        "value_as_number",
        "value_as_concept_id",
        "qualifier_concept_id",
        "unit_concept_id",
        "observation_source_concept_id",
        "observation_source_value",
        "unit_source_value",
    },
    "procedure_occurrence": {
        "procedure_concept_id",
        "procedure_date",
        "procedure_end_date",
        "procedure_type_concept_id",
        "modifier_concept_id",
        "quantity",
        "procedure_source_concept_id",
        "procedure_source_value",
    },
    "death": {
        "death_date",
        "death_type_concept_id",
        "cause_concept_id",
        "cause_source_concept_id",
        "cause_source_value",
    },
    "note_nlp": {
        "section_concept_id",
        "note_nlp_concept_id",
        "note_nlp_source_concept_id",
        "nlp_system",
        "nlp_date",
        "term_exists",
        "term_temporal",
        "term_modifiers",
        "lexical_variant",
    },
    "note": {
        "note_date",
        "note_type_concept_id",
        "note_class_concept_id",
        "note_title",
        "note_text",
        "encoding_concept_id",
        "language_concept_id",
    },
}
NOTE_NLP_TEXT = {"snippet", "offset"}  # with --with-notes only
# source value column → concept columns whose code it holds (source concept first)
SOURCE_CODES = {
    "condition_source_value": ("condition_source_concept_id", "condition_concept_id"),
    "drug_source_value": ("drug_source_concept_id", "drug_concept_id"),
    "measurement_source_value": ("measurement_source_concept_id", "measurement_concept_id"),
    "observation_source_value": ("observation_source_concept_id", "observation_concept_id"),
    "procedure_source_value": ("procedure_source_concept_id", "procedure_concept_id"),
    "cause_source_value": ("cause_source_concept_id", "cause_concept_id"),
}
ID_COLUMNS = {
    "visit_occurrence": "visit_occurrence_id",
    "condition_occurrence": "condition_occurrence_id",
    "drug_exposure": "drug_exposure_id",
    "measurement": "measurement_id",
    "observation": "observation_id",
    "procedure_occurrence": "procedure_occurrence_id",
    "note": "note_id",
    "note_nlp": "note_nlp_id",
}
DATE_COLUMNS = {
    "visit_occurrence": "visit_start_date",
    "condition_occurrence": "condition_start_date",
    "drug_exposure": "drug_exposure_start_date",
    "measurement": "measurement_date",
    "observation": "observation_date",
    "procedure_occurrence": "procedure_date",
    "note": "note_date",
    "note_nlp": "nlp_date",
}
STATUSES = {"antecedent"}
DATE_PRECISIONS = ("jour", "mois", "annee")
QUALIFIERS = ("negation", "hypothesis", "family", "history", "reported_speech")
_ID_SPACE = 2**53 - 1  # exact in JSON numbers and FHIR ids
_KEY_PURPOSE = b"hopia.sharing.person_id.v1"


@dataclass
class SharedDataset:
    """The tables that leave (full CDM column set, CDM order) and how they were made."""

    tables: dict[str, pd.DataFrame]
    concepts: pd.DataFrame
    salt: str  # hex; goes to the audit log, never into the export
    with_notes: bool
    reference_year: int


def export_person_ids(secret: bytes, salt: bytes, person_ids: Sequence[int]) -> dict[int, int]:
    """Warehouse person_id → export person_id (keyed hash). Re-derivable in the research space
    from the platform secret and the salt of the export's audit entry."""
    key = hmac.new(secret, _KEY_PURPOSE, hashlib.sha256).digest()
    out = {}
    for pid in person_ids:
        digest = hmac.new(key, salt + str(int(pid)).encode(), hashlib.sha256).digest()
        out[int(pid)] = int.from_bytes(digest[:8], "big") % _ID_SPACE + 1
    return out


def _person_map(secret: bytes, person_ids: list[int]) -> tuple[dict[int, int], str]:
    for _ in range(5):  # a collision among 2^53 values is very unlikely: draw a new salt then
        salt = secrets.token_bytes(16)
        mapping = export_person_ids(secret, salt, person_ids)
        if len(set(mapping.values())) == len(mapping):
            return mapping, salt.hex()
    raise SharingError("collision d'identifiants d'export répétée : relancez l'export")


def _cdm_frame(name: str, frame: pd.DataFrame, keep: set[str]) -> pd.DataFrame:
    """The full CDM column set in CDM order; columns outside ``keep`` emptied."""
    table = schema.CDM[name]
    out = pd.DataFrame(index=frame.index)
    for column in table.c:
        if column.name in keep and column.name in frame:
            out[column.name] = frame[column.name]
        else:
            out[column.name] = pd.Series(None, index=frame.index, dtype=object)
    return out.reset_index(drop=True)


def _code_of(concepts: pd.DataFrame, ids: pd.Series) -> pd.Series:
    codes = concepts["concept_code"] if len(concepts) else pd.Series(dtype=object)
    mapped = ids.astype("Int64").map(lambda v: None if pd.isna(v) or v == 0 else codes.get(int(v)))
    return mapped.astype(object).where(mapped.notna(), None)


def _sequential(frame: pd.DataFrame, id_column: str, date_column: str) -> dict[int, int]:
    # Ordered by the export's person id: the warehouse order does not show through.
    ordered = frame.sort_values(["_pid", date_column, id_column], kind="stable")
    return {int(old): new for new, old in enumerate(ordered[id_column], 1)}


def _map_ids(values: pd.Series, mapping: dict[int, int]) -> pd.Series:
    return values.map(lambda v: None if pd.isna(v) else mapping.get(int(v))).astype("Int64")


def _sanitised_modifiers(value: object) -> str | None:
    """Only the qualifiers: codes, values and attributes may repeat text or rare codes."""
    try:
        data = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return json.dumps({q: bool(data.get(q)) for q in QUALIFIERS if q in data}, sort_keys=True)


def prepare(
    extract: Extract,
    plan: AnonymisationPlan,
    secret: bytes,
    with_notes: bool = False,
    min_care_site_persons: int | None = None,
    dates: str = "jour",
) -> SharedDataset:
    """The tables that leave. ``dates``: ``"jour"`` keeps the (shifted) dates, ``"mois"`` or
    ``"annee"`` bring every date column to the first day of its month or year."""
    if dates not in DATE_PRECISIONS:
        raise SharingError(
            f"précision des dates inconnue : {dates} (attendu : {', '.join(DATE_PRECISIONS)})",
            fields=("dates",),
        )
    tables = {name: frame.copy() for name, frame in extract.tables.items()}
    keep_persons = set(plan.population.persons["person_id"]) - plan.suppressed
    for name, frame in tables.items():
        tables[name] = frame[frame["person_id"].astype(int).isin(keep_persons)].copy()
    person_map, salt = _person_map(secret, sorted(keep_persons))
    for frame in tables.values():
        frame["_pid"] = frame["person_id"].astype(int).map(person_map)
    out: dict[str, pd.DataFrame] = {}

    _generalise_conditions(tables, extract, plan)
    id_maps = {
        name: _sequential(tables[name], column, DATE_COLUMNS[name])
        for name, column in ID_COLUMNS.items()
        if name in tables
    }
    locations = _locations(tables["person"], extract, plan)
    out["person"] = _persons(tables["person"], plan, locations)
    site_ids, out["care_site"] = _care_sites(
        tables["visit_occurrence"], extract, min_care_site_persons or plan.report.k
    )
    out["location"] = locations[1]
    for name in ID_COLUMNS.keys() | {"death"}:
        if name == "note" and not with_notes:
            continue
        frame = tables[name]
        keep = set(KEEP[name]) | (NOTE_NLP_TEXT if with_notes and name == "note_nlp" else set())
        for column, sources in SOURCE_CODES.items():
            if column in frame:
                codes = _code_of(extract.concepts, frame[sources[0]])
                fallback = _code_of(extract.concepts, frame[sources[1]])
                generalised = frame.get("_generalised")
                codes = codes.where(codes.notna(), fallback)
                if generalised is not None and column == "condition_source_value":
                    codes = generalised.where(generalised.notna(), codes)
                frame[column] = codes
        if name == "note_nlp":
            frame = _note_nlp(frame, extract, with_notes)
        if name == "condition_occurrence":  # Hopia's own statuses only, never free text
            status = frame["condition_status_source_value"]
            frame["condition_status_source_value"] = status.where(status.isin(STATUSES), None)
        if "person_id" in schema.CDM[name].c:
            frame["person_id"] = _map_ids(frame["person_id"], person_map)
            keep.add("person_id")
        if "visit_occurrence_id" in schema.CDM[name].c and name != "visit_occurrence":
            frame["visit_occurrence_id"] = _map_ids(
                frame["visit_occurrence_id"], id_maps["visit_occurrence"]
            )
            keep.add("visit_occurrence_id")
        if name in ID_COLUMNS:
            frame[ID_COLUMNS[name]] = _map_ids(frame[ID_COLUMNS[name]], id_maps[name])
            keep.add(ID_COLUMNS[name])
        if name == "note_nlp":
            frame["note_id"] = _map_ids(frame["note_id"], id_maps["note"])
            keep.add("note_id")
        if name == "visit_occurrence":
            frame["preceding_visit_occurrence_id"] = _map_ids(
                frame["preceding_visit_occurrence_id"], id_maps["visit_occurrence"]
            )
            frame["care_site_id"] = _map_ids(frame["care_site_id"], site_ids)
        out[name] = _cdm_frame(name, frame, keep)
        if name in ID_COLUMNS:
            out[name] = out[name].sort_values(ID_COLUMNS[name]).reset_index(drop=True)
    out["person"]["person_id"] = _map_ids(out["person"]["person_id"], person_map)
    out["person"] = out["person"].sort_values("person_id").reset_index(drop=True)
    out["death"] = out["death"].sort_values("person_id").reset_index(drop=True)
    if dates != "jour":
        for frame in out.values():
            for column in [c for c in frame.columns if c.endswith("_date")]:
                frame[column] = frame[column].map(lambda v: _coarse_date(v, dates)).astype(object)
        if with_notes:
            _coarsen_note_text(out, dates)
    person, *clinical = schema.CLINICAL_TABLES
    ordered = [person, "location", "care_site", *clinical, "note", "note_nlp"]
    return SharedDataset(
        {name: out[name] for name in ordered if name in out},
        extract.concepts,
        salt,
        with_notes,
        plan.population.reference_year,
    )


def _coarsen_note_text(out: dict[str, pd.DataFrame], precision: str) -> None:
    """The dates written in the notes (title, text) and their mentions' words, at the precision
    of the date columns: an exported note keeps no exact day the columns hide. The mentions'
    offsets follow the edits and their snippets are cut again from the new text."""
    notes = out.get("note")
    if notes is None or notes.empty:
        return
    texts: dict[int, Coarsened] = {}
    for index, note_id, text in zip(notes.index, notes["note_id"], notes["note_text"], strict=True):
        if isinstance(text, str):
            texts[int(note_id)] = coarsened = coarsen(text, precision)
            notes.at[index, "note_text"] = coarsened.text
    if "note_title" in notes:
        notes["note_title"] = notes["note_title"].map(
            lambda v: coarsen(v, precision).text if isinstance(v, str) else v
        )
    nlp = out.get("note_nlp")
    if nlp is None or nlp.empty:
        return
    for index, row in nlp.iterrows():
        note = texts.get(int(row["note_id"])) if pd.notna(row["note_id"]) else None
        if "lexical_variant" in nlp and isinstance(row.get("lexical_variant"), str):
            nlp.at[index, "lexical_variant"] = coarsen(row["lexical_variant"], precision).text
        span = _offsets(row.get("offset"))
        if note is not None and span is not None:
            start, end = note.position(span[0]), note.position(span[1])
            nlp.at[index, "offset"] = f"{start}-{end}"
            if "snippet" in nlp:
                nlp.at[index, "snippet"] = note.snippet(start, end)
        elif "snippet" in nlp and isinstance(row.get("snippet"), str):
            nlp.at[index, "snippet"] = coarsen(row["snippet"], precision).text


def _offsets(value: object) -> tuple[int, int] | None:
    """``(start, end)`` of a note_nlp offset written "start-end"."""
    if not isinstance(value, str):
        return None
    start, _, end = value.partition("-")
    return (int(start), int(end)) if start.isdigit() and end.isdigit() else None


def _coarse_date(value: object, precision: str) -> date | None:
    if value is None or pd.isna(value):
        return None
    day = pd.Timestamp(value)
    return date(day.year, day.month if precision == "mois" else 1, 1)


def _generalise_conditions(
    tables: dict[str, pd.DataFrame], extract: Extract, plan: AnonymisationPlan
) -> None:
    """Rare codes: rows rewritten to their category/chapter (concepts emptied) or dropped."""
    conditions = tables["condition_occurrence"]
    codes = condition_codes(conditions, extract.concepts)
    exported: dict[int, Diagnosis | None] = {}
    original: dict[int, Diagnosis] = {}
    for row_id, vocabulary, code in codes[
        ["condition_occurrence_id", "vocabulary", "code"]
    ].itertuples(index=False):
        key = (vocabulary, code)
        original[int(row_id)] = key
        exported[int(row_id)] = plan.diagnosis_map.get(key, key)
    ids = conditions["condition_occurrence_id"].astype(int)
    dropped = ids.map(lambda i: i in exported and exported[i] is None)
    changed = ids.map(lambda i: i in exported and exported[i] not in (None, original[i]))
    conditions["_generalised"] = [
        exported[i][1] if c else None for i, c in zip(ids, changed, strict=True)
    ]
    for column in ("condition_concept_id", "condition_source_concept_id"):
        conditions[column] = conditions[column].where(~changed, 0).astype("Int64")
    tables["condition_occurrence"] = conditions[~dropped].copy()
    # The same concepts elsewhere: a death cause or an NLP mention of a rare diagnosis.
    by_concept: dict[int, Diagnosis | None] = {}
    for cid, row in extract.concepts.iterrows():
        key = (row["vocabulary_id"], str(row["concept_code"]).strip().upper())
        if key in plan.diagnosis_map and plan.diagnosis_map[key] != key:
            by_concept[int(cid)] = plan.diagnosis_map[key]
    death = tables["death"]
    touched = death["cause_concept_id"].astype("Int64").isin(list(by_concept))
    touched |= death["cause_source_concept_id"].astype("Int64").isin(list(by_concept))
    for column in ("cause_concept_id", "cause_source_concept_id"):
        death[column] = death[column].where(~touched, 0).astype("Int64")
    tables["death"] = death
    nlp = tables["note_nlp"]
    rare = nlp["note_nlp_concept_id"].astype("Int64").isin(list(by_concept))
    rare |= nlp["note_nlp_source_concept_id"].astype("Int64").isin(list(by_concept))
    tables["note_nlp"] = nlp[~rare].copy()  # a mention cannot be generalised inside its text


def _note_nlp(frame: pd.DataFrame, extract: Extract, with_notes: bool) -> pd.DataFrame:
    frame["term_modifiers"] = frame["term_modifiers"].map(_sanitised_modifiers)
    if with_notes:
        return frame
    # Without the notes, a mention is its code: uncoded mentions carry nothing but text.
    code = _code_of(extract.concepts, frame["note_nlp_concept_id"])
    frame = frame[code.notna()].copy()
    frame["lexical_variant"] = code[code.notna()]
    return frame


def _locations(
    persons: pd.DataFrame, extract: Extract, plan: AnonymisationPlan
) -> tuple[dict[int, int], pd.DataFrame]:
    """One exported location per distinct generalised (postcode, region, country)."""
    loc = extract.locations.set_index("location_id") if len(extract.locations) else None
    person_loc: dict[int, int] = {}
    rows: dict[tuple, int] = {}
    if loc is not None and plan.levels["postcode"] < 3:
        for pid, lid in zip(persons["person_id"], persons["location_id"], strict=True):
            if pd.isna(lid) or int(lid) not in loc.index:
                continue
            r = loc.loc[int(lid)]
            args = (r["zip"], r["state"], r["country_source_value"])
            key = (plan.postcode(*args), plan.region(*args), r["country_source_value"])
            if key[0] is None and key[1] is None:
                continue
            person_loc[int(pid)] = rows.setdefault(key, len(rows) + 1)
    frame = pd.DataFrame(
        [
            {"location_id": i, "zip": z, "state": s, "country_source_value": c}
            for (z, s, c), i in sorted(rows.items(), key=lambda kv: kv[1])
        ],
        columns=["location_id", "zip", "state", "country_source_value"],
    )
    keep = {"location_id", "zip", "state", "country_source_value"}
    return person_loc, _cdm_frame("location", frame, keep)


def _persons(
    persons: pd.DataFrame, plan: AnonymisationPlan, locations: tuple[dict[int, int], pd.DataFrame]
) -> pd.DataFrame:
    frame = persons.copy()
    ages = plan.population.persons.set_index("person_id")["age"]
    frame["year_of_birth"] = [plan.birth_year(ages.get(int(pid))) for pid in frame["person_id"]]
    frame["location_id"] = (
        frame["person_id"].map(lambda pid: locations[0].get(int(pid))).astype("Int64")
    )
    if plan.levels.get("sex", 0) >= 1:  # dropped at the requester's demand: gender unknown
        frame["gender_concept_id"] = 0
    gender = frame["gender_concept_id"].astype("Int64")
    frame["gender_source_value"] = gender.map({MALE: "M", FEMALE: "F"}).astype(object)
    frame["race_concept_id"] = 0
    frame["ethnicity_concept_id"] = 0
    keep = KEEP["person"] | {"person_id", "race_concept_id", "ethnicity_concept_id"}
    return _cdm_frame("person", frame, keep)


def _care_sites(
    visits: pd.DataFrame, extract: Extract, min_persons: int
) -> tuple[dict[int, int], pd.DataFrame]:
    """Care sites seen by at least ``min_persons`` exported persons; the others are unlinked."""
    used = visits.dropna(subset=["care_site_id"]).groupby("care_site_id")["person_id"].nunique()
    common = sorted(int(s) for s, n in used.items() if n >= min_persons)
    mapping = {old: new for new, old in enumerate(common, 1)}
    sites = extract.care_sites.set_index("care_site_id") if len(extract.care_sites) else None
    rows = []
    for old, new in mapping.items():
        site = sites.loc[old] if sites is not None and old in sites.index else None
        rows.append(
            {
                "care_site_id": new,
                "care_site_name": None if site is None else site["care_site_name"],
                "place_of_service_concept_id": None
                if site is None
                else site["place_of_service_concept_id"],
            }
        )
    frame = pd.DataFrame(
        rows, columns=["care_site_id", "care_site_name", "place_of_service_concept_id"]
    )
    keep = {"care_site_id", "care_site_name", "place_of_service_concept_id"}
    return mapping, _cdm_frame("care_site", frame, keep)

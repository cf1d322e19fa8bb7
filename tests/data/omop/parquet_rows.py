"""A warehouse's ingested rows with natural keys in place of the ids it allocated, to compare two
warehouses filled by different paths (the local ingest, ``load-parquet``) row for row."""

from __future__ import annotations

import pandas as pd

from hopia.data.omop.mapping import ID_COLUMN
from hopia.platform.warehouse import Warehouse

FACTS = ("condition_occurrence", "drug_exposure", "measurement", "observation")
#: Columns that differ by construction: allocated ids, load times, the source's name.
ALLOCATED = {
    "note_id",
    "note_nlp_id",
    "person_id",
    "visit_occurrence_id",
    "document_id",
    "patient_id",
    "care_site_id",
    "run_id",
    "row_id",
    "ingested_at",
    "updated_at",
    "nlp_date",
    "source_path",
    "source_ref",
    "format",
    *ID_COLUMN.values(),
}


def keyed_rows(wh: Warehouse) -> dict[str, pd.DataFrame]:
    """Per table, the rows with their natural keys (``note_source_value``, ``mention_index``,
    ``person_source_value``, ``content_hash``), concept ids as ``vocabulary:code``."""
    with wh.engine.connect() as conn:

        def read(sql: str) -> pd.DataFrame:
            return pd.read_sql(sql, conn)

        concept = read("SELECT concept_id, vocabulary_id, concept_code FROM omop.concept")
        person = read("SELECT * FROM omop.person")
        patient = read("SELECT * FROM hopia_id.patient")
        visit = read("SELECT * FROM omop.visit_occurrence")
        note = read("SELECT * FROM omop.note")
        nlp = read("SELECT * FROM omop.note_nlp ORDER BY note_id, note_nlp_id")
        facts = {t: read(f"SELECT * FROM omop.{t}") for t in FACTS}
        prov = read("SELECT * FROM omop.hopia_provenance")
        document = read("SELECT * FROM hopia_id.document")
        spans = read("SELECT * FROM hopia_id.phi_span")
    names = {int(r.concept_id): f"{r.vocabulary_id}:{r.concept_code}" for r in concept.itertuples()}
    psv = dict(zip(person["person_id"], person["person_source_value"], strict=True))
    note["person_source_value"] = note["person_id"].map(psv)
    visit["person_source_value"] = visit["person_id"].map(psv)
    nsv = dict(zip(note["note_id"], note["note_source_value"], strict=True))
    nlp["note_source_value"] = nlp["note_id"].map(nsv)
    nlp["mention_index"] = nlp.groupby("note_id").cumcount()
    mention = nlp.set_index("note_nlp_id")[["note_source_value", "mention_index"]]
    visit_key = visit.set_index("visit_occurrence_id")[["visit_source_value", "visit_start_date"]]
    note = note.join(visit_key.add_prefix("visit_"), on="visit_occurrence_id")
    out = {"note": note, "note_nlp": nlp, "person": person, "visit_occurrence": visit}
    for table in FACTS:
        rows = facts[table].merge(
            prov[prov["table_name"] == table][["row_id", "note_nlp_id"]],
            left_on=ID_COLUMN[table],
            right_on="row_id",
        )
        out[table] = rows.join(mention, on="note_nlp_id")
    prov = prov.join(mention, on="note_nlp_id")
    prov["note_source_value"] = prov["note_id"].map(nsv)
    out["hopia_provenance"] = prov
    document["note_source_value"] = document["note_id"].map(nsv)
    out["document"] = document
    hashes = dict(zip(document["document_id"], document["content_hash"], strict=True))
    spans["content_hash"] = spans["document_id"].map(hashes)
    out["phi_span"] = spans
    out["patient"] = patient
    for frame in out.values():
        for column in frame.columns:
            if column.endswith("concept_id"):
                frame[column] = frame[column].map(lambda i: names.get(i, i))
    return out


KEYS = {
    "note": ["note_source_value"],
    "note_nlp": ["note_source_value", "mention_index"],
    **{t: ["note_source_value", "mention_index"] for t in FACTS},
    "hopia_provenance": ["table_name", "note_source_value", "mention_index"],
    "document": ["content_hash"],
    "phi_span": ["content_hash", "start_char", "label"],
    "person": ["person_source_value"],
    "visit_occurrence": ["person_source_value", "visit_source_value", "visit_start_date"],
    "patient": ["ipp"],
}


def differences(
    a: pd.DataFrame, b: pd.DataFrame, keys: list[str], ignore: tuple[str, ...] = ()
) -> list[str]:
    """The columns where two tables' rows differ (by ``keys``), ids and load times aside (and
    ``ignore``); a different row count is reported as ``rows a != b``."""
    if len(a) != len(b):
        return [f"rows {len(a)} != {len(b)}"]
    skip = ALLOCATED | set(ignore)
    columns = [c for c in a.columns if c in b.columns and c not in skip]
    left = a.sort_values(keys).reset_index(drop=True)[columns]
    right = b.sort_values(keys).reset_index(drop=True)[columns]
    return [c for c in columns if _values(left[c]) != _values(right[c])]


def _values(series: pd.Series) -> list[object]:
    out = []
    for v in series.tolist():
        try:
            missing = bool(pd.isna(v))
        except (TypeError, ValueError):
            missing = False
        if missing:
            out.append(None)
        elif isinstance(v, pd.Timestamp):
            out.append(v.to_pydatetime())
        elif hasattr(v, "item"):
            out.append(v.item())
        else:
            out.append(v)
    return out

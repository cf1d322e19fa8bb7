"""Read the selected persons' rows from the research space (schema ``omop``) only.

Every table read here is checked to live in ``omop``: the identified space (``hopia_id``) and the
vault (``hopia_vault``) are never queried by the sharing axis, whatever a caller asks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, Select, Table, select

from hopia.platform.exceptions import SharingError
from hopia.platform.warehouse import Warehouse, schema

_CHUNK = 5000  # bound parameters per IN list (PostgreSQL allows 65,535 per statement)


@dataclass
class Extract:
    """Rows of the selected persons, typed like the CDM (nullable integers as ``Int64``).

    ``note_nlp`` carries an extra ``person_id`` column (from its note), dropped on export.
    """

    tables: dict[str, pd.DataFrame]
    concepts: pd.DataFrame  # indexed by concept_id: vocabulary_id, concept_code, concept_name
    locations: pd.DataFrame  # location rows referenced by the persons
    care_sites: pd.DataFrame  # care_site rows referenced by the visits


def _research(name: str) -> Table:
    table = schema.CDM[name]
    if table.schema != schema.OMOP:  # defence in depth: the CDM dict only holds omop tables
        raise SharingError(f"table {table.fullname} hors de l'espace de recherche : refusé")
    return table


def _chunks(values: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(values), _CHUNK):
        yield list(values[start : start + _CHUNK])


def _typed(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """CDM types whatever the engine returned (an empty result has object columns)."""
    from sqlalchemy import types as t

    for column in frame.columns:
        if column not in table.c:
            continue
        kind = table.c[column].type
        if isinstance(kind, t.Integer):
            frame[column] = pd.to_numeric(frame[column]).astype("Int64")
        elif isinstance(kind, t.Float):
            frame[column] = pd.to_numeric(frame[column]).astype("float64")
        elif isinstance(kind, t.DateTime):
            frame[column] = pd.to_datetime(frame[column])
        elif isinstance(kind, t.Date):
            frame[column] = pd.to_datetime(frame[column]).dt.date.astype(object)
        else:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


def _read(conn: Connection, queries: Iterator[Select], table: Table) -> pd.DataFrame:
    parts = [pd.read_sql(q, conn) for q in queries]
    parts = [p for p in parts if len(p)] or parts[:1]
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return _typed(frame, table)


def extract(wh: Warehouse, person_ids: Sequence[int], with_notes: bool = False) -> Extract:
    ids = sorted(set(person_ids))
    tables: dict[str, pd.DataFrame] = {}
    with wh.engine.connect() as conn:
        for name in schema.CLINICAL_TABLES:
            t = _research(name)
            queries = (select(t).where(t.c.person_id.in_(chunk)) for chunk in _chunks(ids))
            tables[name] = _read(conn, queries, t)
        missing = len(ids) - tables["person"]["person_id"].nunique()
        if missing:
            raise SharingError(
                f"{missing} person_id de la sélection absent(s) de omop.person : vérifiez la "
                "liste (identifiants de l'espace de recherche attendus)",
                fields=("persons",),
            )
        note, nlp = _research("note"), _research("note_nlp")
        note_columns = [c for c in note.c if with_notes or c.name != "note_text"]
        tables["note"] = _read(
            conn,
            (select(*note_columns).where(note.c.person_id.in_(chunk)) for chunk in _chunks(ids)),
            note,
        )
        tables["note_nlp"] = _read(
            conn,
            (
                select(nlp, note.c.person_id)
                .join(note, note.c.note_id == nlp.c.note_id)
                .where(note.c.person_id.in_(chunk))
                for chunk in _chunks(ids)
            ),
            nlp,
        )
        locations = _by_ids(conn, "location", "location_id", tables["person"]["location_id"])
        care_sites = _by_ids(
            conn, "care_site", "care_site_id", tables["visit_occurrence"]["care_site_id"]
        )
        concepts = _concepts(conn, tables)
    return Extract(tables, concepts, locations, care_sites)


def _by_ids(conn: Connection, name: str, key: str, values: pd.Series) -> pd.DataFrame:
    t = _research(name)
    wanted = sorted({int(v) for v in values.dropna()})
    queries = (select(t).where(t.c[key].in_(chunk)) for chunk in _chunks(wanted))
    frame = _read(conn, queries, t) if wanted else _typed(pd.read_sql(select(t).limit(0), conn), t)
    return frame


def _concepts(conn: Connection, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    ids: set[int] = set()
    for frame in tables.values():
        for column in frame.columns:
            if column.endswith("concept_id"):
                ids.update(int(v) for v in frame[column].dropna() if int(v) != 0)
    c = _research("concept")
    columns = [c.c.concept_id, c.c.vocabulary_id, c.c.concept_code, c.c.concept_name]
    parts = [
        pd.read_sql(select(*columns).where(c.c.concept_id.in_(chunk)), conn)
        for chunk in _chunks(sorted(ids))
    ]
    names = ["concept_id", "vocabulary_id", "concept_code", "concept_name"]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=names)
    frame = frame.astype({"concept_id": "int64"}) if len(frame) else frame
    return frame.set_index("concept_id")

"""Load an OMOP CDM 5.4 CSV set (a folder or a zip) into the warehouse, in one transaction.

Idempotent: each table file is recorded with its sha256 in ``hopia_meta.omop_load``; loading the
same set again adds nothing. A different file whose primary keys collide with rows already in the
warehouse is refused (nothing is written) unless ``replace=True``, which replaces those rows.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Table, delete, select, tuple_
from sqlalchemy import types as sqltypes

from hopia.platform.exceptions import OmopLoadError
from hopia.platform.warehouse import Warehouse, schema

# Vocabulary tables without a primary key: a row is identified by these columns.
NATURAL_KEYS = {
    "concept_relationship": ("concept_id_1", "concept_id_2", "relationship_id"),
    "concept_ancestor": ("ancestor_concept_id", "descendant_concept_id"),
    "concept_synonym": ("concept_id", "concept_synonym_name", "language_concept_id"),
    "drug_strength": ("drug_concept_id", "ingredient_concept_id"),
}

# Reference vocabularies: a newer release replaces the rows it shares with the warehouse (Hopia
# itself seeds a few standard concepts such as 8507 MALE before any vocabulary is loaded).
VOCABULARY_TABLES = {
    "concept",
    "vocabulary",
    "domain",
    "concept_class",
    "relationship",
    "concept_synonym",
    "concept_ancestor",
    "concept_relationship",
    "drug_strength",
}


@dataclass
class LoadReport:
    loaded: dict[str, int] = field(default_factory=dict)  # table -> rows inserted
    skipped: dict[str, str] = field(default_factory=dict)  # table/file -> why


def _iter_csv_files(path: Path) -> Iterator[tuple[str, bytes]]:
    """(file name, content) of every CSV in a folder or zip, macOS resource forks excluded."""
    if path.is_dir():
        for file in sorted(path.rglob("*.csv")):
            if not file.name.startswith("._"):
                yield file.name, file.read_bytes()
        return
    if not zipfile.is_zipfile(path):
        raise OmopLoadError(f"{path} : ni dossier ni archive zip")
    try:
        with zipfile.ZipFile(path) as archive:
            for info in sorted(archive.infolist(), key=lambda i: i.filename):
                name = Path(info.filename).name
                wanted = name.lower().endswith(".csv") and not name.startswith("._")
                if wanted and "__MACOSX" not in info.filename:
                    yield name, archive.read(info)
    except (zipfile.BadZipFile, OSError) as exc:
        raise OmopLoadError(f"{path} : archive illisible ({exc})") from exc


def _converter(column_type: sqltypes.TypeEngine) -> Callable[[pd.Series], pd.Series]:
    if isinstance(column_type, sqltypes.Integer):
        return lambda s: pd.to_numeric(s, errors="raise").astype("Int64")
    if isinstance(column_type, sqltypes.Float):
        return lambda s: pd.to_numeric(s, errors="raise").astype("float64")
    if isinstance(column_type, sqltypes.DateTime):
        return lambda s: pd.to_datetime(s, errors="raise", format="mixed")
    if isinstance(column_type, sqltypes.Date):
        return lambda s: pd.to_datetime(s, errors="raise", format="mixed").dt.date
    return lambda s: s


def parse_table(table: Table, name: str, content: bytes) -> pd.DataFrame:
    """Parse one CSV into a frame typed like ``table``; errors name the file, column and value."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise OmopLoadError(f"{name} : encodage non UTF-8 ({exc})") from exc
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    frame.columns = [c.strip().lower() for c in frame.columns]
    unknown = set(frame.columns) - set(table.columns.keys())
    if unknown:
        raise OmopLoadError(f"{name} : colonnes inconnues de {table.name} : {sorted(unknown)}")
    required = [c.name for c in table.columns if not c.nullable]
    if missing := [c for c in required if c not in frame.columns]:
        raise OmopLoadError(f"{name} : colonnes obligatoires absentes : {missing}")
    for column in required:
        if empty := int(frame[column].isna().sum()):
            raise OmopLoadError(f"{name} : colonne obligatoire {column} vide sur {empty} ligne(s)")
    for column in frame.columns:
        try:
            frame[column] = _converter(table.columns[column].type)(frame[column])
        except (ValueError, TypeError) as exc:
            raise OmopLoadError(f"{name} : colonne {column} : valeur invalide ({exc})") from exc
    return frame


def _primary_key(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def _insert_table(
    wh: Warehouse, conn: Connection, table: Table, frame: pd.DataFrame, replace: bool
) -> int:
    pk = _primary_key(table) or (
        list(NATURAL_KEYS[table.name]) if replace and table.name in NATURAL_KEYS else []
    )
    if pk and table.name == "person":
        # Person ids Hopia reserved for patients still without a birth date count as taken.
        reserved = schema.patient.c.person_id
        taken = set(conn.execute(select(reserved)).scalars())
        clash = sorted(taken & set(frame["person_id"].dropna().astype(int)))
        if clash:
            raise OmopLoadError(
                f"person : {len(clash)} identifiant(s) réservé(s) par l'intégration de documents "
                f"({', '.join(map(str, clash[:5]))}…) : renumérotez le jeu OMOP."
            )
    if pk:
        if table.name in NATURAL_KEYS:  # a release may repeat a relationship: keep the last
            frame = frame.drop_duplicates(subset=pk, keep="last")
        incoming = frame[pk].dropna().drop_duplicates()
        if len(incoming) != len(frame):
            raise OmopLoadError(f"{table.name} : clé primaire {pk} vide ou en double")
        keys = [tuple(_native(v) for v in row) for row in incoming.itertuples(index=False)]
        existing = _existing_keys(conn, table, pk, keys)
        if existing and not replace:
            sample = ", ".join(str(k[0] if len(k) == 1 else k) for k in sorted(existing)[:5])
            raise OmopLoadError(
                f"{table.name} : {len(existing)} identifiant(s) déjà présent(s) dans l'entrepôt "
                f"({sample}…) : autorisez leur remplacement pour les remplacer.",
                fields=("replace",),
            )
        for chunk in _chunks(sorted(existing), 1000):
            conn.execute(delete(table).where(tuple_(*[table.c[c] for c in pk]).in_(chunk)))
    else:
        # No key: add only the rows not already there (same values in every column).
        current = pd.read_sql(select(*[table.c[c] for c in frame.columns]), conn)
        if not current.empty:
            current = current.astype(frame.dtypes.to_dict(), errors="ignore")
            merged = frame.merge(current.drop_duplicates(), how="left", indicator=True)
            frame = merged[merged["_merge"] == "left_only"].drop(columns="_merge")
    return wh.insert_frame(conn, table, frame)


def _existing_keys(conn: Connection, table: Table, pk: list[str], keys: list[tuple]) -> set[tuple]:
    found: set[tuple] = set()
    columns = [table.c[c] for c in pk]
    for chunk in _chunks(keys, 1000):
        rows = conn.execute(select(*columns).where(tuple_(*columns).in_(chunk)))
        found.update(tuple(_native(v) for v in row) for row in rows)
    return found


def _native(value: object) -> object:
    # numpy/pandas scalars -> Python scalars, so keys compare equal to what the driver returns.
    return value.item() if hasattr(value, "item") else value


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def load_omop(wh: Warehouse, path: Path, replace: bool = False) -> LoadReport:
    """Load every CDM table found in ``path``. All or nothing: one transaction.

    Clinical rows whose ids already exist are refused unless ``replace``; vocabulary rows are
    always replaced by the incoming release.
    """
    path = Path(path)
    if not path.exists():
        raise OmopLoadError(f"{path} : introuvable")
    report = LoadReport()
    files = list(_iter_csv_files(path))
    if not files:
        raise OmopLoadError(f"{path} : aucun fichier CSV")
    with wh.begin() as conn:
        for name, content in files:
            table = schema.CDM.get(Path(name).stem.lower())
            if table is None:
                report.skipped[name] = "table hors CDM 5.4"
                continue
            digest = hashlib.sha256(content).hexdigest()
            already = conn.execute(
                select(schema.omop_load.c.rows).where(
                    schema.omop_load.c.table_name == table.name,
                    schema.omop_load.c.file_sha256 == digest,
                )
            ).first()
            if already is not None:
                report.skipped[name] = "déjà chargé (même contenu)"
                continue
            frame = parse_table(table, name, content)
            replace_rows = replace or table.name in VOCABULARY_TABLES
            inserted = _insert_table(wh, conn, table, frame, replace_rows) if len(frame) else 0
            conn.execute(
                schema.omop_load.insert().values(
                    table_name=table.name,
                    file_sha256=digest,
                    rows=inserted,
                    source=str(path),
                    loaded_at=datetime.now(),
                )
            )
            report.loaded[table.name] = inserted
    return report

"""Versioned schema migrations. Append a new ``Migration``; never edit an applied one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Double, Table, inspect, select, text
from sqlalchemy.exc import DBAPIError

from hopia.platform.warehouse import schema as s


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _tables_of(version: int) -> list[Table]:
    # Tables without the tag predate the tagging: they belong to migration 1.
    return [
        t
        for t in s.metadata.sorted_tables
        if t is not s.schema_migrations and t.info.get("migration", 1) == version
    ]


def _initial(conn: Connection) -> None:
    s.metadata.create_all(conn, tables=_tables_of(1))


def _vault_and_audit(conn: Connection) -> None:
    conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {s.VAULT}"))
    s.metadata.create_all(conn, tables=_tables_of(2))


def _quality_history(conn: Connection) -> None:
    s.metadata.create_all(conn, tables=_tables_of(4))


def _document_ocr(conn: Connection) -> None:
    s.metadata.create_all(conn, tables=_tables_of(5))


def _jobs(conn: Connection) -> None:
    s.metadata.create_all(conn, tables=_tables_of(6))


def _web_accounts(conn: Connection) -> None:
    s.metadata.create_all(conn, tables=_tables_of(7))


def _external_identities(conn: Connection) -> None:
    s.metadata.create_all(conn, tables=_tables_of(8))


def _oidc_sessions(conn: Connection) -> None:
    s.metadata.create_all(conn, tables=_tables_of(11))


def _dictations(conn: Connection) -> None:
    s.metadata.create_all(conn, tables=_tables_of(14))


def _dictation_drafts(conn: Connection) -> None:
    s.metadata.create_all(conn, tables=_tables_of(15))


def _llm_gateway(conn: Connection) -> None:
    s.metadata.create_all(conn, tables=_tables_of(9))


def _llm_usage_ended(conn: Connection) -> None:
    # Warehouses made since create the column with the table (migration 9): idempotent.
    conn.execute(text(f"ALTER TABLE {s.META}.llm_usage ADD COLUMN IF NOT EXISTS ended BOOLEAN"))


def _collections(conn: Connection) -> None:
    s.metadata.create_all(conn, tables=_tables_of(10))


def _assistant_history(conn: Connection) -> None:
    s.metadata.create_all(conn, tables=_tables_of(13))


# The columns the audited reads filter on: the document view (a note's NLP entities, its
# original document and that document's PHI spans) and the patient timeline and perimeter check
# (a person's notes, stays, conditions, drugs and lab values). Without them PostgreSQL scans
# the whole table for each read (``note_nlp``: 20 ms of a 32 ms document view on the
# 300-patient demo, docs/benchmarks.md, issue 12). Named, so that a re-run finds them.
READ_INDEXES: tuple[tuple[str, str, str, str], ...] = (
    ("ix_note_nlp_note_id", s.OMOP, "note_nlp", "note_id"),
    ("ix_note_person_id", s.OMOP, "note", "person_id"),
    ("ix_visit_occurrence_person_id", s.OMOP, "visit_occurrence", "person_id"),
    ("ix_condition_occurrence_person_id", s.OMOP, "condition_occurrence", "person_id"),
    ("ix_drug_exposure_person_id", s.OMOP, "drug_exposure", "person_id"),
    ("ix_measurement_person_id", s.OMOP, "measurement", "person_id"),
    ("ix_document_note_id", s.IDENTIFIED, "document", "note_id"),
    ("ix_phi_span_document_id", s.IDENTIFIED, "phi_span", "document_id"),
)


def _read_indexes(conn: Connection) -> None:
    """PostgreSQL only. DuckDB answers these filters from its zone maps (the tables are written
    in id order, so one note's or one person's rows sit in few row groups): measured on the
    300-patient demo with and without ART indexes on the same columns
    (``bench/duckdb_read_indexes.py``), no read got faster (one got slower) and the ingest's
    append cost did not change beyond noise, while an ART index lives in memory and turns an
    update of its column into a delete and an insert. So DuckDB gets none."""
    if conn.dialect.name != "postgresql":
        return
    for name, schema_name, table, column in READ_INDEXES:
        conn.execute(
            text(f'CREATE INDEX IF NOT EXISTS {name} ON {schema_name}."{table}" ("{column}")')
        )


# What the cohort criteria read, measured at 1 M persons / 54 M rows on PostgreSQL with
# EXPLAIN (ANALYZE, BUFFERS) (bench/scale_pg.py, docs/benchmarks.md, issue 16):
# - a drug criterion by ATC class reads the exposures of a few concepts, with their person and
#   date: from this index alone (index-only scan, 0.08 s), not by reading all of drug_exposure
#   (12 M rows, 4 s);
# - a text criterion reads the mentions whose lower-cased variant contains the term: a trigram
#   index answers ``LIKE '%term%'`` (how the compiler writes it on PostgreSQL) with a bitmap
#   scan, 0.6 s instead of a 2 s sequential scan of note_nlp's 6 M rows.
# Conditions and measurements got none: their criteria (a CIM-10 chapter: 64 % of persons for
# E11; a LOINC code OR its source value) kept the sequential scan in the plans or were cheap.
# (name, table, method, key): PostgreSQL only, like migration 12.
SCALE_INDEXES: tuple[tuple[str, str, str, str], ...] = (
    (
        "ix_drug_exposure_concept",
        "drug_exposure",
        "btree",
        "drug_concept_id, person_id, drug_exposure_start_date",
    ),
    ("ix_note_nlp_variant_trgm", "note_nlp", "gin", "lower(lexical_variant) gin_trgm_ops"),
)


def create_scale_indexes(conn: Connection) -> None:
    """PostgreSQL only (DuckDB: see :func:`_read_indexes`). The trigram index needs the
    ``pg_trgm`` extension (PostgreSQL's contrib, a trusted extension that a database owner may
    create): where it cannot be created, that index is left out and text criteria scan
    note_nlp, as before. Idempotent."""
    if conn.dialect.name != "postgresql":
        return
    trigrams = _trigrams(conn)
    for name, table, method, key in SCALE_INDEXES:
        if "gin_trgm_ops" in key and not trigrams:
            continue
        conn.execute(
            text(f'CREATE INDEX IF NOT EXISTS {name} ON {s.OMOP}."{table}" USING {method} ({key})')
        )


def _trigrams(conn: Connection) -> bool:
    """Whether pg_trgm is there, creating it if it may (inside a savepoint: a refusal must
    not abort the migration's transaction)."""
    if conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
        return True
    available = "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'"
    if not conn.execute(text(available)).first():
        return False
    try:
        with conn.begin_nested():
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except DBAPIError:
        return False
    return True


# Columns whose type changed after migration 1 (schema.py holds the new type).
_RETYPED = {
    s.OMOP: {
        name: [c.name for c in table.columns if isinstance(c.type, Double)]
        for name, table in s.CDM.items()
    },
    s.IDENTIFIED: {
        "patient": ["family_name", "given_name", "nir", "address", "zip", "city", "phone", "email"],
        "document": ["external_id"],
    },
}


def _double_and_text(conn: Connection) -> None:
    """Migration 1 made CDM floats 4-byte REAL on DuckDB and bounded identity columns that
    PostgreSQL enforces; both lose data. Idempotent: databases created since already match."""
    tables = {(t.schema, t.name): t for t in s.metadata.sorted_tables}
    for schema_name, columns_by_table in _RETYPED.items():
        for table_name, columns in columns_by_table.items():
            table = tables[(schema_name, table_name)]
            for column in columns:
                sql_type = table.c[column].type.compile(dialect=conn.dialect)
                conn.execute(
                    text(
                        f'ALTER TABLE {schema_name}."{table_name}" '
                        f'ALTER COLUMN "{column}" TYPE {sql_type}'
                    )
                )


MIGRATIONS: list[Migration] = [
    Migration(1, "OMOP CDM 5.4, provenance, identified space", _initial),
    Migration(2, "Key vault (hopia_vault), tamper-evident audit log", _vault_and_audit),
    Migration(3, "CDM floats as DOUBLE, identity columns as TEXT", _double_and_text),
    Migration(4, "Data quality run history", _quality_history),
    Migration(5, "OCR confidence of scanned pages (hopia_id.document_ocr)", _document_ocr),
    Migration(6, "Background jobs (hopia_meta.job)", _jobs),
    Migration(7, "Web platform: accounts and sessions", _web_accounts),
    Migration(8, "Accounts of an identity provider (OIDC)", _external_identities),
    Migration(9, "LLM gateway: usage and per-user API keys", _llm_gateway),
    Migration(10, "Knowledge collections, their shares and documents", _collections),
    Migration(11, "ID tokens of OIDC sessions, for the provider's logout", _oidc_sessions),
    Migration(12, "Indexes on the columns the audited reads filter on (PostgreSQL)", _read_indexes),
    Migration(13, "The assistant's history per user (questions and tasks)", _assistant_history),
    Migration(14, "Provenance of validated dictations", _dictations),
    Migration(15, "Dictation drafts kept on the server (identified space)", _dictation_drafts),
    Migration(16, "LLM usage: whether a call ended (a stream cut short)", _llm_usage_ended),
    Migration(17, "Indexes for cohort criteria at scale (PostgreSQL)", create_scale_indexes),
]


LATEST = max(m.version for m in MIGRATIONS)


def applied_version(conn: Connection) -> int | None:
    """The schema version of the database, read without writing anything: the highest version
    up to which every migration is recorded (a gap left by two branches' migrations reads as
    the older version, so a read asks for ``hopia init``); None when it holds no Hopia schema
    (no migration table)."""
    if not inspect(conn).has_table(s.schema_migrations.name, schema=s.META):
        return None
    done = set(conn.execute(select(s.schema_migrations.c.version)).scalars().all())
    version = 0
    for migration in MIGRATIONS:
        if migration.version not in done:
            break
        version = migration.version
    return version


def current_version(conn: Connection) -> int:
    conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {s.META}"))
    s.schema_migrations.create(conn, checkfirst=True)
    versions = conn.execute(select(s.schema_migrations.c.version)).scalars().all()
    return max(versions, default=0)


def migrate(conn: Connection) -> list[Migration]:
    """Apply pending migrations in order, inside the caller's transaction."""
    for name in (s.OMOP, s.IDENTIFIED, s.META):
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {name}"))
    current_version(conn)  # creates the table on a new warehouse
    # Every migration not yet recorded, not only those above the highest: branches number theirs
    # apart (6 and 7 were written side by side), and a warehouse made between two merges must
    # still get the lower one.
    done = set(conn.execute(select(s.schema_migrations.c.version)).scalars().all())
    applied = []
    for migration in MIGRATIONS:
        if migration.version in done:
            continue
        migration.apply(conn)
        conn.execute(
            s.schema_migrations.insert().values(
                version=migration.version,
                description=migration.description,
                applied_at=datetime.now(),
            )
        )
        applied.append(migration)
    return applied

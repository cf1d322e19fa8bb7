"""Warehouse: migrations, spaces, bulk inserts, on DuckDB and PostgreSQL (when one answers)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import inspect, select, text

from hopia.platform.config import get_settings
from hopia.platform.exceptions import WarehouseError
from hopia.platform.warehouse import Warehouse, open_warehouse, schema
from hopia.platform.warehouse.migrations import (
    MIGRATIONS,
    READ_INDEXES,
    SCALE_INDEXES,
    current_version,
)
from tests.platform.pg import postgres_url


@pytest.fixture(params=["duckdb", "postgres"])
def wh(request: pytest.FixtureRequest, tmp_path) -> Warehouse:
    if request.param == "duckdb":
        warehouse = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
        yield warehouse
        warehouse.close()
    else:
        with postgres_url() as url:
            warehouse = Warehouse(url)
            yield warehouse
            warehouse.close()


def test_migrations_create_the_three_spaces(wh: Warehouse) -> None:
    # DuckDB qualifies schema names with the catalogue ("w.omop"); PostgreSQL does not.
    names = {n.rsplit(".", 1)[-1] for n in inspect(wh.engine).get_schema_names()}
    assert {schema.OMOP, schema.IDENTIFIED, schema.META} <= names
    omop = set(inspect(wh.engine).get_table_names(schema=schema.OMOP))
    assert {
        "person",
        "note",
        "note_nlp",
        "condition_occurrence",
        "concept",
        "hopia_provenance",
    } <= omop
    assert len(schema.CDM) == 39  # every CDM 5.4 table
    identified = set(inspect(wh.engine).get_table_names(schema=schema.IDENTIFIED))
    assert identified == {
        "patient",
        "document",
        "phi_span",
        "document_ocr",
        "dictation",
        "dictation_draft",
    }
    # Nothing identifying in the research space: no name or text-of-origin column.
    with wh.engine.connect() as conn:
        for table in omop:
            columns = set(conn.execute(text(f'SELECT * FROM omop."{table}" LIMIT 0')).keys())
            assert not columns & {"family_name", "given_name", "ipp", "nir", "text"}


def test_migrations_are_versioned_and_idempotent(wh: Warehouse) -> None:
    with wh.begin() as conn:
        assert current_version(conn) == MIGRATIONS[-1].version
    again = Warehouse(wh.url)  # reopening applies nothing twice
    with again.engine.connect() as conn:
        versions = conn.execute(select(schema.schema_migrations.c.version)).scalars().all()
    assert versions == [m.version for m in MIGRATIONS]
    again.close()


def test_bulk_insert_and_rollback(wh: Warehouse) -> None:
    person = schema.CDM["person"]
    rows = [
        {
            "person_id": i,
            "gender_concept_id": 8507,
            "year_of_birth": 1950 + i,
            "race_concept_id": 0,
            "ethnicity_concept_id": 0,
            "month_of_birth": None,
        }
        for i in range(1, 501)
    ]
    with wh.begin() as conn:
        assert wh.insert_rows(conn, person, rows) == 500
    with pytest.raises(RuntimeError), wh.begin() as conn:
        wh.insert_rows(conn, person, [dict(rows[0], person_id=9999)])
        raise RuntimeError("crash inside the transaction")
    with wh.engine.connect() as conn:
        ids = conn.execute(select(person.c.person_id).order_by(person.c.person_id)).scalars().all()
        year = conn.execute(select(person.c.year_of_birth).where(person.c.person_id == 10)).scalar()
    assert ids == list(range(1, 501))
    assert year == 1960


def test_note_nlp_offset_column_is_quoted_everywhere(wh: Warehouse) -> None:
    # "offset" is a reserved word in SQL: the portable layer must quote it on both engines.
    nlp = schema.CDM["note_nlp"]
    row = {
        "note_nlp_id": 1,
        "note_id": 1,
        "offset": "3-9",
        "lexical_variant": "fièvre",
        "nlp_date": date.today(),
    }
    with wh.begin() as conn:
        wh.insert_rows(conn, nlp, [row])
        assert conn.execute(select(nlp.c.offset)).scalar() == "3-9"


def test_unreachable_warehouse_is_a_clear_error() -> None:
    with pytest.raises(WarehouseError, match="Entrepôt inaccessible") as info:
        Warehouse("postgresql+psycopg2://nobody:secret@127.0.0.1:1/none")
    assert "secret" not in str(info.value)  # the password is never printed


def test_default_warehouse_is_embedded_duckdb(hopia_home) -> None:
    wh = open_warehouse(get_settings())
    assert wh.dialect == "duckdb"
    assert (hopia_home / "warehouse.duckdb").exists()
    wh.close()


def test_postgres_writers_are_serialised() -> None:
    """A second writer waits for the first one's transaction (ids come from the maximum)."""
    import threading
    import time

    with postgres_url() as url:
        first, second = Warehouse(url), Warehouse(url)
        order: list[str] = []

        def late_writer() -> None:
            with second.begin():
                order.append("second")

        with first.begin():
            thread = threading.Thread(target=late_writer)
            thread.start()
            time.sleep(0.5)
            order.append("first")
        thread.join(timeout=10)
        assert order == ["first", "second"]
        first.close()
        second.close()


def test_cdm_floats_keep_double_precision(wh: Warehouse) -> None:
    m = schema.CDM["measurement"]
    row = {
        "measurement_id": 1,
        "person_id": 1,
        "measurement_concept_id": 0,
        "measurement_date": date(2024, 1, 1),
        "measurement_type_concept_id": 32858,
        "value_as_number": 0.1,
    }
    with wh.begin() as conn:
        wh.insert_rows(conn, m, [row, dict(row, measurement_id=2, value_as_number=16777217.0)])
        values = conn.execute(select(m.c.value_as_number).order_by(m.c.measurement_id)).scalars()
        assert list(values) == [0.1, 16777217.0]


def test_migration_3_retypes_an_older_warehouse(wh: Warehouse) -> None:
    """A warehouse created before migration 3 (REAL floats, bounded identity columns)."""
    with wh.begin() as conn:
        conn.execute(text('ALTER TABLE omop."measurement" ALTER COLUMN value_as_number TYPE REAL'))
        conn.execute(text('ALTER TABLE hopia_id."patient" ALTER COLUMN zip TYPE VARCHAR(10)'))
        conn.execute(
            schema.schema_migrations.delete().where(schema.schema_migrations.c.version >= 3)
        )
    Warehouse(wh.url).close()  # reopening applies migration 3 (and the later ones) again
    m = schema.CDM["measurement"]
    with wh.begin() as conn:
        assert current_version(conn) == MIGRATIONS[-1].version
        row = {
            "measurement_id": 1,
            "person_id": 1,
            "measurement_concept_id": 0,
            "measurement_date": date(2024, 1, 1),
            "measurement_type_concept_id": 0,
            "value_as_number": 0.1,
        }
        wh.insert_rows(conn, m, [row])
        assert conn.execute(select(m.c.value_as_number)).scalar() == 0.1
        conn.execute(
            schema.patient.insert().values(
                patient_id=1,
                ipp="1",
                person_id=1,
                zip="35000 CEDEX 9 - BP 1234",
                updated_at=datetime.now(),
            )
        )


def _indexes(wh: Warehouse) -> set[tuple[str, str, tuple[str, ...]]]:
    """The ``ix_`` indexes of the tables READ_INDEXES names (not the unique constraints')."""
    tables = {(m[1], m[2]) for m in READ_INDEXES}
    scale = {m[0] for m in SCALE_INDEXES}  # migration 17's, on some of the same tables
    found = set()
    if wh.dialect == "duckdb":  # duckdb_engine's inspector lists no index: ask the catalogue
        with wh.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT index_name, schema_name, table_name, expressions FROM duckdb_indexes()"
                )
            ).all()
        for name, schema_name, table, expressions in rows:
            if (schema_name, table) in tables and name.startswith("ix_") and name not in scale:
                found.add((name, table, tuple(expressions.strip("[]").split(", "))))
        return found
    for schema_name, table in tables:
        for index in inspect(wh.engine).get_indexes(table, schema=schema_name):
            if index["name"].startswith("ix_") and index["name"] not in scale:
                found.add((index["name"], table, tuple(index["column_names"])))
    return found


def test_migration_12_indexes_what_the_reads_filter_on(wh: Warehouse) -> None:
    """PostgreSQL gets the read indexes; DuckDB none (its zone maps answer as fast:
    docs/benchmarks.md). Applied again (a warehouse that recorded 11 only, or one
    where an operator made them by hand), it changes nothing."""
    expected = {(name, table, (column,)) for name, _, table, column in READ_INDEXES}
    assert _indexes(wh) == (expected if wh.dialect == "postgresql" else set())
    with wh.begin() as conn:
        conn.execute(
            schema.schema_migrations.delete().where(schema.schema_migrations.c.version == 12)
        )
    Warehouse(wh.url).close()  # reopening applies migration 12 again: IF NOT EXISTS
    assert _indexes(wh) == (expected if wh.dialect == "postgresql" else set())
    with wh.engine.connect() as conn:
        assert current_version(conn) == MIGRATIONS[-1].version


def _scale_indexes(wh: Warehouse) -> set[str]:
    if wh.dialect != "postgresql":
        return set()
    with wh.engine.connect() as conn:
        return set(
            conn.execute(
                text("SELECT indexname FROM pg_indexes WHERE schemaname = 'omop'")
            ).scalars()
        ) & {m[0] for m in SCALE_INDEXES}


def test_migration_17_indexes_the_cohort_criteria(wh: Warehouse) -> None:
    """PostgreSQL gets the drug and the trigram indexes (pg_trgm is in the server's contrib
    here); DuckDB none. Applied again, it changes nothing."""
    expected = {m[0] for m in SCALE_INDEXES} if wh.dialect == "postgresql" else set()
    assert _scale_indexes(wh) == expected
    with wh.begin() as conn:
        conn.execute(
            schema.schema_migrations.delete().where(schema.schema_migrations.c.version == 17)
        )
    Warehouse(wh.url).close()  # applied again: IF NOT EXISTS
    assert _scale_indexes(wh) == expected
    with wh.engine.connect() as conn:
        assert current_version(conn) == MIGRATIONS[-1].version


def test_migration_16_adds_whether_an_llm_call_ended(wh: Warehouse) -> None:
    """A warehouse made before migration 16 gets the column, its rows NULL; one made since
    (the column created with the table) is left as it is."""
    usage = {
        "usage_id": 1, "at": datetime(2026, 12, 7), "username": "u", "user_group": "g",
        "backend": "b", "model": "m", "task": "chat", "prompt_tokens": 1,
        "completion_tokens": 1, "energy_wh": 0.0, "co2e_g": 0.0, "cost_eur": 0.0,
        "seconds": 0.1, "guarded": False,
    }  # fmt: skip
    with wh.begin() as conn:
        conn.execute(text("ALTER TABLE hopia_meta.llm_usage DROP COLUMN ended"))
        conn.execute(schema.llm_usage.insert().values(**usage))
        conn.execute(
            schema.schema_migrations.delete().where(schema.schema_migrations.c.version == 16)
        )
    for _ in range(2):  # applied, then applied again on a warehouse that has the column
        Warehouse(wh.url).close()
        with wh.engine.connect() as conn:
            assert current_version(conn) == MIGRATIONS[-1].version
            ended = conn.execute(select(schema.llm_usage.c.ended)).scalars().all()
        assert ended == [None]
        with wh.begin() as conn:
            conn.execute(
                schema.schema_migrations.delete().where(schema.schema_migrations.c.version == 16)
            )
    Warehouse(wh.url).close()


@pytest.mark.postgres
def test_the_document_view_reads_use_the_indexes() -> None:
    """The planner takes them for the document view's reads (not a scan of note_nlp)."""
    with postgres_url() as url:
        wh = Warehouse(url)
        try:
            nlp = schema.CDM["note_nlp"]
            rows = [
                {
                    "note_nlp_id": i,
                    "note_id": i // 10,
                    "lexical_variant": "x",
                    "nlp_date": date(2024, 1, 1),
                }
                for i in range(1, 20001)
            ]
            with wh.begin() as conn:
                wh.insert_rows(conn, nlp, rows)
                conn.execute(text("ANALYZE omop.note_nlp"))
                plan = "\n".join(
                    conn.execute(
                        text("EXPLAIN SELECT * FROM omop.note_nlp WHERE note_id = 42")
                    ).scalars()
                )
            assert "ix_note_nlp_note_id" in plan and "Seq Scan" not in plan
        finally:
            wh.close()


def test_statements_are_compiled_once_and_still_bind_their_values(wh: Warehouse) -> None:
    """The compiled statement cache is on for both engines (duckdb_engine does not declare
    it): the second run of a statement reuses its compiled form, with the new values."""
    from sqlalchemy.engine.default import CacheStats

    person = schema.CDM["person"]
    rows = [
        {
            "person_id": i,
            "gender_concept_id": 8507,
            "year_of_birth": 1950 + i,
            "race_concept_id": 0,
            "ethnicity_concept_id": 0,
        }
        for i in (1, 2)
    ]
    with wh.begin() as conn:
        wh.insert_rows(conn, person, rows)
    hits = []
    with wh.engine.connect() as conn:
        for i in (1, 2, 1):
            result = conn.execute(select(person.c.year_of_birth).where(person.c.person_id == i))
            assert result.scalar_one() == 1950 + i
            hits.append(result.context.cache_hit)
    assert hits[1:] == [CacheStats.CACHE_HIT] * 2

"""Versioned schema migrations. Append a new ``Migration``; never edit an applied one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, text

from hopia.platform.warehouse import schema as s


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _initial(conn: Connection) -> None:
    tables = [t for t in s.metadata.sorted_tables if t is not s.schema_migrations]
    s.metadata.create_all(conn, tables=tables)


MIGRATIONS: list[Migration] = [
    Migration(1, "OMOP CDM 5.4, provenance, identified space", _initial),
]


def current_version(conn: Connection) -> int:
    conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {s.META}"))
    s.schema_migrations.create(conn, checkfirst=True)
    versions = conn.execute(select(s.schema_migrations.c.version)).scalars().all()
    return max(versions, default=0)


def migrate(conn: Connection) -> list[Migration]:
    """Apply pending migrations in order, inside the caller's transaction."""
    for name in (s.OMOP, s.IDENTIFIED, s.META):
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {name}"))
    done = current_version(conn)
    applied = []
    for migration in MIGRATIONS:
        if migration.version <= done:
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

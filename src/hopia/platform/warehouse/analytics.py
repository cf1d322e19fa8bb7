"""Session settings for the warehouse's analytical reads (cohorts, quality checks)."""

from __future__ import annotations

from sqlalchemy import Connection, text


def for_analytics(conn: Connection) -> None:
    """On PostgreSQL, no JIT compilation for the rest of the current transaction (``SET
    LOCAL``: the pooled connection gets the server's setting back at its end).

    PostgreSQL compiles a statement whose estimated cost passes ``jit_above_cost`` (100,000),
    and inlines and optimises it past 500,000: at 1 M persons every cohort statement and every
    quality check over a fact table does. Measured on a 2-core VM (docs/benchmarks.md, issue
    16), compiling took 6.3 s of the three-criteria cohort's 13.3 s and gained nothing back:
    these statements spend their time reading and hashing rows, not evaluating expressions.
    DuckDB: nothing to do."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL jit = off"))

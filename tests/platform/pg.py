"""A throw-away PostgreSQL database on the local server, or a skip saying why."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from hopia.platform.warehouse import Warehouse

PG_HOST = os.environ.get("HOPIA_TEST_PG_HOST", "127.0.0.1")
PG_USER = os.environ.get("HOPIA_TEST_PG_USER", "postgres")


@contextmanager
def postgres_url() -> Iterator[str]:
    import psycopg2

    try:
        admin = psycopg2.connect(
            host=PG_HOST, port=5432, user=PG_USER, dbname="postgres", connect_timeout=3
        )
    except psycopg2.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server answers on {PG_HOST}:5432 ({exc.__class__.__name__})")
    admin.autocommit = True
    name = f"hopia_test_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:5432/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@contextmanager
def engine_warehouse(engine: str, folder: Path) -> Iterator[Warehouse]:
    """A fresh warehouse on ``engine`` ("duckdb", or PostgreSQL for anything else: a throw-away
    database, or a skip when no server answers), closed afterwards."""
    from hopia.platform.warehouse import Warehouse

    if engine == "duckdb":
        wh = Warehouse(f"duckdb:///{folder / 'w.duckdb'}")
        yield wh
        wh.close()
        return
    with postgres_url() as url:
        wh = Warehouse(url)
        yield wh
        wh.close()

"""The 40-patient warehouse, on DuckDB and (when a server answers) PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hopia.platform.warehouse import Warehouse
from tests.conftest import ENGINES
from tests.data.sharing.warehouse import fill
from tests.platform.pg import engine_warehouse


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[Warehouse]:
    warehouse = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    fill(warehouse)
    yield warehouse
    warehouse.close()


@pytest.fixture(params=ENGINES)
def any_wh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    with engine_warehouse(request.param, tmp_path) as warehouse:
        fill(warehouse)
        yield warehouse

"""The synthetic hospital of :mod:`.data` in a warehouse, once per module, on DuckDB and on
PostgreSQL (skipped when no server answers)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from hopia.platform.warehouse import Warehouse
from tests.conftest import ENGINES
from tests.management.steering import data
from tests.platform.pg import engine_warehouse


@pytest.fixture(scope="session")
def hospital() -> dict[str, pd.DataFrame]:
    return data.frames()


@pytest.fixture(scope="module", params=ENGINES)
def hospital_wh(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    hospital: dict[str, pd.DataFrame],
) -> Iterator[Warehouse]:
    with engine_warehouse(request.param, tmp_path_factory.mktemp("hospital")) as wh:
        data.fill(wh, hospital)
        yield wh

"""Warehouse service: figures and OMOP loading behind the access policy; the load's options are
request fields (the remedy of a refused reload names ``replace``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hopia.platform.config import Settings
from hopia.platform.exceptions import (
    AccessDeniedError,
    InvalidRequestError,
    NotFoundError,
    OmopLoadError,
)
from hopia.services import warehouse
from hopia.services.context import Context
from tests.services.contexts import researcher

PERSON = "person_id,gender_concept_id,year_of_birth,race_concept_id,ethnicity_concept_id\n"


def omop_folder(folder: Path, year: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "PERSON.csv").write_text(f"{PERSON}1,8532,{year},0,0\n", encoding="utf-8")
    return folder


def test_reading_never_creates_a_warehouse(tmp_path: Path) -> None:
    home = tmp_path / "h"
    with Context.local(Settings(home=home)) as ctx, pytest.raises(NotFoundError) as e:
        warehouse.stats(ctx)
    assert f"aucun entrepôt à {(home / 'warehouse.duckdb').resolve()}" in e.value.message
    assert "hopia init" in e.value.message and "--" not in e.value.message
    assert not (home / "warehouse.duckdb").exists()
    assert warehouse.duckdb_file("postgresql+psycopg2://h@db/x") is None
    assert warehouse.duckdb_file("duckdb:///:memory:") is None


def test_stats_and_load(tmp_path: Path) -> None:
    with Context.local(Settings(home=tmp_path / "h")) as ctx:
        request = warehouse.LoadOmopRequest.of(path=omop_folder(tmp_path / "a", 1970))
        assert warehouse.load_omop(ctx, request).loaded == {"person": 1}
        assert warehouse.stats(ctx).tables["omop.person"] == 1
        again = warehouse.load_omop(ctx, request)
        assert again.loaded == {} and "déjà chargé" in next(iter(again.skipped.values()))
        changed = omop_folder(tmp_path / "b", 1971)
        with pytest.raises(OmopLoadError) as e:
            warehouse.load_omop(ctx, warehouse.LoadOmopRequest.of(path=changed))
        assert e.value.fields == ("replace",)
        replaced = warehouse.load_omop(
            ctx, warehouse.LoadOmopRequest.of(path=changed, replace=True)
        )
        assert replaced.loaded == {"person": 1}


def test_bad_requests_and_the_policy(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError) as e:
        warehouse.LoadOmopRequest.of(path=tmp_path, replace="peut-être")
    assert e.value.fields == ("replace",)
    ctx = researcher(Settings(home=tmp_path / "h"))
    with pytest.raises(AccessDeniedError, match="warehouse.stats"):
        warehouse.stats(ctx)
    with pytest.raises(AccessDeniedError, match="warehouse.load_omop"):
        warehouse.load_omop(ctx, warehouse.LoadOmopRequest.of(path=tmp_path))
    assert ctx._warehouse is None and not (tmp_path / "h").exists()

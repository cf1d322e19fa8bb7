"""Synthea27Nj (28 persons, SNOMED/RxNorm/LOINC, no address): the figures quoted in
docs/sharing.md."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from hopia.data.omop.load_csv import load_omop
from hopia.data.sharing import Selection, ShareOptions, check, export
from hopia.data.sharing.export_omop import read_omop
from hopia.platform.exceptions import ShareRefusedError
from hopia.platform.warehouse import Warehouse, schema
from tests.conftest import shared_path

pytestmark = [pytest.mark.shared, pytest.mark.slow]  # loading Synthea27Nj: ~15 s
REFERENCE = date(2025, 6, 30)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Loaded once (the vocabulary takes a minute), copied for each test."""
    path = tmp_path_factory.mktemp("synthea") / "w.duckdb"
    wh = Warehouse(f"duckdb:///{path}")
    load_omop(wh, shared_path("omop", "Synthea27Nj_5.4.zip"))
    wh.close()
    return path


@pytest.fixture
def synthea(loaded: Path, tmp_path: Path) -> Warehouse:
    shutil.copy(loaded, tmp_path / "w.duckdb")
    return Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")


def everyone(wh: Warehouse) -> Selection:
    with wh.engine.connect() as conn:
        ids = list(conn.execute(select(schema.CDM["person"].c.person_id)).scalars())
    return Selection(ids, "persons:synthea", {"kind": "persons"})


def test_k5_is_refused_because_of_age(synthea: Warehouse) -> None:
    with pytest.raises(ShareRefusedError) as caught:
        check(synthea, everyone(synthea), ShareOptions(reference_date=REFERENCE))
    report = caught.value.report
    assert report.persons == 28 and report.blocking == "age"
    assert report.after.k == 1 and report.after.classes == 13
    synthea.close()


def test_k2_export_with_suppression(synthea: Warehouse, tmp_path: Path) -> None:
    settings = ShareOptions(k=2, l=1, max_suppression=0.15, reference_date=REFERENCE)
    result = export(
        synthea,
        everyone(synthea),
        tmp_path / "out",
        "omop-parquet",
        reason="documentation example, Synthea27Nj",
        secret=b"synthea-test-secret-000000000000",
        options=settings,
    )
    synthea.close()
    assert result.report.suppressed_persons == 3 and result.manifest["persons"] == 25
    assert result.report.levels["age"] == 2
    tables = read_omop(result.folder, "omop-parquet")
    assert len(tables["person"]) == 25
    assert not set(tables["person"]["person_id"]) & set(range(1, 29))
    # SNOMED codes held by fewer than two persons are suppressed, the others kept as codes
    codes = tables["condition_occurrence"]["condition_source_value"]
    assert codes.notna().all() and codes.str.fullmatch(r"\d+").all()
    assert tables["person"]["race_concept_id"].eq(0).all()

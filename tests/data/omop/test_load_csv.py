# ruff: noqa: E501  (CSV fixtures are clearer on one line per row)
"""`load_omop`: folder or zip, all-or-nothing, idempotent, collisions refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hopia.data.omop.load_csv import load_omop
from hopia.platform.exceptions import OmopLoadError
from hopia.platform.warehouse import Warehouse, schema
from tests.conftest import shared_path

PERSON = """person_id,gender_concept_id,year_of_birth,month_of_birth,day_of_birth,birth_datetime,race_concept_id,ethnicity_concept_id,person_source_value
1,8507,1954,3,12,1954-03-12 00:00:00,0,0,a
2,8532,1987,,,,0,0,b
"""
VISIT = """visit_occurrence_id,person_id,visit_concept_id,visit_start_date,visit_end_date,visit_type_concept_id
10,1,9201,2024-01-02,2024-01-09,32817
11,2,9202,2024-02-03,2024-02-03,32817
"""
RELATIONSHIP = """concept_id_1,concept_id_2,relationship_id,valid_start_date,valid_end_date,invalid_reason
1,2,Maps to,1970-01-01,2099-12-31,
"""


def _write_set(folder: Path, person: str = PERSON) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "PERSON.csv").write_text(person, encoding="utf-8")
    (folder / "visit_occurrence.csv").write_text(VISIT, encoding="utf-8")
    (folder / "CONCEPT_RELATIONSHIP.csv").write_text(RELATIONSHIP, encoding="utf-8")
    (folder / "README.csv").write_text("not,a,cdm,table\n", encoding="utf-8")
    return folder


def _count(wh: Warehouse, table: str) -> int:
    with wh.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.CDM[table])).scalar()


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    return Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")


def test_load_folder_then_reload_adds_nothing(wh: Warehouse, tmp_path: Path) -> None:
    folder = _write_set(tmp_path / "set")
    report = load_omop(wh, folder)
    assert report.loaded == {"person": 2, "visit_occurrence": 2, "concept_relationship": 1}
    assert report.skipped == {"README.csv": "table hors CDM 5.4"}
    again = load_omop(wh, folder)
    assert again.loaded == {}
    assert _count(wh, "person") == 2 and _count(wh, "concept_relationship") == 1
    with wh.engine.connect() as conn:
        person = schema.CDM["person"]
        row = conn.execute(select(person).where(person.c.person_id == 2)).mappings().one()
    assert row["year_of_birth"] == 1987 and row["month_of_birth"] is None


def test_load_zip(wh: Warehouse, tmp_path: Path) -> None:
    folder = _write_set(tmp_path / "set")
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in folder.iterdir():
            z.write(f, f"cdm/{f.name}")
        z.writestr("__MACOSX/cdm/._PERSON.csv", b"\x00\x05binary")
    assert load_omop(wh, archive).loaded["person"] == 2


def test_changed_file_with_colliding_ids_is_refused_then_replaced(
    wh: Warehouse, tmp_path: Path
) -> None:
    load_omop(wh, _write_set(tmp_path / "v1"))
    changed = PERSON.replace("1954,3,12", "1955,3,12")
    with pytest.raises(OmopLoadError, match="person : 2 identifiant"):
        load_omop(wh, _write_set(tmp_path / "v2", changed))
    assert _count(wh, "person") == 2
    load_omop(wh, _write_set(tmp_path / "v2", changed), replace=True)
    with wh.engine.connect() as conn:
        person = schema.CDM["person"]
        year = conn.execute(select(person.c.year_of_birth).where(person.c.person_id == 1)).scalar()
    assert year == 1955 and _count(wh, "person") == 2


def test_bad_value_writes_nothing(wh: Warehouse, tmp_path: Path) -> None:
    folder = _write_set(tmp_path / "bad", PERSON.replace("1987", "dix-neuf"))
    with pytest.raises(OmopLoadError, match="PERSON.csv : colonne year_of_birth"):
        load_omop(wh, folder)
    # visit_occurrence.csv sorts after PERSON.csv but CONCEPT_RELATIONSHIP before: all rolled back.
    assert _count(wh, "concept_relationship") == 0 and _count(wh, "person") == 0


def test_unknown_column_and_bad_inputs(wh: Warehouse, tmp_path: Path) -> None:
    folder = _write_set(tmp_path / "cols", PERSON.replace("person_source_value", "nom_patient"))
    with pytest.raises(OmopLoadError, match="colonnes inconnues de person"):
        load_omop(wh, folder)
    with pytest.raises(OmopLoadError, match="introuvable"):
        load_omop(wh, tmp_path / "missing")
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"\x89PNG not a zip")
    with pytest.raises(OmopLoadError, match="ni dossier ni archive zip"):
        load_omop(wh, garbage)
    (tmp_path / "empty").mkdir()
    with pytest.raises(OmopLoadError, match="aucun fichier CSV"):
        load_omop(wh, tmp_path / "empty")


def test_latin1_csv_is_refused_with_its_name(wh: Warehouse, tmp_path: Path) -> None:
    folder = _write_set(tmp_path / "latin1")
    (folder / "PERSON.csv").write_bytes(PERSON.replace(",a\n", ",é\n").encode("latin-1"))
    with pytest.raises(OmopLoadError, match="PERSON.csv : encodage non UTF-8"):
        load_omop(wh, folder)


@pytest.mark.shared
@pytest.mark.slow  # the whole vocabulary: ~13 s
def test_synthea27nj_loads_completely(wh: Warehouse) -> None:
    report = load_omop(wh, shared_path("omop", "Synthea27Nj_5.4.zip"))
    assert report.loaded["person"] == 28
    assert report.loaded["visit_occurrence"] == 1791
    assert report.loaded["measurement"] == 10040
    assert _count(wh, "concept_relationship") > 200_000
    assert load_omop(wh, shared_path("omop", "Synthea27Nj_5.4.zip")).loaded == {}


def test_vocabulary_rows_are_replaced_by_a_newer_release(wh: Warehouse, tmp_path: Path) -> None:
    from hopia.data.omop.concepts import ConceptResolver

    with wh.begin() as conn:
        ConceptResolver(wh).ensure_standard(conn)  # Hopia's seed: 8507 MALE
    folder = tmp_path / "vocab"
    folder.mkdir()
    (folder / "CONCEPT.csv").write_text(
        "concept_id,concept_name,domain_id,vocabulary_id,concept_class_id,standard_concept,"
        "concept_code,valid_start_date,valid_end_date,invalid_reason\n"
        "8507,MALE,Gender,Gender,Gender,S,M,1970-01-01,2099-12-31,\n",
        encoding="utf-8",
    )
    load_omop(wh, folder)
    concept = schema.CDM["concept"]
    with wh.engine.connect() as conn:
        code = conn.execute(
            select(concept.c.concept_code).where(concept.c.concept_id == 8507)
        ).scalar()
    assert code == "M"


def test_new_vocabulary_release_replaces_keyless_rows(wh: Warehouse, tmp_path: Path) -> None:
    load_omop(wh, _write_set(tmp_path / "v1"))
    folder = _write_set(tmp_path / "v2")
    (folder / "CONCEPT_RELATIONSHIP.csv").write_text(
        RELATIONSHIP.replace("2099-12-31,", "2020-01-01,D"), encoding="utf-8"
    )
    (folder / "PERSON.csv").unlink()
    (folder / "visit_occurrence.csv").unlink()
    load_omop(wh, folder)
    rel = schema.CDM["concept_relationship"]
    with wh.engine.connect() as conn:
        rows = conn.execute(select(rel.c.invalid_reason)).scalars().all()
    assert rows == ["D"]


def test_required_column_missing_or_empty(wh: Warehouse, tmp_path: Path) -> None:
    folder = _write_set(tmp_path / "req", PERSON.replace(",1987,", ",,"))
    with pytest.raises(OmopLoadError, match="colonne obligatoire year_of_birth vide sur 1"):
        load_omop(wh, folder)
    folder = _write_set(tmp_path / "req2", PERSON.replace("gender_concept_id,", "genre,"))
    with pytest.raises(OmopLoadError, match="colonnes"):
        load_omop(wh, folder)


def test_person_ids_reserved_by_ingest_are_refused(wh: Warehouse, tmp_path: Path) -> None:
    from datetime import datetime

    with wh.begin() as conn:
        conn.execute(
            schema.patient.insert().values(
                patient_id=1, ipp="555", person_id=2, updated_at=datetime.now()
            )
        )
    with pytest.raises(OmopLoadError, match="réservé"):
        load_omop(wh, _write_set(tmp_path / "set"))

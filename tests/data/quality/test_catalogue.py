"""The catalogue: 27 DQD check types, generated from our schema, derived from DQD's files."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from hopia.data.quality import load_catalogue
from hopia.data.quality.catalogue import default_folder
from hopia.data.quality.checks import BUILDERS, REFLECTED
from hopia.data.quality.derive import derive
from hopia.platform.exceptions import CatalogueError
from hopia.platform.warehouse import schema
from tests.conftest import shared_path


def test_catalogue_covers_the_27_dqd_check_types() -> None:
    catalogue = load_catalogue()
    assert len(catalogue.types) == 27
    assert set(catalogue.types) == set(BUILDERS.names()) | set(REFLECTED)
    counts = catalogue.count_by_type()
    assert all(counts[name] > 0 for name in catalogue.types), counts
    assert {k.kahn_category for k in catalogue.types.values()} == {
        "Conformance",
        "Completeness",
        "Plausibility",
    }
    adapted = {k.name for k in catalogue.types.values() if k.coverage == "adapted"}
    assert all(catalogue.types[name].note for name in adapted)


def test_schema_generated_checks_follow_cdm54_fields() -> None:
    checks = {c.check_id: c for c in load_catalogue().checks}
    assert sum(1 for c in checks.values() if c.check_type == "cdmTable") == len(schema.CDM)
    fk = checks["isForeignKey:condition_occurrence.visit_occurrence_id"]
    assert fk.argument == "visit_occurrence.visit_occurrence_id"
    assert checks["measureValueCompleteness:person.year_of_birth"].threshold == 0
    assert checks["measureValueCompleteness:person.birth_datetime"].threshold == 100
    assert "isRequired:person.birth_datetime" not in checks
    assert "cdmDatatype:person.person_source_value" not in checks  # varchar: not checked


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "catalogue"
    shutil.copytree(default_folder(), folder)
    return folder


def test_a_broken_catalogue_names_its_file_and_line(tmp_path) -> None:
    folder = _copy(tmp_path)
    field_file = folder / "dqd_field_level.csv"
    lines = field_file.read_text(encoding="utf-8").splitlines()
    lines[3] = "plausibleValueLow,person,no_such_column,1,1850"
    field_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"dqd_field_level\.csv:4 .*person\.no_such_column"):
        load_catalogue(folder)

    folder = _copy(tmp_path / "b")
    concept_file = folder / "dqd_concept_level.csv"
    text = concept_file.read_text(encoding="utf-8").replace(",5,Male\n", ",5,Homme\n", 1)
    concept_file.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError, match="sexe attendu Male ou Female"):
        load_catalogue(folder)

    folder = _copy(tmp_path / "c")
    (folder / "hopia_checks.yaml").write_text("sex_specific_codes: [\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="hopia_checks.yaml : YAML illisible"):
        load_catalogue(folder)


def test_selection_refuses_unknown_names() -> None:
    catalogue = load_catalogue()
    with pytest.raises(CatalogueError, match="type de contrôle inconnu : isFoo"):
        catalogue.select(check_types=["isFoo"])
    with pytest.raises(CatalogueError, match="table inconnue"):
        catalogue.select(tables=["patients"])
    only = catalogue.select(tables=["death"], check_types=["plausibleAfterBirth"])
    assert [c.check_id for c in only.checks] == [
        "plausibleAfterBirth:death.death_date",
        "plausibleAfterBirth:death.death_datetime",
    ]


# -- against the DQD files themselves (../shared) ------------------------------------------------


@pytest.mark.shared
def test_shipped_files_are_derived_from_dqd() -> None:
    dqd = shared_path("omop", "dqd")
    for name, text in derive(dqd).items():
        assert (default_folder() / name).read_text(encoding="utf-8") == text, name


@pytest.mark.shared
def test_kahn_classification_and_severity_match_dqd() -> None:
    path = shared_path("omop", "dqd", "OMOP_CDMv5.4_Check_Descriptions.csv")
    with path.open(encoding="utf-8") as fh:
        rows = {row["checkName"]: row for row in csv.DictReader(fh)}
    types = load_catalogue().types
    assert set(rows) == set(types)
    for name, row in rows.items():
        kind = types[name]
        assert kind.level.value == row["checkLevel"], name
        assert (kind.kahn_context, kind.kahn_category) == (row["kahnContext"], row["kahnCategory"])
        assert (kind.kahn_subcategory or "") == row["kahnSubcategory"], name
        assert kind.severity == row["severity"], name


@pytest.mark.shared
def test_schema_generated_checks_match_dqd_field_flags() -> None:
    path = shared_path("omop", "dqd", "OMOP_CDMv5.4_Field_Level.csv")
    with path.open(encoding="utf-8") as fh:
        dqd = list(csv.DictReader(fh))
    ours = {c.check_id: c for c in load_catalogue().checks if c.origin == "schema"}
    for row in dqd:
        key = f"{row['cdmTableName'].lower()}.{row['cdmFieldName'].lower()}"
        for check in ("isRequired", "isPrimaryKey", "isForeignKey"):
            assert (f"{check}:{key}" in ours) == (row[check] == "Yes"), (check, key)
        assert (f"cdmDatatype:{key}" in ours) == (row["cdmDatatype"].lower() == "integer"), key
        threshold = ours[f"measureValueCompleteness:{key}"].threshold
        assert threshold == float(row["measureValueCompletenessThreshold"]), key

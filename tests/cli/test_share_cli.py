"""``hopia share check`` and ``hopia share export`` end to end on the 40-patient warehouse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hopia.cli.main import app
from hopia.platform.warehouse import Warehouse, schema
from tests.data.sharing.warehouse import IDS, fill

runner = CliRunner()
REASON = "étude ICARE, convention 2025-014"


@pytest.fixture
def warehouse(hopia_home: Path) -> Path:
    """The configured warehouse (HOPIA_HOME), filled; returns a folder for inputs."""
    wh = Warehouse(f"duckdb:///{(hopia_home / 'warehouse.duckdb').resolve()}")
    fill(wh)
    wh.close()
    return hopia_home


def persons_file(folder: Path, ids: list[int]) -> Path:
    path = folder / "persons.txt"
    path.write_text("# cohorte ICARE\n" + "\n".join(map(str, ids)) + "\n", encoding="utf-8")
    return path


def audit_actions(home: Path) -> list[str]:
    wh = Warehouse(f"duckdb:///{(home / 'warehouse.duckdb').resolve()}")
    with wh.engine.connect() as conn:
        actions = list(conn.execute(select(schema.audit_log.c.action)).scalars())
    wh.close()
    return actions


def test_check_prints_the_report(warehouse: Path) -> None:
    path = persons_file(warehouse, IDS)
    result = runner.invoke(
        app,
        [
            "share",
            "check",
            "--persons",
            str(path),
            "--reference-date",
            "2025-06-30",
            "--json",
            str(warehouse / "r.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "k = 5 et l = 2 atteints" in result.output
    assert "tranches de 5 ans" in result.output
    assert json.loads((warehouse / "r.json").read_text("utf-8"))["after"]["k"] == 10
    # A check exports nothing but reads the persons' records: audited, figures only.
    assert audit_actions(warehouse) == ["share.check"]


def test_check_refuses_with_the_blocking_quasi_identifier(warehouse: Path) -> None:
    # eight women and two men: the two men cannot hide among five
    path = persons_file(warehouse, IDS[:8] + IDS[10:12])
    result = runner.invoke(
        app, ["share", "check", "--persons", str(path), "--reference-date", "2025-06-30"]
    )
    assert result.exit_code == 1
    assert "k = 5 inatteignable" in result.output
    assert "Quasi-identifiant bloquant : sexe" in result.output


def test_export_requires_a_reason(warehouse: Path) -> None:
    path = persons_file(warehouse, IDS)
    out = warehouse / "out"
    result = runner.invoke(
        app, ["share", "export", "--persons", str(path), "--out", str(out), "--format", "fhir"]
    )
    assert result.exit_code == 2
    assert "motif obligatoire" in result.output
    assert not out.exists() and audit_actions(warehouse) == ["access.refused"]


def test_export_from_a_cohort_definition(warehouse: Path) -> None:
    definition = warehouse / "adults.yaml"
    definition.write_text(
        "format: 1\nname: adultes\nversion: '1'\ntitle: Adultes\n"
        "inclusion:\n  - demographics: {age_min: 18}\n",
        encoding="utf-8",
    )
    out = warehouse / "out"
    result = runner.invoke(
        app,
        [
            "share",
            "export",
            "--cohort",
            str(definition),
            "--out",
            str(out),
            "--format",
            "omop-parquet",
            "--reason",
            REASON,
            "--reference-date",
            "2025-06-30",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["source"]["kind"] == "cohort" and manifest["source"]["name"] == "adultes"
    assert manifest["persons"] == 40
    assert (out / "person.parquet").exists()
    assert audit_actions(warehouse) == ["share.export"]


def test_export_refused_writes_nothing(warehouse: Path) -> None:
    path = persons_file(warehouse, IDS[:8] + IDS[10:12])
    out = warehouse / "out"
    result = runner.invoke(
        app,
        [
            "share",
            "export",
            "--persons",
            str(path),
            "--out",
            str(out),
            "--format",
            "omop-csv",
            "--reason",
            REASON,
            "--reference-date",
            "2025-06-30",
        ],
    )
    assert result.exit_code == 1  # refused, as `share check` (2: a request to correct)
    assert "Partage refusé" in result.output and "sexe" in result.output
    assert "--drop sexe" in result.output  # the option the refusal points to
    assert not out.exists()
    assert audit_actions(warehouse) == ["share.refused"]


def test_bad_persons_file_names_the_line(warehouse: Path) -> None:
    path = warehouse / "persons.txt"
    path.write_text("person_id\n900001\n", encoding="utf-8")
    result = runner.invoke(app, ["share", "check", "--persons", str(path)])
    assert result.exit_code == 2
    output = result.output.replace("\n", "")  # rich wraps long paths
    assert "persons.txt : ligne 1 : person_id entier attendu" in output

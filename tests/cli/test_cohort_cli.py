"""``hopia cohort``: run a shipped definition on the default warehouse, write JSON and charts,
the audited patient list; bad definitions and missing reasons fail cleanly in French."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hopia.cli.main import app
from hopia.platform.config import get_settings
from hopia.platform.warehouse import open_warehouse, schema
from tests.conftest import REPO
from tests.data.cohorts.warehouse import fill

HEART_FAILURE = REPO / "configs" / "cohorts" / "insuffisance_cardiaque.yaml"
runner = CliRunner()


@pytest.fixture
def warehouse() -> None:
    wh = open_warehouse(get_settings())
    fill(wh)
    wh.close()


def _audit_entries() -> list[tuple[str, str]]:
    wh = open_warehouse(get_settings())
    with wh.engine.connect() as conn:
        rows = conn.execute(select(schema.audit_log.c.action, schema.audit_log.c.target)).all()
    wh.close()
    return [tuple(r) for r in rows]


def test_run_writes_suppressed_json_and_charts(warehouse: None, tmp_path: Path) -> None:
    out = tmp_path / "resultats"
    result = runner.invoke(app, ["cohort", "run", str(HEART_FAILURE), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "Attrition" in result.output and "<10" in result.output
    public = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert public["cohort"]["name"] == "insuffisance_cardiaque"
    assert [s["count"] for s in public["attrition"]][0] == "<10"  # 8 persons in the warehouse
    assert len(public["attrition"]) == 6
    assert public["charts"] == ["attrition.png"]  # too few patients: no description
    assert (out / "attrition.png").read_bytes()[:4] == b"\x89PNG"
    assert not (out / "patients_identifies.csv").exists()
    # The run read the research space: audited, with counts only.
    assert _audit_entries() == [("cohort.run", "cohort:insuffisance_cardiaque@1")]


def test_patients_need_a_reason_then_are_audited(warehouse: None, tmp_path: Path) -> None:
    out = tmp_path / "resultats"
    args = ["cohort", "run", str(HEART_FAILURE), "--output", str(out), "--patients"]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    assert "motif obligatoire" in refused.output
    assert not out.exists()  # refused before anything ran or was written
    ok = runner.invoke(app, [*args, "--reason", "Étude ICARE, avis CPP 24-012"])
    assert ok.exit_code == 0, ok.output
    with (out / "patients_identifies.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    # 1 and 8: adults, furosemide within 90 days, BNP > 400 within 30 (7's is 300; 3 has no
    # diuretic, 6's is from 2022; 4 is a child).
    # The index date comes from the research space, shifted: the column says so.
    assert [(r["ipp"], r["family_name"], r["index_date_decalee"]) for r in rows] == [
        ("IPP0001", "NOM1", "2024-01-10"),
        ("IPP0008", "NOM8", "2024-06-01"),
    ]
    assert (out / "patients_identifies.csv").stat().st_mode & 0o077 == 0
    assert _audit_entries() == [
        ("access.refused", "cohort-definition:insuffisance_cardiaque.yaml"),  # no reason
        ("cohort.run", "cohort:insuffisance_cardiaque@1"),
        ("cohort.patients", "cohort:insuffisance_cardiaque@1"),
    ]
    assert "IPP0001" not in (out / "results.json").read_text(encoding="utf-8")


def test_bad_definition_names_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "mauvaise.yaml"
    bad.write_text("name: x\ntitle: X\ninclusion:\n  - drug: {atc: [C03C]}\n    window: 3\n")
    result = runner.invoke(app, ["cohort", "run", str(bad), "--output", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "mauvaise.yaml" in result.output and "inclusion[0].window" in result.output
    assert not (tmp_path / "o").exists()


def test_check_and_sql(tmp_path: Path) -> None:
    checked = runner.invoke(app, ["cohort", "check", str(HEART_FAILURE)])
    assert checked.exit_code == 0 and "Définition valide" in checked.output
    assert "Diurétique de l'anse" in checked.output
    for dialect in ("duckdb", "postgresql"):
        shown = runner.invoke(app, ["cohort", "sql", str(HEART_FAILURE), "--dialect", dialect])
        assert shown.exit_code == 0, shown.output
        assert "omop.note_nlp" in shown.output and "term_exists = 'Y'" in shown.output
    wrong = runner.invoke(app, ["cohort", "sql", str(HEART_FAILURE), "--dialect", "oracle"])
    assert wrong.exit_code == 2 and "dialecte inconnu" in wrong.output


def test_a_bad_definition_names_the_argument(tmp_path: Path) -> None:
    bad = tmp_path / "cassee.yaml"
    bad.write_text("name: [\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["cohort", "check", str(bad)])
    assert result.exit_code == 2
    # rich wraps the message at the terminal width, which the long temporary path can cross
    output = " ".join(result.output.split())
    assert "YAML invalide" in output and "[option(s) : DEFINITION]" in output
    assert "--definition" not in result.output

"""`hopia quality` as a user runs it: run (reports, history, --strict), catalogue, history."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hopia.cli.main import app
from hopia.platform.config import get_settings
from hopia.platform.warehouse import open_warehouse
from tests.data.quality.builders import plant_defects, seed_clean

runner = CliRunner(env={"COLUMNS": "200"})
TABLES = ["--table", "person", "--table", "death", "--table", "measurement"]


def test_quality_run_writes_reports_and_keeps_history(tmp_path: Path) -> None:
    wh = open_warehouse(get_settings())  # the test's own HOPIA_HOME warehouse
    seed_clean(wh)
    plant_defects(wh)
    wh.close()
    out = tmp_path / "rapports"

    result = runner.invoke(app, ["quality", "run", "--output", str(out), *TABLES])
    assert result.exit_code == 0, result.output
    for text in (
        "Qualité des données",
        "Par catégorie de Kahn",
        "Couverture des 27 types",
        "plausibleGenderUseDescendants",  # every DQD type is listed, run or not
        "Contrôles non conformes",
        "person.year_of_birth",
        "Enrichissement TAL",
    ):
        assert text in result.output, text
    reports = sorted(out.iterdir())
    assert [p.suffix for p in reports] == [".html", ".json"]
    data = json.loads(reports[1].read_text(encoding="utf-8"))
    failed = {r["check_id"] for r in data["results"] if r["status"] == "failed"}
    assert "plausibleAfterBirth:death.death_date" in failed
    assert all(r["table"] in {"person", "death", "measurement"} for r in data["results"])

    strict = runner.invoke(app, ["quality", "run", "--strict", "-o", str(out), *TABLES])
    assert strict.exit_code == 1, strict.output
    assert "Contrôle précédent" in strict.output

    history = runner.invoke(app, ["quality", "history"])
    assert history.exit_code == 0, history.output
    assert "Historique des contrôles" in history.output
    assert [line.split()[1] for line in history.output.splitlines() if line.startswith("│")][
        :2
    ] == ["1", "2"]


def test_quality_run_without_history_on_an_empty_warehouse(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["quality", "run", "-o", str(tmp_path)])
    assert missing.exit_code == 2 and "aucun entrepôt à" in missing.output  # never created
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(
        app,
        ["quality", "run", "--no-history", "--no-enrichment", "--strict", "-o", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output  # nothing fails: everything is "sans objet"
    assert "Enrichissement TAL" not in result.output
    empty = runner.invoke(app, ["quality", "history"])
    assert "Aucun contrôle enregistré" in empty.output


def test_quality_catalogue_and_bad_options() -> None:
    listing = runner.invoke(app, ["quality", "catalogue"])
    assert listing.exit_code == 0, listing.output
    assert "générés du schéma CDM 5.4" in listing.output
    assert sum(1 for line in listing.output.splitlines() if "│ TABLE" in line) == 4
    bad = runner.invoke(app, ["quality", "run", "--check-type", "isFoo"])
    assert bad.exit_code == 2
    assert "type de contrôle inconnu : isFoo" in bad.output

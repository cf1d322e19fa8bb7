"""The `hopia` command as a user runs it: help, ingest, warehouse stats, load-omop, demo."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hopia.cli.main import app
from hopia.platform.config import get_settings
from tests.data.ingest.test_pipeline import write_corpus

runner = CliRunner()


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("synth", "ingest", "nlp", "pseudo", "warehouse", "demo"):
        assert command in result.output


def test_warehouse_stats_never_creates_a_warehouse_and_names_the_one_it_reads(
    hopia_home: Path,
) -> None:
    missing = runner.invoke(app, ["warehouse", "stats"])
    assert missing.exit_code == 2
    assert "aucun entrepôt à" in missing.output and "hopia init" in missing.output
    assert not (hopia_home / "warehouse.duckdb").exists()
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(app, ["warehouse", "stats"])
    assert result.exit_code == 0, result.output
    assert "Documents : 0 intégrés, 0 en erreur" in result.output
    # One line names the warehouse read.
    assert f"Entrepôt : duckdb:///{(hopia_home / 'warehouse.duckdb').resolve()}\n" in result.output


def test_load_omop_reports_and_refuses_garbage(tmp_path: Path) -> None:
    folder = tmp_path / "omop"
    folder.mkdir()
    (folder / "PERSON.csv").write_text(
        "person_id,gender_concept_id,year_of_birth,race_concept_id,ethnicity_concept_id\n"
        "1,8532,1970,0,0\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["warehouse", "load-omop", str(folder)])
    assert result.exit_code == 0, result.output
    assert "person : 1 ligne(s)" in result.output
    again = runner.invoke(app, ["warehouse", "load-omop", str(folder)])
    assert "0 ligne(s) chargée(s)" in again.output and "déjà chargé" in again.output
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip at all")
    refused = runner.invoke(app, ["warehouse", "load-omop", str(bad)])
    assert refused.exit_code == 2
    assert "ni dossier ni archive zip" in refused.output


@pytest.mark.slow
@pytest.mark.usefixtures("in_process_models")
def test_ingest_command_counts_and_exit_code(tmp_path: Path) -> None:
    patients, docs = write_corpus(tmp_path / "in")
    (docs / "scan.pdf").write_bytes(b"%PDF-1.4 truncated")
    result = runner.invoke(app, ["ingest", "--patients", str(patients), str(docs)])
    assert result.exit_code == 1, result.output  # one bad file: reported, the rest ingested
    assert re.search(r"Documents ajoutés\W+4\b", result.output)
    assert "Registre patients : 2 identité(s) chargée(s)." in result.output
    assert "scan.pdf" in result.output
    stats = runner.invoke(app, ["warehouse", "stats"])
    assert "Documents : 4 intégrés, 1 en erreur" in stats.output


@pytest.mark.slow
@pytest.mark.usefixtures("in_process_models")
def test_demo_runs_end_to_end_on_a_small_chu(
    hopia_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOPIA_DEMO_SERVE", "0")  # the summary, not the web server
    result = runner.invoke(app, ["demo", "--patients", "6", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "Comptes de démonstration" in result.output and "Application web" not in result.output
    # The commands it suggests work as printed, on the demo's warehouse (not an empty default).
    assert f"export HOPIA_HOME={hopia_home / 'demo'}" in result.output
    monkeypatch.setenv("HOPIA_HOME", str(hopia_home / "demo"))
    for name in ("HOPIA_SECRET_KEY", "HOPIA_VAULT_KEY"):  # printed as emptied: the demo's own
        monkeypatch.setenv(name, "")
    get_settings.cache_clear()
    stats = runner.invoke(app, ["warehouse", "stats"])
    assert stats.exit_code == 0, stats.output
    # the demo's 6 patients; omop.person also holds the synthetic activity without documents
    # that the demo adds for the management dashboards (hopia.data.synth.activity)
    assert re.search(r"hopia_id\.patient\W+6\b", stats.output)
    persons = re.search(r"omop\.person\W+([\d\s\u202f]+)\b", stats.output)
    assert persons is not None and int(re.sub(r"\D", "", persons.group(1))) > 6
    assert not (hopia_home / "warehouse.duckdb").exists()
    for text in ("Documents intégrés", "Mentions par type", "Pseudonymisé (espace recherche)"):
        assert text in result.output
    patients = [
        json.loads(line)
        for line in (hopia_home / "demo" / "synth" / "patients.jsonl").read_text().splitlines()
    ]
    # The pseudonymised panel of the demo shows none of the patients' surnames.
    pseudo_panel = result.output.split("Pseudonymisé (espace recherche)", 1)[1]
    assert not any(p["family_name"] in pseudo_panel for p in patients)

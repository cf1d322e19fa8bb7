"""``hopia pilotage indicateurs`` and ``hopia beds forecast|backtest`` as a user runs them, on
the synthetic hospital of ``tests/management/steering/data.py``."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hopia.cli.main import app
from hopia.platform.config import get_settings
from hopia.platform.warehouse import open_warehouse
from tests.management.steering import data

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def hospital_home(hopia_home: Path) -> Path:
    wh = open_warehouse(get_settings())  # the test's own HOPIA_HOME warehouse
    data.fill(wh, data.frames())
    wh.close()
    return hopia_home


def test_pilotage_and_beds(hospital_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "pilotage.xlsx"
    result = runner.invoke(
        app,
        ["pilotage", "indicateurs", "--from", "2024-07", "--to", "2025-06", "--output", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "Pilotage du 07/2024 au 06/2025" in result.output
    assert "Unité de sommeil" in result.output and "<10" in result.output
    from openpyxl import load_workbook

    assert len(load_workbook(io.BytesIO(out.read_bytes())).sheetnames) == 9
    csv = tmp_path / "casemix.csv"
    result = runner.invoke(
        app, ["pilotage", "indicateurs", "--site", "1", "--output", str(csv), "--table", "casemix"]
    )
    assert result.exit_code == 0, result.output
    assert csv.read_bytes().decode("utf-8-sig").startswith("chapitre;libellé;Cardiologie;Total")

    beds = tmp_path / "lits.csv"
    result = runner.invoke(
        app,
        [
            "beds",
            "forecast",
            "--site",
            "2",
            "--days",
            "3",
            "--capacity",
            "2=20",
            "--output",
            str(beds),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Besoins en lits à partir du 30/06/2025" in result.output
    lines = beds.read_bytes().decode("utf-8-sig").splitlines()
    assert len(lines) == 4 and lines[1].startswith("Pneumologie;2025-06-30;")
    assert lines[1].split(";")[5] == "20"
    result = runner.invoke(
        app, ["beds", "backtest", "--site", "2", "--days", "7", "--span", "14", "--paths", "100"]
    )
    assert result.exit_code == 0, result.output
    assert "monte-carlo" in result.output and "naïf" in result.output


def test_errors_name_the_options(hospital_home: Path) -> None:
    bad = runner.invoke(app, ["pilotage", "indicateurs", "--from", "2025-13"])
    assert bad.exit_code == 2 and "--from" in bad.output
    order = runner.invoke(app, ["pilotage", "indicateurs", "--from", "2025-06", "--to", "2025-01"])
    assert order.exit_code == 2 and "début de la période" in order.output
    unknown = runner.invoke(app, ["beds", "forecast", "--site", "99"])
    assert unknown.exit_code == 2 and "service inconnu" in unknown.output
    capacity = runner.invoke(app, ["beds", "forecast", "--capacity", "deux=3"])
    assert capacity.exit_code == 2 and "--capacity" in capacity.output


def test_no_warehouse_is_not_created(hopia_home: Path) -> None:
    result = runner.invoke(app, ["pilotage", "indicateurs"])
    assert result.exit_code == 2 and "aucun entrepôt" in result.output
    assert not list(hopia_home.rglob("*.duckdb"))

"""``hopia roster``: example files, solve to CSV and XLSX, read back; the conflicts and exit 1."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from hopia.cli.main import app
from hopia.management.roster import RosterRules, make_problem, violations

runner = CliRunner()


def test_example_then_solve_round_trip(tmp_path: Path) -> None:
    folder = tmp_path / "ex"
    made = runner.invoke(app, ["roster", "example", str(folder), "--nurses", "16", "--weeks", "1"])
    assert made.exit_code == 0, made.output
    assert {p.name for p in folder.iterdir()} == {
        "staff.csv",
        "demand.csv",
        "forecast.csv",
        "rules.yml",
    }
    out = tmp_path / "planning.csv"
    args = [
        "roster",
        "solve",
        "--staff",
        str(folder / "staff.csv"),
        "--demand",
        str(folder / "demand.csv"),
    ]
    args += ["--rules", str(folder / "rules.yml"), "--start", "2026-03-02", "--weeks", "1"]
    args += ["--time-limit", "1.5", "--output", str(out)]
    solved = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert solved.exit_code == 0, solved.output
    assert "Couverture par poste" in solved.output and "Heures, nuits et week-ends" in solved.output
    grid = pd.read_csv(out, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(grid.columns[:3]) == ["infirmier", "nom", "quotité"] and len(grid) == 16
    # read back independently: the grid keeps every rule of the files
    staff = pd.read_csv(
        folder / "staff.csv", sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False
    )
    demand = pd.read_csv(folder / "demand.csv", sep=";", encoding="utf-8-sig")

    p = make_problem(staff, demand, RosterRules(), pd.Timestamp("2026-03-02").date(), 1)
    cells = {
        (row["infirmier"], pd.Timestamp(day).date()): row[day]
        for row in grid.to_dict("records")
        for day in grid.columns[3:]
        if row[day] not in ("", "CA")
    }
    assert cells and violations(p, cells) == []
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "existe déjà" in again.output  # no silent overwrite
    xlsx = tmp_path / "planning.xlsx"
    args[-1] = str(xlsx)
    assert runner.invoke(app, args).exit_code == 0
    sheets = pd.read_excel(io.BytesIO(xlsx.read_bytes()), sheet_name=None)
    assert list(sheets) == ["planning", "couverture", "infirmiers", "souhaits"]


def test_impossible_files_name_the_rule_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "staff.csv").write_text(
        "nurse;name;leave\nA;Mme Arnaud;2026-03-03\n", encoding="utf-8"
    )
    (tmp_path / "demand.csv").write_text("date;shift;required\n2026-03-03;N;1\n", encoding="utf-8")
    args = [
        "roster",
        "solve",
        "--staff",
        str(tmp_path / "staff.csv"),
        "--demand",
        str(tmp_path / "demand.csv"),
    ]
    result = runner.invoke(
        app,
        [*args, "--start", "2026-03-02", "--weeks", "1", "--time-limit", "2"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 1, result.output
    assert "congés de Mme Arnaud (1 jour, 03/03)" in result.output
    assert "couverture du 03/03 nuit : 1 infirmier demandé" in result.output


def test_bad_input_is_a_french_error_naming_the_option(tmp_path: Path) -> None:
    (tmp_path / "staff.csv").write_text("nurse;ratio\nA;300\n", encoding="utf-8")
    (tmp_path / "demand.csv").write_text("date;shift;required\n2026-03-03;N;1\n", encoding="utf-8")
    args = [
        "roster",
        "solve",
        "--staff",
        str(tmp_path / "staff.csv"),
        "--demand",
        str(tmp_path / "demand.csv"),
    ]
    result = runner.invoke(app, [*args, "--start", "2026-03-02"], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "quotité 300" in result.output and "--staff" in result.output


def test_demand_from_a_forecast(tmp_path: Path) -> None:
    forecast = tmp_path / "f.csv"
    forecast.write_text(
        "ds,quantile,value\n2026-03-02,0.5,20\n2026-03-02,0.9,25\n", encoding="utf-8"
    )
    out = tmp_path / "demand.csv"
    args = ["roster", "demand", "--forecast", str(forecast), "--quantile", "0.9"]
    result = runner.invoke(
        app, [*args, "--ratio", "M=5", "--ratio", "N=8", "--minimum", "N=4", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    back = pd.read_csv(out, sep=";", encoding="utf-8-sig")
    assert back.to_dict("list") == {
        "date": ["2026-03-02"] * 2,
        "shift": ["M", "N"],
        "required": [5, 4],
    }

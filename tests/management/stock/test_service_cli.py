"""The service and ``hopia stock``: a small synthetic pharmacy, seeded, through every command."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from hopia.cli.main import app
from hopia.management.stock import synth

RUN = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pharmacie") / "demo"
    answer = RUN.invoke(
        app, ["stock", "synth", "--out", str(out), "--n-items", "20", "--days", "240"]
    )
    assert answer.exit_code == 0, answer.output
    assert "20 articles" in answer.output
    return out


def _files(folder: Path) -> list[str]:
    return ["--items", str(folder / "items.csv"), "--movements", str(folder / "movements.csv")]


def test_synth_is_seeded() -> None:
    a, b = synth.generate(12, seed=3, days=150), synth.generate(12, seed=3, days=150)
    pd.testing.assert_frame_equal(a.movements, b.movements)
    assert not a.movements.equals(synth.generate(12, seed=4, days=150).movements)
    assert set(a.movements["type"]) >= {"issue", "receipt"}
    assert a.items["label"].str.len().min() > 5


def test_synth_refuses_a_non_empty_folder(folder: Path) -> None:
    answer = RUN.invoke(app, ["stock", "synth", "--out", str(folder)])
    assert answer.exit_code == 2 and "n'est pas vide" in answer.output


def test_every_command_prints_french_tables_and_writes_files(folder: Path, tmp_path: Path) -> None:
    orders = ["--orders", str(folder / "orders.csv")]
    for command, extra, title in (
        ("status", orders, "Stock par article"),
        ("policy", ["--service-level", "V=0.995"], "Classes ABC × VEN"),
        ("alerts", orders, "Alertes au"),
        ("backtest", ["--holdout-months", "2"], "niveau de service obtenu"),
    ):
        out = tmp_path / f"{command}.xlsx"
        answer = RUN.invoke(app, ["stock", command, *_files(folder), *extra, "-o", str(out)])
        assert answer.exit_code == 0, answer.output
        assert title in answer.output
        assert pd.read_excel(io.BytesIO(out.read_bytes()), sheet_name=None)
    csv = tmp_path / "politique.csv"
    answer = RUN.invoke(app, ["stock", "policy", *_files(folder), "-o", str(csv)])
    frame = pd.read_csv(csv, sep=";", encoding="utf-8-sig")
    assert {"point de commande", "stock de sécurité", "ABC", "VEN"} <= set(frame.columns)
    assert len(frame) == 20


def test_bad_input_is_a_french_error_naming_the_option(folder: Path, tmp_path: Path) -> None:
    broken = tmp_path / "movements.csv"
    broken.write_text("date,item_id,type,quantity\n2025-01-01,MED0001,vol,3\n", encoding="utf-8")
    answer = RUN.invoke(
        app, ["stock", "status", "--items", str(folder / "items.csv"), "--movements", str(broken)]
    )
    assert answer.exit_code == 2
    assert "movements.csv : ligne 2 : type « vol » inconnu" in answer.output
    assert "--movements" in answer.output
    answer = RUN.invoke(app, ["stock", "policy", *_files(folder), "--service-level", "X=2"])
    assert answer.exit_code == 2 and "--service-level" in answer.output

"""``hopia predict``: train on the configured warehouse, re-evaluate, refuse a tampered model,
train on a UCI-format file; errors in French, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hopia.cli.main import app
from hopia.platform.config import get_settings
from hopia.platform.warehouse import Warehouse, schema
from tests.data.predict.planted import planted_warehouse
from tests.data.predict.uci_sample import write_uci_zip

runner = CliRunner()


@pytest.fixture(scope="module")
def planted_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    wh = planted_warehouse(tmp_path_factory.mktemp("planted") / "wh.duckdb", n_persons=250)
    wh.close()
    return wh.url


@pytest.fixture
def configured(planted_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HOPIA_WAREHOUSE_URL", planted_url)
    get_settings.cache_clear()
    return planted_url


def test_train_evaluate_and_tamper(configured: str, tmp_path: Path) -> None:
    out = tmp_path / "readmission"
    args = ["predict", "train", "--target", "readmission_30d", "--model", "logistic"]
    result = runner.invoke(app, [*args, "--out", str(out), "--bootstrap", "50"])
    assert result.exit_code == 0, result.output
    assert "AUROC (IC 95 %)" in result.output and "Sous-groupes" in result.output
    card = json.loads((out / "card.json").read_text("utf-8"))
    assert card["evaluation"]["test"]["auroc"] > 0.7
    assert (out / "card.md").exists() and (out / "calibration.png").exists()

    wh = Warehouse(configured)
    with wh.engine.connect() as conn:
        actions = conn.execute(select(schema.audit_log.c.action, schema.audit_log.c.details)).all()
    wh.close()
    assert actions[-1][0] == "predict.train"
    assert card["provenance"]["model_sha256"] in actions[-1][1]

    again = runner.invoke(app, [*args, "--out", str(out)])
    assert again.exit_code == 2 and "--force" in again.output

    evaluated = runner.invoke(app, ["predict", "evaluate", "--model", str(out)])
    assert evaluated.exit_code == 0, evaluated.output
    assert "Empreinte du modèle vérifiée" in evaluated.output

    model = out / "model.joblib"
    model.write_bytes(model.read_bytes()[:-1] + b"\1")
    refused = runner.invoke(app, ["predict", "evaluate", "--model", str(out)])
    assert refused.exit_code == 2
    assert "sha256" in refused.output and "Traceback" not in refused.output


def test_bad_options_fail_cleanly(configured: str, tmp_path: Path) -> None:
    out = tmp_path / "m"
    unknown = runner.invoke(app, ["predict", "train", "--model", "forest", "--out", str(out)])
    assert unknown.exit_code == 2 and "modèle prédictif inconnu : « forest »" in unknown.output
    assert "(disponibles : gbm, logistic) [option(s) : --model]" in " ".join(unknown.output.split())
    target = runner.invoke(app, ["predict", "train", "--target", "death", "--out", str(out)])
    assert target.exit_code == 2 and "cible inconnue" in target.output
    assert not out.exists()
    missing = runner.invoke(app, ["predict", "evaluate", "--model", str(tmp_path)])
    assert missing.exit_code == 2 and "card.json" in missing.output


def test_uci_command(tmp_path: Path) -> None:
    data = write_uci_zip(tmp_path / "uci.zip")
    out = tmp_path / "uci-model"
    args = ["predict", "uci", "--data", str(data), "--out", str(out), "--model", "logistic"]
    result = runner.invoke(app, [*args, "--bootstrap", "50"])
    assert result.exit_code == 0, result.output
    card = json.loads((out / "card.json").read_text("utf-8"))
    assert card["data_kind"] == "uci" and card["evaluation"]["test"]["auroc"] > 0.7
    needs_data = runner.invoke(app, ["predict", "evaluate", "--model", str(out)])
    assert needs_data.exit_code == 2 and "--data" in needs_data.output
    evaluated = runner.invoke(
        app, ["predict", "evaluate", "--model", str(out), "--data", str(data)]
    )
    assert evaluated.exit_code == 0, evaluated.output
    bad = runner.invoke(app, ["predict", "uci", "--data", str(tmp_path / "x.zip"), "--out",
                              str(tmp_path / "x")])  # fmt: skip
    assert bad.exit_code == 2 and "introuvable" in bad.output

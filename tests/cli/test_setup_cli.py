"""``hopia init``: keys and warehouse created explicitly, once; nothing else creates keys."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hopia.cli.main import app
from hopia.platform.config import get_settings


@pytest.fixture
def bare_home(hopia_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HOPIA_SECRET_KEY")
    monkeypatch.delenv("HOPIA_VAULT_KEY")
    get_settings.cache_clear()
    return hopia_home


def test_init_creates_keys_and_warehouse_once(bare_home: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["init"])
    assert first.exit_code == 0, first.output
    assert "Secret de pseudonymisation : créée" in first.output and "Sauvegardez" in first.output
    for name in ("secret.key", "vault.key"):
        assert stat.S_IMODE((bare_home / name).stat().st_mode) == 0o600
    assert (bare_home / "warehouse.duckdb").exists()
    key = (bare_home / "secret.key").read_text()
    again = runner.invoke(app, ["init"])
    assert again.exit_code == 0 and "déjà présente" in again.output
    assert "Sauvegardez" not in again.output and (bare_home / "secret.key").read_text() == key


def test_a_command_needing_keys_points_to_init(bare_home: Path) -> None:
    result = CliRunner().invoke(app, ["pseudo", "reidentify", "--note-id", "1", "--reason",
                                      "demande du DIM n° 12"])  # fmt: skip
    assert result.exit_code == 2
    assert "hopia init" in result.output and not (bare_home / "vault.key").exists()


def test_configured_keys_are_not_written(hopia_home: Path) -> None:
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code == 0 and result.output.count("fournie par la configuration") == 3
    assert not (hopia_home / "secret.key").exists()

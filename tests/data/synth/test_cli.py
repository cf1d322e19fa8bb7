"""``hopia synth`` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from hopia.cli.synth import synth

app = typer.Typer()
app.command("synth")(synth)
app.command("noop")(lambda: None)  # two commands: "synth" stays a named sub-command
runner = CliRunner()


def test_cli_writes_and_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "synth"
    result = runner.invoke(app, ["synth", "--patients", "6", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Patients : 6" in result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 3 and manifest["counts"]["patients"] == 6
    before = (out / "documents.jsonl").read_bytes()

    again = runner.invoke(app, ["synth", "--patients", "6", "--seed", "4", "--out", str(out)])
    assert again.exit_code == 2
    assert "--force" in again.output
    assert (out / "documents.jsonl").read_bytes() == before

    forced = runner.invoke(
        app,
        ["synth", "--patients", "6", "--seed", "4", "--out", str(out), "--force", "--no-formats"],
    )
    assert forced.exit_code == 0, forced.output
    assert (out / "documents.jsonl").read_bytes() != before
    assert not (out / "files").exists()


def test_cli_rejects_a_file_and_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a-file"
    target.write_text("x")
    result = runner.invoke(app, ["synth", "--patients", "2", "--out", str(target)])
    assert result.exit_code == 2
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["synth", "--patients", "2", "--out", ".", "--force"])
    assert result.exit_code == 2
    assert target.exists()

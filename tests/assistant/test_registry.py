"""Backends from the settings: embedded (a GGUF file or a packaged model), OpenAI-compatible
(delegated to its own module), the listing, and the default backend."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from hopia.assistant.llm import packaged
from hopia.assistant.llm.base import ChatBackend
from hopia.assistant.llm.embedded import EmbeddedBackend
from hopia.assistant.llm.registry import (
    available_backends,
    backend_from_settings,
    default_backend_name,
    section_named,
)
from hopia.platform.config import AssistantSettings, LlmBackendSettings, Settings
from hopia.platform.exceptions import ConfigError, ModelError, NotFoundError


def _section(**values: object) -> LlmBackendSettings:
    return LlmBackendSettings(**values)


def test_embedded_defaults_to_the_packaged_1_5b_and_loads_nothing(tmp_path: Path) -> None:
    backend = backend_from_settings(_section(name="local", type="embedded"), tmp_path)
    assert isinstance(backend, EmbeddedBackend) and isinstance(backend, ChatBackend)
    assert (backend.name, backend.model, backend.local) == ("local", "qwen2.5-coder-1.5b", True)
    assert backend.parameters_b == 1.5
    assert (backend.n_threads, backend.n_ctx, backend.seed) == (2, 4096, 42)
    assert not (tmp_path / "models").exists()  # assembled at the first call, not here


def test_embedded_settings_reach_the_backend(tmp_path: Path) -> None:
    gguf = tmp_path / "mine.gguf"
    section = _section(name="m", type="embedded", model_path=gguf, n_threads=1, n_ctx=1024, seed=7)
    backend = backend_from_settings(section, tmp_path)
    assert isinstance(backend, EmbeddedBackend)
    assert (backend.model, backend.model_path()) == ("mine", gguf)
    assert (backend.n_threads, backend.n_ctx, backend.seed) == (1, 1024, 7)


def test_settings_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "HOPIA_ASSISTANT__BACKENDS",
        '[{"name": "petit", "type": "embedded", "model": "qwen2.5-coder-0.5b", "n_threads": 1}]',
    )
    settings = Settings()
    (section,) = settings.assistant.backends
    assert (section.model, section.n_threads, section.n_ctx) == ("qwen2.5-coder-0.5b", 1, 4096)


def test_bad_thread_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="n_threads"):
        _section(name="x", type="embedded", n_threads=0)


def test_unknown_packaged_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="inconnu : « qwen-99b »"):
        backend_from_settings(_section(name="x", type="embedded", model="qwen-99b"), tmp_path)


def test_openai_is_delegated_to_its_module(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="base_url"):
        backend_from_settings(_section(name="srv", type="openai"), tmp_path)
    section = _section(
        name="srv", type="openai", base_url="http://127.0.0.1:9/v1", model="m", local=False
    )
    if importlib.util.find_spec("hopia.assistant.llm.openai_compat") is None:
        with pytest.raises(ConfigError, match="client OpenAI-compatible n'est pas disponible"):
            backend_from_settings(section, tmp_path)
    else:  # after the gateway work is merged
        backend = backend_from_settings(section, tmp_path)
        assert (backend.name, backend.model, backend.local) == ("srv", "m", False)


def test_listing_and_default(tmp_path: Path) -> None:
    settings = AssistantSettings(
        backends=[
            _section(name="a", type="embedded", model_path=tmp_path / "absent.gguf"),
            _section(name="b", type="openai", base_url="http://srv/v1", local=False),
            _section(name="c", type="embedded", model="smollm2-135m"),
        ]
    )
    infos = {i.name: i for i in available_backends(settings, tmp_path)}
    assert default_backend_name(settings) == "a" and infos["a"].default
    assert not infos["a"].ready and infos["a"].problem == "fichier GGUF introuvable"
    assert infos["b"].ready and not infos["b"].local and infos["b"].where == "http://srv/v1"
    smollm2 = packaged.PACKAGED["smollm2-135m"]
    assert infos["c"].ready == packaged.installed(smollm2)
    assert infos["c"].where == str(tmp_path / "models" / "smollm2-135m.gguf")
    chosen = AssistantSettings(backends=settings.backends, default_backend="c")
    assert section_named(chosen, None).name == "c"
    assert section_named(chosen, "b").name == "b"
    with pytest.raises(NotFoundError, match="backend inconnu : « z » \\(configurés : a, b, c\\)"):
        section_named(chosen, "z")


def test_no_backend_configured_says_so() -> None:
    with pytest.raises(ConfigError, match="aucun modèle de langage n'est configuré"):
        section_named(AssistantSettings(), None)

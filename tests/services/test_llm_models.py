"""The LLM models service: the policy is asked before anything is assembled or loaded, and
the direct chat never reaches a backend that is not local."""

from __future__ import annotations

from pathlib import Path

import pytest

from hopia.platform.config import LlmBackendSettings, Settings
from hopia.platform.exceptions import AccessDeniedError, InvalidRequestError, ModelError
from hopia.services import llm_models
from tests.services.contexts import researcher


def _settings(tmp_path: Path, *backends: LlmBackendSettings) -> Settings:
    return Settings(cache_dir=tmp_path / "cache", assistant={"backends": list(backends)})


def test_refused_actions_load_nothing(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, LlmBackendSettings(name="e", type="embedded", model="smollm2-135m")
    )
    with researcher(settings) as ctx:
        with pytest.raises(AccessDeniedError, match="llm.models"):
            llm_models.list_models(ctx)
        with pytest.raises(AccessDeniedError, match="llm.prepare"):
            llm_models.prepare(ctx, llm_models.PrepareRequest.of(models=("smollm2-135m",)))
        with pytest.raises(AccessDeniedError, match="llm.chat"):
            llm_models.chat(ctx, llm_models.ChatRequest.of(question="Bonjour"))
    assert not (tmp_path / "cache" / "models").exists()


def test_allowed_listing(tmp_path: Path) -> None:
    settings = _settings(tmp_path, LlmBackendSettings(name="e", type="embedded"))
    with researcher(settings, "llm.") as ctx:
        view = llm_models.list_models(ctx)
    assert view.default_backend == "e" and [b.name for b in view.backends] == ["e"]
    assert [p.name for p in view.packaged if p.default] == ["qwen2.5-coder-1.5b"]
    assert all(not p.assembled for p in view.packaged)


def test_chat_request_validation() -> None:
    with pytest.raises(InvalidRequestError, match="question"):
        llm_models.ChatRequest.of(question="")
    with pytest.raises(InvalidRequestError, match="max_tokens"):
        llm_models.ChatRequest.of(question="q", max_tokens=0)


def test_prepare_unknown_model(tmp_path: Path) -> None:
    with researcher(_settings(tmp_path), "llm.") as ctx, pytest.raises(ModelError, match="inconnu"):
        llm_models.prepare(ctx, llm_models.PrepareRequest.of(models=("nope",)))

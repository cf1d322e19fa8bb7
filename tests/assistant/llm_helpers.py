"""The embedded runtime in tests: llama.cpp (the ``llm`` extra) and the SmolLM2-135M package.

Without them the tests of the embedded runtime skip, saying why, on a developer's machine
(`make test` passes without the extra); under CI (``CI`` set), where `make llm` installed them,
they fail instead: they must run there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hopia.assistant.llm import packaged
from hopia.assistant.llm.embedded import llama_available

PLUMBING_MODEL = "smollm2-135m"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI : le moteur embarqué doit être testé ; voir `make llm`)")
    pytest.skip(reason)


def require_model_packages(name: str = PLUMBING_MODEL) -> packaged.PackagedModel:
    """The packaged model, its packages installed (else skip; fail under CI)."""
    model = packaged.get(name)
    missing = packaged.missing_packages(model)
    if missing:
        _unavailable(f"paquets du modèle {name} absents : {', '.join(missing)} (make llm)")
    return model


def require_llama() -> None:
    if not llama_available():
        _unavailable("llama-cpp-python (option llm) absent : make llm")


def plumbing_model_file(cache_dir: Path) -> Path:
    """The assembled SmolLM2-135M GGUF, llama.cpp present (else skip; fail under CI)."""
    require_llama()
    return packaged.ensure(require_model_packages(), cache_dir)

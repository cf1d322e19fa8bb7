"""The embedded runtime in tests: llama.cpp (the ``llm`` extra) and the SmolLM2-135M package.

Without them the tests of the embedded runtime skip, saying why, on a developer's machine
(`make test` passes without the extra); under CI (``CI`` set), where `make llm` installed them,
they fail instead: they must run there."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

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


def recorded_calls(task: str) -> tuple[list[Any], list[dict[str, Any]]]:
    """The usage rows and the audit records' details of the gateway calls of ``task``, in the
    warehouse of the test's home (``hopia_home``, after ``hopia init``)."""
    from sqlalchemy import text

    from hopia.platform.config import get_settings
    from hopia.platform.warehouse import Warehouse

    wh = Warehouse(get_settings().resolved_warehouse_url(), migrate=False)
    try:
        with wh.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT * FROM hopia_meta.llm_usage WHERE task = :t"), {"t": task}
            ).all()
            audited = conn.execute(
                text("SELECT details FROM hopia_meta.audit_log WHERE action = 'assistant.chat'")
            ).scalars()
            details = [d for d in map(json.loads, audited) if d["task"] == task]
    finally:
        wh.close()
    return rows, details

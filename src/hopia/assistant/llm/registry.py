"""Backends built from the settings (``assistant.backends``): the one place that turns a
:class:`~hopia.platform.config.LlmBackendSettings` into a
:class:`~hopia.assistant.llm.base.ChatBackend`.

Building a backend loads nothing: the embedded model is assembled and loaded at its first call,
an OpenAI-compatible server is first reached at its first call too.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hopia.assistant.llm import packaged
from hopia.assistant.llm.base import ChatBackend
from hopia.platform.config import AssistantSettings, LlmBackendSettings
from hopia.platform.exceptions import ConfigError, NotFoundError


def backend_from_settings(section: LlmBackendSettings, cache_dir: Path) -> ChatBackend:
    """The backend a settings section describes (``type`` embedded or openai)."""
    if section.type == "embedded":
        return _embedded(section, cache_dir)
    return _openai(section)


def packaged_backend(
    name: str, cache_dir: Path, *, n_threads: int = 2, n_ctx: int = 4096, seed: int = 42
) -> ChatBackend:
    """An embedded backend over a packaged model, without any configuration (``hopia llm chat``
    with a model named, the bench, the tests)."""
    section = LlmBackendSettings(
        name=name, type="embedded", model=name, n_threads=n_threads, n_ctx=n_ctx, seed=seed
    )
    return _embedded(section, cache_dir)


def _embedded(section: LlmBackendSettings, cache_dir: Path) -> ChatBackend:
    from hopia.assistant.llm.embedded import EmbeddedBackend

    common = {
        "n_threads": section.n_threads,
        "n_ctx": section.n_ctx,
        "seed": section.seed,
        "local": section.local,
    }
    if section.model_path is not None:
        return EmbeddedBackend(
            section.name,
            section.model_path,
            model=section.model or section.model_path.stem,
            parameters_b=section.parameters_b,
            **common,
        )
    model = packaged.get(section.model or packaged.DEFAULT_MODEL)
    return EmbeddedBackend(
        section.name,
        functools.partial(packaged.ensure, model, cache_dir),
        model=model.name,
        parameters_b=section.parameters_b or model.parameters_b,
        **common,
    )


def _openai(section: LlmBackendSettings) -> ChatBackend:
    if not section.base_url:
        raise ConfigError(
            f"backend « {section.name} » : « base_url » est obligatoire pour le type openai",
            fields=("base_url",),
        )
    try:
        # written beside this module by the gateway work; imported only when a server is used
        from hopia.assistant.llm.openai_compat import OpenAICompatBackend
    except ImportError as exc:
        if getattr(exc, "name", "") != "hopia.assistant.llm.openai_compat":
            raise  # a dependency of the backend (httpx: the extra) is the caller's problem
        raise ConfigError(
            f"backend « {section.name} » : le client OpenAI-compatible n'est pas disponible "
            "dans cette version de Hopia",
            fields=("type",),
        ) from exc
    return OpenAICompatBackend(
        name=section.name,
        base_url=section.base_url,
        model=section.model or section.name,
        api_key=section.api_key,
        local=section.local,
        parameters_b=section.parameters_b,
    )


@dataclass(frozen=True)
class BackendInfo:
    """A configured backend as listed to a user: what it is, without loading or calling it."""

    name: str
    type: str
    model: str
    local: bool
    default: bool
    where: str  # the server's URL, the GGUF file, or the packaged model's cache file
    ready: bool  # embedded: the model file is there (or assembled); openai: configured
    problem: str | None = None  # why it is not ready, in French


def available_backends(settings: AssistantSettings, cache_dir: Path) -> list[BackendInfo]:
    """Every configured backend, the default first-named when none is set."""
    default = default_backend_name(settings)
    return [_info(s, cache_dir, s.name == default) for s in settings.backends]


def default_backend_name(settings: AssistantSettings) -> str | None:
    if settings.default_backend:
        return settings.default_backend
    return settings.backends[0].name if settings.backends else None


def section_named(settings: AssistantSettings, name: str | None) -> LlmBackendSettings:
    """The settings of backend ``name`` (the default backend when ``None``)."""
    wanted = name or default_backend_name(settings)
    if wanted is None:
        raise ConfigError(
            "aucun modèle de langage n'est configuré (section assistant.backends) : les "
            "parties génératives ne sont pas disponibles",
            fields=("backend",),
        )
    for section in settings.backends:
        if section.name == wanted:
            return section
    known = ", ".join(s.name for s in settings.backends) or "aucun"
    raise NotFoundError(
        f"backend inconnu : « {wanted} » (configurés : {known})", fields=("backend",)
    )


def _info(section: LlmBackendSettings, cache_dir: Path, default: bool) -> BackendInfo:
    base = {"name": section.name, "type": section.type, "local": section.local, "default": default}
    if section.type == "openai":
        problem = None if section.base_url else "« base_url » manquant"
        return BackendInfo(
            **base,
            model=section.model or "?",
            where=section.base_url or "",
            ready=problem is None,
            problem=problem,
        )
    if section.model_path is not None:
        present = section.model_path.is_file()
        return BackendInfo(
            **base,
            model=section.model or section.model_path.stem,
            where=str(section.model_path),
            ready=present,
            problem=None if present else "fichier GGUF introuvable",
        )
    try:
        model = packaged.get(section.model or packaged.DEFAULT_MODEL)
    except Exception as exc:  # noqa: BLE001 - shown in the listing, not raised
        return BackendInfo(
            **base, model=section.model or "?", where="", ready=False, problem=str(exc)
        )
    missing = packaged.missing_packages(model)
    # installed but not assembled yet is ready: assembled at the first call (or by prepare)
    problem = "paquets du modèle non installés (make llm)" if missing else None
    return BackendInfo(
        **base,
        model=model.name,
        where=str(packaged.model_path(model, cache_dir)),
        ready=not missing,
        problem=problem,
    )


def packaged_names() -> Sequence[str]:
    return tuple(packaged.PACKAGED)

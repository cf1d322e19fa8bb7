"""LLM models service: what is configured and packaged, assembling the packaged models, and a
chat with one backend (``hopia llm models | prepare | requirements | chat``).

The chat is the operator's check that a backend answers. It goes through the gateway service
(:mod:`hopia.services.llm_gateway`) like the web's ``/v1`` endpoints: quotas, usage and
footprint, one audit record per call, and the PHI guard before any backend not marked local.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from hopia.platform.exceptions import ModelError
from hopia.services import llm_gateway
from hopia.services.context import Context, Request

if TYPE_CHECKING:
    from hopia.assistant.llm.base import Delta
    from hopia.assistant.llm.registry import BackendInfo

_RESOURCE = "llm"


@dataclass(frozen=True)
class PackagedView:
    name: str
    title: str
    parameters_b: float
    size: int
    licence: str
    use: str
    default: bool
    installed: bool
    missing: tuple[str, ...]  # pinned requirements absent (or at another version)
    assembled: bool
    path: str  # where the assembled GGUF is (or will be)


@dataclass(frozen=True)
class ModelsView:
    backends: list[BackendInfo]
    default_backend: str | None
    packaged: list[PackagedView]
    runtime: bool  # llama.cpp (the llm extra) is installed


def list_models(ctx: Context) -> ModelsView:
    """The configured backends and the packaged models, nothing loaded nor called."""
    from hopia.assistant.llm import packaged
    from hopia.assistant.llm.embedded import llama_available
    from hopia.assistant.llm.registry import available_backends, default_backend_name

    ctx.authorize("llm.models", _RESOURCE)
    cache_dir = ctx.settings.cache_dir
    views = []
    for model in packaged.PACKAGED.values():
        missing = packaged.missing_packages(model)
        views.append(
            PackagedView(
                name=model.name,
                title=model.title,
                parameters_b=model.parameters_b,
                size=model.size,
                licence=model.licence,
                use=model.use,
                default=model.name == packaged.DEFAULT_MODEL,
                installed=not missing,
                missing=tuple(missing),
                assembled=packaged.assembled(model, cache_dir),
                path=str(packaged.model_path(model, cache_dir)),
            )
        )
    assistant = ctx.settings.assistant
    return ModelsView(
        backends=available_backends(assistant, cache_dir),
        default_backend=default_backend_name(assistant),
        packaged=views,
        runtime=llama_available(),
    )


class PrepareRequest(Request):
    models: tuple[str, ...] = Field(
        (), description="Packaged models to assemble; none: every installed one."
    )


@dataclass(frozen=True)
class PreparedModel:
    name: str
    path: str
    size: int
    already: bool  # it was assembled before this call


def prepare(ctx: Context, request: PrepareRequest) -> list[PreparedModel]:
    """Assemble the packaged models into the cache (once; sha256-checked)."""
    from hopia.assistant.llm import packaged

    models = [packaged.get(name) for name in request.models]  # unknown names: before any work
    ctx.authorize("llm.prepare", _RESOURCE)
    if not models:
        models = [m for m in packaged.PACKAGED.values() if packaged.installed(m)]
        if not models:
            raise ModelError(
                "aucun modèle embarqué n'est installé : installez-les avec « make llm »",
                fields=("models",),
            )
    done = []
    for model in models:
        already = packaged.assembled(model, ctx.settings.cache_dir)
        path = packaged.ensure(model, ctx.settings.cache_dir)
        done.append(PreparedModel(model.name, str(path), path.stat().st_size, already))
    return done


def requirements(models: tuple[str, ...] = ()) -> list[str]:
    """The pinned packages of the packaged models (all by default), for the installer."""
    from hopia.assistant.llm import packaged

    return packaged.requirements(models or None)


class ChatRequest(Request):
    question: str = Field(..., min_length=1, max_length=20_000)
    system: str | None = Field(None, max_length=20_000)
    backend: str | None = Field(None, min_length=1, description="A configured backend's name.")
    model: str | None = Field(
        None, min_length=1, description="A packaged model, run embedded without configuration."
    )
    threads: int | None = Field(
        None, ge=1, le=256, description="llama.cpp threads of the packaged model (default 2)."
    )
    max_tokens: int = Field(512, ge=1, le=8192)
    temperature: float = Field(0.0, ge=0.0, le=2.0)

    @model_validator(mode="after")
    def _one_target(self) -> ChatRequest:
        if self.backend and self.model:
            raise ValueError("backend ou modèle embarqué, pas les deux")
        if self.threads is not None and not self.model:
            # a configured backend's threads are its settings' (n_threads)
            raise ValueError("le nombre de fils ne se choisit qu'avec un modèle embarqué nommé")
        return self


@dataclass
class ChatStream:
    """An answer being generated: who answers, and its pieces (the last carries the usage)."""

    backend: str
    model: str
    local: bool
    deltas: Iterator[Delta]


def chat(ctx: Context, request: ChatRequest) -> ChatStream:
    """Ask one backend, a configured one or a packaged model, through the gateway."""
    from hopia.assistant.llm.registry import (
        backend_from_settings,
        packaged_backend,
        section_named,
    )

    settings = ctx.settings
    if request.model:
        backend = packaged_backend(
            request.model, settings.cache_dir, n_threads=request.threads or 2
        )
    else:
        backend = backend_from_settings(
            section_named(settings.assistant, request.backend), settings.cache_dir
        )
    ctx.authorize("llm.chat", f"backend:{backend.name}")
    # Through the gateway like every other front end: quotas, usage and footprint, one audit
    # record per call, and the PHI guard in front of a backend not marked local.
    messages = [llm_gateway.MessageIn.of(role="user", content=request.question)]
    if request.system:
        messages.insert(0, llm_gateway.MessageIn.of(role="system", content=request.system))
    answer = llm_gateway.stream(
        ctx,
        llm_gateway.ChatRequest.of(
            messages=messages,
            backend=backend.name,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            task="llm.chat",
        ),
        gateway=llm_gateway.Gateway({backend.name: backend}, backend.name),
    )
    deltas = answer.deltas
    return ChatStream(backend.name, backend.model, backend.local, deltas)

"""The one interface every LLM backend implements, and the values it exchanges.

A backend is *local* when the hospital runs it on its own machines (vLLM, Ollama, llama.cpp on
site, the embedded runtime): prompts reach it as they are. A backend not marked local only ever
receives prompts that went through the PHI guard (``hopia.assistant.guard``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Completion:
    """A finished answer: its text, the tokens it cost and who produced it."""

    text: str
    usage: Usage
    model: str
    backend: str
    finish_reason: str = "stop"


@dataclass(frozen=True)
class Delta:
    """One piece of a streamed answer; the last one carries the usage (``done``)."""

    text: str
    done: bool = False
    usage: Usage | None = None
    finish_reason: str | None = None


@runtime_checkable
class ChatBackend(Protocol):
    """A chat model. ``name`` is the backend's name in the settings, ``model`` the model it
    serves, ``local`` whether it runs on the hospital's machines, ``parameters_b`` the model's
    size in billions of parameters (for the energy estimate; ``None`` when unknown)."""

    name: str
    model: str
    local: bool
    parameters_b: float | None

    def complete(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, temperature: float
    ) -> Completion: ...

    def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, temperature: float
    ) -> Iterator[Delta]: ...

"""The one interface every LLM backend implements, and the values it exchanges.

A backend is *local* when the hospital runs it on its own machines (vLLM, Ollama, llama.cpp on
site, the embedded runtime): prompts reach it as they are. A backend not marked local only ever
receives prompts that went through the PHI guard (``hopia.assistant.guard``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

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
class ResponseFormat:
    """What the answer must be (OpenAI's ``response_format``): any JSON object
    (``json_object``), or JSON valid against ``schema`` (``json_schema``). An OpenAI-compatible
    server gets it as is; the embedded runtime compiles it into a grammar (constrained
    decoding: every token keeps the answer a prefix of a valid value, whole unless
    ``max_tokens`` cuts it)."""

    type: Literal["json_object", "json_schema"]
    schema: Mapping[str, Any] | None = field(default=None, hash=False)
    name: str = "reponse"
    strict: bool | None = None

    @classmethod
    def of_schema(cls, schema: Mapping[str, Any], name: str = "reponse") -> ResponseFormat:
        return cls("json_schema", dict(schema), name, True)

    def openai(self) -> dict[str, Any]:
        """The ``response_format`` of an OpenAI chat request."""
        if self.type == "json_object" or self.schema is None:
            return {"type": "json_object"}
        spec: dict[str, Any] = {"name": self.name, "schema": dict(self.schema)}
        if self.strict is not None:
            spec["strict"] = self.strict
        return {"type": "json_schema", "json_schema": spec}


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
    size in billions of parameters (for the energy estimate; ``None`` when unknown).
    ``response_format``: the answer must be JSON (valid against a schema), or ``None``: text."""

    name: str
    model: str
    local: bool
    parameters_b: float | None

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        response_format: ResponseFormat | None = None,
    ) -> Completion: ...

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        response_format: ResponseFormat | None = None,
    ) -> Iterator[Delta]: ...

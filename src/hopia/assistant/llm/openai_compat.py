"""Any OpenAI-compatible server (vLLM, Ollama, llama.cpp server, TGI, another Hopia) as a
:class:`~hopia.assistant.llm.base.ChatBackend`, over httpx.

Errors are French and name the backend, never the prompt: a server's error body may quote the
messages it received, so it is not repeated (only its status). Usage is read from the answer
(``usage``) when the server gives it; otherwise it is counted, roughly (:func:`rough_tokens`),
and the count says so nowhere else than in this docstring: a server that bills by token always
answers ``usage``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from hopia.assistant.llm.base import ChatMessage, Completion, Delta, ResponseFormat, Usage
from hopia.platform.exceptions import LlmBackendError


def rough_tokens(text: str) -> int:
    """A token count when the server gives none: about 4 characters per token for French
    (BPE tokenisers of recent models give 3.5-4.5 on French prose)."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _prompt_tokens(messages: Sequence[ChatMessage]) -> int:
    return sum(rough_tokens(m.content) + 4 for m in messages)  # ~4 per message's framing


def _usage(answer: dict[str, Any] | None, prompt: int, completion_text: str) -> Usage:
    usage = (answer or {}).get("usage") or {}
    p, c = usage.get("prompt_tokens"), usage.get("completion_tokens")
    return Usage(
        int(p) if isinstance(p, int) else prompt,
        int(c) if isinstance(c, int) else rough_tokens(completion_text),
    )


@dataclass
class OpenAICompatBackend:
    """A chat model behind an OpenAI-compatible ``base_url`` (ending in ``/v1``).

    ``local``: the server runs on the hospital's machines (prompts reach it as they are); a
    backend not local is only called through the PHI guard (the gateway sees to it)."""

    name: str
    base_url: str
    model: str
    api_key: str | None = None
    local: bool = True
    parameters_b: float | None = None
    timeout: float = 120.0
    _client: httpx.Client | None = field(default=None, repr=False)

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            self._client = httpx.Client(
                base_url=self.base_url.rstrip("/"), headers=headers, timeout=self.timeout
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- errors -------------------------------------------------------------------------------

    def _error(self, exc: Exception) -> LlmBackendError:
        """The French error of a failed call: the backend's name and what failed, no data."""
        where = f"le modèle « {self.name} »"
        if isinstance(exc, httpx.TimeoutException):
            message = f"{where} n'a pas répondu à temps ({self.timeout:g} s)"
        elif isinstance(exc, httpx.ConnectError):
            message = f"{where} est injoignable (connexion refusée ou adresse inconnue)"
        elif isinstance(exc, httpx.HTTPStatusError):
            status = exc.response.status_code
            message = f"{where} a refusé la demande (HTTP {status})"
            if status in (401, 403):
                message = f"{where} a refusé la clé d'accès configurée (HTTP {status})"
        elif isinstance(exc, httpx.HTTPError):
            message = f"{where} : échange interrompu ({type(exc).__name__})"
        else:
            message = f"{where} a renvoyé une réponse illisible"
        return LlmBackendError(message, details={"backend": self.name})

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            answer = self.client.post(path, json=body)
            answer.raise_for_status()
            data = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise self._error(exc) from None  # the cause may quote the prompt
        if not isinstance(data, dict):
            raise self._error(ValueError("not an object"))
        return data

    # -- chat ---------------------------------------------------------------------------------

    def _body(
        self,
        messages: Sequence[ChatMessage],
        max_tokens: int,
        temperature: float,
        response_format: ResponseFormat | None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        if response_format is not None:  # passed as is: the server constrains its answer
            body["response_format"] = response_format.openai()
        return body

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        response_format: ResponseFormat | None = None,
    ) -> Completion:
        body = self._body(messages, max_tokens, temperature, response_format)
        data = self._post("/chat/completions", body)
        try:
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
            finish = choice.get("finish_reason") or "stop"
        except (KeyError, IndexError, TypeError, AttributeError):
            raise self._error(ValueError("no choice")) from None
        usage = _usage(data, _prompt_tokens(messages), text)
        return Completion(text, usage, str(data.get("model") or self.model), self.name, finish)

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        response_format: ResponseFormat | None = None,
    ) -> Iterator[Delta]:
        """The answer as it comes (server-sent events); the last delta is ``done`` with the
        usage (the server's when it sends it: ``stream_options.include_usage``)."""
        body = self._body(messages, max_tokens, temperature, response_format)
        body |= {"stream": True, "stream_options": {"include_usage": True}}
        parts: list[str] = []
        usage_answer: dict[str, Any] | None = None
        finish: str | None = None
        try:
            with self.client.stream("POST", "/chat/completions", json=body) as answer:
                answer.raise_for_status()
                for line in answer.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        break
                    chunk = json.loads(payload)
                    if chunk.get("usage"):
                        usage_answer = chunk
                    for choice in chunk.get("choices") or ():
                        text = (choice.get("delta") or {}).get("content") or ""
                        finish = choice.get("finish_reason") or finish
                        if text:
                            parts.append(text)
                            yield Delta(text)
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            raise self._error(exc) from None
        usage = _usage(usage_answer, _prompt_tokens(messages), "".join(parts))
        yield Delta("", done=True, usage=usage, finish_reason=finish or "stop")

    # -- embeddings and models ----------------------------------------------------------------

    def embed(
        self, texts: Sequence[str], model: str | None = None
    ) -> tuple[list[list[float]], int]:
        """Vectors of ``texts`` (in order) and the prompt tokens they cost."""
        data = self._post("/embeddings", {"model": model or self.model, "input": list(texts)})
        try:
            rows = sorted(data["data"], key=lambda r: r.get("index", 0))
            vectors = [[float(x) for x in row["embedding"]] for row in rows]
        except (KeyError, TypeError, ValueError):
            raise self._error(ValueError("no embedding")) from None
        tokens = (data.get("usage") or {}).get("prompt_tokens")
        return vectors, tokens if isinstance(tokens, int) else sum(map(rough_tokens, texts))

    def models(self) -> list[str]:
        """The model names the server lists."""
        try:
            answer = self.client.get("/models")
            answer.raise_for_status()
            return [str(m["id"]) for m in answer.json().get("data", [])]
        except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise self._error(exc) from None

"""The OpenAI-compatible backend against a real local server: answers, streams, usage read or
counted, embeddings, models, and French errors that name the backend, never the prompt."""

from __future__ import annotations

import pytest

from hopia.assistant.llm.base import ChatMessage
from hopia.assistant.llm.openai_compat import OpenAICompatBackend, rough_tokens
from hopia.platform.exceptions import LlmBackendError
from tests.assistant.echo_server import EchoServer, free_port

SECRET = "Patient Gaston LAGAFFE, IPP 812345678"
MESSAGES = [ChatMessage("user", SECRET)]


def backend(url: str, **kwargs: object) -> OpenAICompatBackend:
    return OpenAICompatBackend("vllm-test", url, "echo", **kwargs)  # type: ignore[arg-type]


def test_complete_reads_the_answer_and_its_usage(echo: EchoServer) -> None:
    answer = backend(echo.url).complete(MESSAGES, max_tokens=20, temperature=0)
    assert answer.text == SECRET and answer.backend == "vllm-test"
    words = len(SECRET.split())
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (words, words)


def test_usage_is_counted_when_the_server_gives_none(echo: EchoServer) -> None:
    echo.usage = False
    answer = backend(echo.url).complete(MESSAGES, max_tokens=20, temperature=0)
    assert answer.usage.completion_tokens == rough_tokens(SECRET)
    assert answer.usage.prompt_tokens == rough_tokens(SECRET) + 4


def test_stream_gives_the_pieces_then_the_usage(echo: EchoServer) -> None:
    echo.piece = 5
    deltas = list(backend(echo.url).stream(MESSAGES, max_tokens=20, temperature=0))
    assert [d.text for d in deltas[:-1]] == [SECRET[i : i + 5] for i in range(0, len(SECRET), 5)]
    last = deltas[-1]
    assert last.done and last.usage is not None and last.finish_reason == "stop"
    assert last.usage.completion_tokens == len(SECRET.split())


def test_embeddings_and_models(echo: EchoServer) -> None:
    vectors, tokens = backend(echo.url).embed(["un", "deux mots"])
    assert vectors == [[2.0, 1.0], [9.0, 1.0]] and tokens == 2
    assert backend(echo.url).models() == ["echo"]


def _refused(call: object) -> LlmBackendError:
    with pytest.raises(LlmBackendError) as refused:
        call()  # type: ignore[operator]
    error = refused.value
    assert "vllm-test" in error.message and "LAGAFFE" not in error.message
    assert error.__cause__ is None and error.__suppress_context__  # no chained prompt
    return error


def test_connection_refused_is_a_french_error() -> None:
    dead = backend(f"http://127.0.0.1:{free_port()}/v1")
    error = _refused(lambda: dead.complete(MESSAGES, max_tokens=5, temperature=0))
    assert "injoignable" in error.message and error.http_status == 502


@pytest.mark.parametrize(("status", "words"), [(401, "clé d'accès"), (500, "HTTP 500")])
def test_an_error_status_names_the_backend_not_the_prompt(
    echo: EchoServer, status: int, words: str
) -> None:
    echo.fail_status = status
    error = _refused(lambda: backend(echo.url).complete(MESSAGES, max_tokens=5, temperature=0))
    assert words in error.message
    stream = backend(echo.url).stream(MESSAGES, max_tokens=5, temperature=0)
    assert words in _refused(lambda: list(stream)).message


def test_a_timeout_is_a_french_error(echo: EchoServer) -> None:
    echo.delay = 1.0
    slow = backend(echo.url, timeout=0.2)
    error = _refused(lambda: slow.complete(MESSAGES, max_tokens=5, temperature=0))
    assert "pas répondu à temps" in error.message


def test_the_gateway_builds_openai_backends_from_the_settings(echo: EchoServer) -> None:
    from hopia.platform.config import Settings
    from hopia.services.llm_gateway import Gateway

    settings = Settings(
        assistant={
            "backends": [
                {"name": "vllm", "type": "openai", "base_url": echo.url, "model": "echo",
                 "local": False, "parameters_b": 70},
                {"name": "ollama", "type": "openai", "base_url": echo.url},
            ],
            "default_backend": "ollama",
        }
    )  # fmt: skip
    gateway = Gateway.from_settings(settings)
    assert gateway.pick(None).name == "ollama" and gateway.pick(None).model == "ollama"
    remote = gateway.pick("vllm")
    assert isinstance(remote, OpenAICompatBackend)
    assert (remote.local, remote.parameters_b, remote.model) == (False, 70, "echo")
    assert remote.complete(MESSAGES, max_tokens=5, temperature=0).text == SECRET
    gateway.close()

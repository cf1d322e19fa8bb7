"""The embedded runtime on a real model: llama.cpp running SmolLM2-135M-Instruct (the plumbing
model: its answers are meaningless, their mechanics are what is tested). Skips, saying why,
without the ``llm`` extra; fails instead under CI."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hopia.assistant.llm import embedded
from hopia.assistant.llm.base import ChatBackend, ChatMessage, Delta, ResponseFormat
from hopia.assistant.llm.embedded import EmbeddedBackend
from hopia.platform.exceptions import InvalidRequestError, MissingExtraError, ModelError
from tests.assistant.llm_helpers import plumbing_model_file

pytestmark = pytest.mark.slow

QUESTION = [ChatMessage("user", "Write a short story about a cat who lives in Paris.")]
SCHEMA = {
    "type": "object",
    "properties": {
        "ville": {"type": "string", "maxLength": 20},
        "age": {"type": "integer"},
        "fumeur": {"type": "boolean"},
    },
    "required": ["ville", "age", "fumeur"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return plumbing_model_file(tmp_path_factory.mktemp("llm-cache"))


@pytest.fixture(scope="module")
def backend(gguf: Path) -> Iterator[EmbeddedBackend]:
    yield EmbeddedBackend("test", gguf, model="smollm2-135m", n_threads=1, n_ctx=1024, seed=3)


def test_the_runtime_missing_names_make_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import llama_cpp -> ImportError
    backend = EmbeddedBackend("x", Path("/nonexistent.gguf"), model="x")
    assert not embedded.llama_available()
    with pytest.raises(MissingExtraError, match="make llm") as err:
        backend.complete(QUESTION, max_tokens=4, temperature=0)
    assert err.value.details["extra"] == "llm"


def test_it_is_a_chat_backend_and_honours_the_thread_count(backend: EmbeddedBackend) -> None:
    assert isinstance(backend, ChatBackend) and backend.local
    info = backend.runtime_info()  # what llama.cpp reports, not what was asked
    assert (info.n_threads, info.n_threads_batch, info.n_ctx) == (1, 1, 1024)
    assert info.chat_format  # the GGUF's own template, or its known equivalent


def test_two_threads_set_on_another_instance(gguf: Path) -> None:
    other = EmbeddedBackend("two", gguf, model="smollm2-135m", n_threads=2, n_ctx=512)
    info = other.runtime_info()
    assert (info.n_threads, info.n_threads_batch, info.n_ctx) == (2, 2, 512)


def test_one_instance_per_process_and_model(backend: EmbeddedBackend, gguf: Path) -> None:
    twin = EmbeddedBackend("twin", gguf, model="smollm2-135m", n_threads=1, n_ctx=1024)
    with embedded._LOCK:
        assert twin._llama() is backend._llama()


def test_streaming_yields_pieces_then_the_usage(backend: EmbeddedBackend) -> None:
    deltas: list[Delta] = list(backend.stream(QUESTION, max_tokens=24, temperature=0))
    *pieces, last = deltas
    assert len(pieces) >= 5 and all(d.text and not d.done for d in pieces)
    assert last.done and last.text == "" and last.usage is not None
    assert last.usage.completion_tokens == 24 and last.finish_reason == "length"
    assert last.usage.prompt_tokens > 10


def test_stream_and_complete_agree_at_temperature_zero(backend: EmbeddedBackend) -> None:
    """Same text, and the stream's own token count equals llama-cpp's usage of the plain
    call (computed by the library, not by Hopia)."""
    done = backend.complete(QUESTION, max_tokens=30, temperature=0)
    deltas = list(backend.stream(QUESTION, max_tokens=30, temperature=0))
    assert "".join(d.text for d in deltas) == done.text
    assert deltas[-1].usage == done.usage
    assert (done.model, done.backend) == ("smollm2-135m", "test")


def test_a_short_answer_counts_its_tokens_without_the_end_token(backend: EmbeddedBackend) -> None:
    question = [ChatMessage("user", "Reply with the single word: yes")]
    done = backend.complete(question, max_tokens=64, temperature=0)
    streamed = list(backend.stream(question, max_tokens=64, temperature=0))
    assert done.finish_reason == "stop" and streamed[-1].finish_reason == "stop"
    assert streamed[-1].usage == done.usage and done.usage.completion_tokens < 64


def test_deterministic_at_temperature_zero(backend: EmbeddedBackend) -> None:
    first = backend.complete(QUESTION, max_tokens=20, temperature=0)
    second = backend.complete(QUESTION, max_tokens=20, temperature=0)
    assert first.text == second.text and first.text.strip()


def test_the_seed_makes_sampling_reproducible(gguf: Path) -> None:
    def sample(seed: int) -> str:
        b = EmbeddedBackend("s", gguf, model="smollm2-135m", n_threads=1, n_ctx=1024, seed=seed)
        return b.complete(QUESTION, max_tokens=20, temperature=1.2).text

    assert sample(11) == sample(11)
    assert len({sample(s) for s in (1, 2, 3, 4)}) > 1  # the seed does change the sampling


def test_calls_from_several_threads_are_serialised(backend: EmbeddedBackend) -> None:
    expected = backend.complete(QUESTION, max_tokens=12, temperature=0).text
    results: list[str] = []

    def ask() -> None:
        results.append(backend.complete(QUESTION, max_tokens=12, temperature=0).text)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert results == [expected] * 3


def test_a_prompt_longer_than_the_context_is_a_french_error(gguf: Path) -> None:
    small = EmbeddedBackend("s", gguf, model="smollm2-135m", n_threads=1, n_ctx=256)
    long = [ChatMessage("user", "chat noir " * 400)]
    with pytest.raises(InvalidRequestError, match="dépasse le contexte du modèle \\(256 jetons\\)"):
        small.complete(long, max_tokens=8, temperature=0)
    with pytest.raises(InvalidRequestError, match="dépasse le contexte"):
        list(small.stream(long, max_tokens=8, temperature=0))
    # the lock was released: the model still answers
    assert small.complete(QUESTION, max_tokens=4, temperature=0).usage.completion_tokens == 4


def test_a_file_that_is_not_gguf_is_a_model_error(tmp_path: Path, gguf: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model" * 100)
    with pytest.raises(ModelError, match="ne se charge pas"):
        EmbeddedBackend("b", bad, model="bad").complete(QUESTION, max_tokens=4, temperature=0)
    with pytest.raises(ModelError, match="introuvable"):
        EmbeddedBackend("b", tmp_path / "none.gguf", model="x").complete(
            QUESTION, max_tokens=4, temperature=0
        )


def test_a_json_schema_constrains_the_answer(backend: EmbeddedBackend) -> None:
    """Constrained decoding: even the 135M model, which follows no instruction reliably,
    answers JSON valid against the schema (checked here by hand, field by field)."""
    question = [ChatMessage("user", "Patient de 67 ans, fumeur, habite à Lyon. Réponds en JSON.")]
    fmt = ResponseFormat.of_schema(SCHEMA)
    done = backend.complete(question, max_tokens=96, temperature=0, response_format=fmt)
    assert_patient(done.text)
    assert done.finish_reason == "stop"
    streamed = list(backend.stream(question, max_tokens=96, temperature=0, response_format=fmt))
    assert "".join(d.text for d in streamed) == done.text
    assert streamed[-1].usage == done.usage
    # json_object: any JSON object (no schema), where the same model unconstrained writes prose
    free = backend.complete(question, max_tokens=48, temperature=0).text
    with pytest.raises(ValueError):
        json.loads(free)
    constrained = backend.complete(
        question, max_tokens=48, temperature=0, response_format=ResponseFormat("json_object")
    )
    if constrained.finish_reason == "stop":  # whole unless the token limit cut it
        assert isinstance(json.loads(constrained.text), dict)
    else:
        assert constrained.text.lstrip().startswith("{")


def assert_patient(answer: str) -> None:
    value = json.loads(answer)
    assert set(value) == {"ville", "age", "fumeur"}
    assert isinstance(value["ville"], str) and len(value["ville"]) <= 20
    assert isinstance(value["age"], int) and isinstance(value["fumeur"], bool)


def test_the_gateway_passes_a_json_schema_to_the_embedded_runtime(
    backend: EmbeddedBackend, tmp_path: Path
) -> None:
    """``response_format`` (OpenAI's shape) through the gateway: the grammar applies, and the
    call is recorded like any other."""
    from sqlalchemy import text

    from hopia.platform.config import Settings
    from hopia.services import llm_gateway
    from hopia.services.context import Context
    from tests.conftest import TEST_AUDIT_KEY, TEST_SECRET_KEY, TEST_VAULT_KEY

    settings = Settings(
        home=tmp_path, secret_key=TEST_SECRET_KEY, vault_key=TEST_VAULT_KEY,
        audit_key=TEST_AUDIT_KEY,
    )  # fmt: skip
    request = llm_gateway.ChatRequest.of(
        messages=[{"role": "user", "content": "Patient de 67 ans, fumeur, habite à Lyon."}],
        max_tokens=96,
        temperature=0,
        task="essai.json",
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "patient", "schema": SCHEMA, "strict": True},
        },
    )
    with Context.local(settings, "test.json") as ctx:
        ctx.warehouse()
        gateway = llm_gateway.Gateway({"test": backend})
        result = llm_gateway.complete(ctx, request, gateway=gateway)
        assert_patient(result.completion.text)
        with ctx.warehouse().engine.connect() as conn:
            row = conn.execute(
                text("SELECT task, completion_tokens FROM hopia_meta.llm_usage")
            ).one()
        assert row.task == "essai.json"
        assert row.completion_tokens == result.completion.usage.completion_tokens


def test_a_stream_closed_early_releases_the_model(backend: EmbeddedBackend) -> None:
    """A reader that stops (a closed browser tab) must not keep the lock: the next call runs,
    and gives the answer it gives on a fresh model."""
    expected = backend.complete(QUESTION, max_tokens=8, temperature=0).text
    pieces = backend.stream(QUESTION, max_tokens=64, temperature=0)
    assert next(pieces).text
    pieces.close()
    assert "generate" not in vars(backend._llama())  # the token counter is detached
    assert backend.complete(QUESTION, max_tokens=8, temperature=0).text == expected

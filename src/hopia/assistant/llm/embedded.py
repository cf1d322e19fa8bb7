"""The embedded runtime: llama.cpp (``llama-cpp-python``, the ``llm`` extra) in this process,
over a GGUF file, on the CPU.

- The chat template is the GGUF's own (llama-cpp-python reads ``tokenizer.chat_template``).
- Threads are explicit (``n_threads``, for generation and prompt processing alike): llama.cpp's
  default takes every core, which starves the other services of a 2-core machine.
- One model instance per process and file, loaded at the first call, and one lock around every
  call: llama.cpp contexts are not thread-safe, and a second copy would double the memory.
- Temperature 0 is greedy decoding, and the seed is passed on every call: the same prompt gives
  the same answer.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hopia.assistant.llm.base import ChatMessage, Completion, Delta, ResponseFormat, Usage
from hopia.platform.exceptions import InvalidRequestError, MissingExtraError, ModelError

# Every model loaded in this process, by (file, context, threads); the lock serialises loads
# and generations (a streamed answer holds it until its last piece). A plain lock, not an RLock:
# a web server may pull successive pieces of one stream from different threads.
_LOCK = threading.Lock()
_MODELS: dict[tuple[str, int, int], Any] = {}


def _close_all() -> None:
    """Free the loaded models while llama_cpp's module is still whole: left to interpreter
    teardown, each instance's ``__del__`` calls functions already gone and prints a traceback."""
    while _MODELS:
        _, llm = _MODELS.popitem()
        llm.close()


atexit.register(_close_all)


def _llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise MissingExtraError(
            "le moteur embarqué (llama.cpp) n'est pas installé : lancez « make llm » (option "
            "« llm » de Hopia, llama-cpp-python compilé une fois puis réutilisé)",
            details={"module": "llama_cpp", "extra": "llm"},
        ) from exc
    return llama_cpp


def llama_available() -> bool:
    """Whether the ``llm`` extra is installed (the embedded runtime can run here)."""
    try:
        _llama_cpp()
    except MissingExtraError:
        return False
    return True


@dataclass(frozen=True)
class RuntimeInfo:
    """What llama.cpp itself reports about a loaded model (not what was asked for)."""

    path: str
    n_threads: int
    n_threads_batch: int
    n_ctx: int
    chat_format: str


class EmbeddedBackend:
    """:class:`~hopia.assistant.llm.base.ChatBackend` over a GGUF file run by llama.cpp.

    ``model_file`` is the GGUF path, or a function giving it (the packaged model, assembled
    at the first call rather than when the settings are read)."""

    def __init__(
        self,
        name: str,
        model_file: Path | Callable[[], Path],
        *,
        model: str,
        parameters_b: float | None = None,
        n_threads: int = 2,
        n_ctx: int = 4096,
        seed: int = 42,
        local: bool = True,
    ) -> None:
        if n_threads < 1 or n_ctx < 1:
            raise ValueError("n_threads and n_ctx must be positive")
        self.name = name
        self.model = model
        self.local = local  # in process: always on the hospital's machine, unless said otherwise
        self.parameters_b = parameters_b
        self.n_threads = n_threads
        self.n_ctx = n_ctx
        self.seed = seed
        self._model_file = model_file

    # -- loading ---------------------------------------------------------------------------------

    def model_path(self) -> Path:
        return Path(self._model_file() if callable(self._model_file) else self._model_file)

    def _llama(self) -> Any:
        """The process's instance of this model, loaded on first use (call under ``_LOCK``)."""
        llama_cpp = _llama_cpp()
        path = self.model_path()
        key = (str(path.resolve()), self.n_ctx, self.n_threads)
        loaded = _MODELS.get(key)
        if loaded is not None:
            return loaded
        if not path.is_file():
            raise ModelError(
                f"fichier du modèle introuvable : {path} (modèle « {self.model} »)",
                fields=("model_path",),
            )
        try:
            loaded = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                # prompt processing too: its default is every core of the machine
                n_threads_batch=self.n_threads,
                seed=self.seed,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelError(
                f"le modèle « {self.model} » ne se charge pas ({path.name}) : fichier GGUF "
                "invalide ou incompatible avec cette version de llama.cpp",
                fields=("model_path",),
            ) from exc
        _MODELS[key] = loaded
        return loaded

    def runtime_info(self) -> RuntimeInfo:
        """Load the model (if needed) and say what llama.cpp runs it with."""
        llama_cpp = _llama_cpp()
        with _LOCK:
            llm = self._llama()
            ctx = llm.ctx
            return RuntimeInfo(
                path=str(self.model_path()),
                n_threads=int(llama_cpp.llama_n_threads(ctx)),
                n_threads_batch=int(llama_cpp.llama_n_threads_batch(ctx)),
                n_ctx=int(llama_cpp.llama_n_ctx(ctx)),
                chat_format=str(llm.chat_format),
            )

    # -- chat ------------------------------------------------------------------------------------

    def _arguments(
        self,
        messages: Sequence[ChatMessage],
        max_tokens: int,
        temperature: float,
        response_format: ResponseFormat | None,
    ) -> dict[str, Any]:
        if max_tokens < 1:
            raise InvalidRequestError("« max_tokens » : au moins 1 jeton", fields=("max_tokens",))
        if not messages:
            raise InvalidRequestError("« messages » : au moins un message", fields=("messages",))
        arguments: dict[str, Any] = {
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": max_tokens,
            "temperature": max(0.0, float(temperature)),  # 0: greedy, reproducible
            "seed": self.seed,
        }
        if response_format is not None:
            # llama.cpp compiles the schema (or, without one, JSON itself) into a grammar: every
            # token sampled keeps the answer a prefix of a JSON value valid against it
            # (complete unless max_tokens cuts it)
            constraint: dict[str, Any] = {"type": "json_object"}
            if response_format.type == "json_schema" and response_format.schema is not None:
                constraint["schema"] = dict(response_format.schema)
            arguments["response_format"] = constraint
        return arguments

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        response_format: ResponseFormat | None = None,
    ) -> Completion:
        """The whole answer; with ``response_format``, JSON (valid against its schema) by
        constrained decoding."""
        arguments = self._arguments(messages, max_tokens, temperature, response_format)
        with _LOCK:
            llm = self._llama()
            with _context_errors(self.n_ctx):
                answer = llm.create_chat_completion(**arguments)
        choice = answer["choices"][0]
        usage = answer["usage"]
        return Completion(
            text=choice["message"].get("content") or "",
            usage=Usage(int(usage["prompt_tokens"]), int(usage["completion_tokens"])),
            model=self.model,
            backend=self.name,
            finish_reason=choice.get("finish_reason") or "stop",
        )

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        response_format: ResponseFormat | None = None,
    ) -> Iterator[Delta]:
        """The answer piece by piece; the last :class:`Delta` carries the usage. The model's
        lock is held until the stream ends or is closed."""
        arguments = self._arguments(messages, max_tokens, temperature, response_format)
        with _LOCK:
            llm = self._llama()
            counter = _TokenCounter(llm)
            finish = None
            try:
                with _context_errors(self.n_ctx):
                    chunks = llm.create_chat_completion(stream=True, **arguments)
                    for chunk in chunks:
                        choice = chunk["choices"][0]
                        text = choice.get("delta", {}).get("content")
                        finish = choice.get("finish_reason") or finish
                        if text:
                            yield Delta(text=text)
            finally:
                counter.detach()
        yield Delta(text="", done=True, usage=counter.usage(), finish_reason=finish or "stop")


@contextmanager
def _context_errors(n_ctx: int) -> Iterator[None]:
    """llama-cpp-python's ``ValueError`` for a prompt longer than the context, in French."""
    try:
        yield
    except ValueError as exc:
        if "context window" not in str(exc):
            raise
        raise InvalidRequestError(
            f"« messages » : la conversation dépasse le contexte du modèle ({n_ctx} jetons) ; "
            "raccourcissez-la",
            fields=("messages",),
        ) from exc


class _TokenCounter:
    """Exact token counts of a streamed answer. llama-cpp-python's stream carries no usage, so
    this wraps the instance's ``generate`` for one call: the prompt tokens are the tokens it is
    given, the completion tokens the ones it yields, less the end-of-generation token —
    exactly what the non-streamed call reports as its usage."""

    def __init__(self, llm: Any) -> None:
        import llama_cpp

        self.llm = llm
        self.prompt_tokens = 0
        self.completion_tokens = 0
        original = llm.generate

        def counting(tokens: Sequence[int], *args: Any, **kwargs: Any) -> Iterator[int]:
            self.prompt_tokens = len(tokens)
            generator = original(tokens, *args, **kwargs)
            sent = None
            while True:
                try:
                    token = generator.send(sent)
                except StopIteration:
                    return
                if not llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):
                    self.completion_tokens += 1
                sent = yield token

        llm.generate = counting

    def detach(self) -> None:
        self.llm.__dict__.pop("generate", None)

    def usage(self) -> Usage:
        return Usage(self.prompt_tokens, self.completion_tokens)

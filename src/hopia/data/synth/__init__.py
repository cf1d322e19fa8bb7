"""``hopia synth``: a deterministic synthetic CHU (patients, visits, French clinical documents)
with gold annotations of PHI spans and clinical facts, for tests and benchmarks.

>>> from pathlib import Path
>>> from hopia.data.synth import generate, write_corpus
>>> corpus = generate(n_patients=20, seed=42)
>>> counts = write_corpus(corpus, Path("data/synth"))  # doctest: +SKIP
"""

from __future__ import annotations

from .annotate import PHI_LABELS
from .generator import GENERATOR_VERSION, generate
from .model import Rendition, SynthCorpus, SynthDocument, SynthPatient
from .writer import write_corpus

__all__ = [
    "GENERATOR_VERSION",
    "PHI_LABELS",
    "Rendition",
    "SynthCorpus",
    "SynthDocument",
    "SynthPatient",
    "generate",
    "write_corpus",
]

"""The statistical clinical NER: a small spaCy ``ner`` over a hash-embedding CNN, no vectors.

The model never tokenises: it reads the tokens of the EDS-NLP doc (its words and spaces) rebuilt
as a doc of its own vocabulary, so training and prediction see the same tokens as the rest of
the pipeline and the predicted spans fall on EDS-NLP token boundaries. Its features (lower-case
form, prefix, suffix, shape) come from its own vocabulary, never from ``eds.normalizer``'s
rewritten norms.

The shipped weights live in ``model_weights/`` next to this file, built by
``hopia nlp train`` (never downloaded).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hopia.platform.exceptions import ModelError
from hopia.platform.models import small_ner

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

# Shared 2-core machines: one BLAS/OpenMP thread (numpy reads these when first imported).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

WEIGHTS_DIR = Path(__file__).with_name("model_weights")
#: The semantic groups the model learns (QUAERO's, see :mod:`hopia.data.nlp.pipes`).
LABELS: tuple[str, ...] = ("DISO", "CHEM", "PROC", "ANAT")
#: Width/depth/rows of the shipped model; ``hopia nlp train`` may override them.
DEFAULT_ARCH: dict[str, int] = {"width": 64, "depth": 3, "embed_rows": 4_000, "hidden": 64}


def build_model(arch: dict[str, int] | None = None, labels: Sequence[str] = LABELS) -> Language:
    """A blank French spaCy pipeline holding one untrained ``ner`` (tok2vec inside it)."""
    return small_ner(labels, {**DEFAULT_ARCH, **(arch or {})})


def model_doc(model: Language, words: list[str], spaces: list[bool]) -> Doc:
    """A doc of the model's vocabulary with exactly these tokens (same character offsets)."""
    from spacy.tokens import Doc

    return Doc(model.vocab, words=words, spaces=spaces)


def tokens_of(doc: Doc) -> tuple[list[str], list[bool]]:
    """The words and trailing-space flags of an (EDS-NLP) doc."""
    return [t.text for t in doc], [bool(t.whitespace_) for t in doc]


_cache: dict[Path, Language] = {}
_lock = threading.Lock()


def load_model(folder: str | Path | None = None) -> Language:
    """The spaCy model in ``folder`` (default: the shipped weights), loaded once per process.

    Raises
    ------
    ModelError
        No model there, or it cannot be read.
    """
    path = Path(folder or WEIGHTS_DIR).resolve()
    with _lock:
        model = _cache.get(path)
        if model is None:
            model = _cache[path] = _load(path)
    return model


def _load(folder: Path) -> Language:
    import spacy
    from spacy.pipeline.factories import register_factories

    # spaCy registers "ner" in Language.__init__; a process that only unpickled the EDS-NLP
    # pipeline never ran it, and spacy.load would not find the factory.
    register_factories()
    if not (folder / "config.cfg").is_file():
        raise ModelError(
            f"modèle de TAL clinique absent : {folder} (le construire avec hopia nlp train)"
        )
    try:
        # The model never tokenises (docs are rebuilt from EDS-NLP's tokens), and compiling the
        # French tokenizer's regexes costs seconds: a whitespace tokenizer stands in for it.
        _register_unused_tokenizer()
        config = spacy.util.load_config(folder / "config.cfg")
        config["nlp"]["tokenizer"] = {"@tokenizers": "hopia.unused_tokenizer.v1"}
        config["nlp"]["lang"] = "xx"
        nlp = spacy.util.load_model_from_config(config, auto_fill=True)
        return nlp.from_disk(folder, exclude=["tokenizer"])
    except Exception as exc:  # a corrupt or incompatible folder: say which one
        raise ModelError(f"modèle de TAL clinique illisible : {folder}") from exc


def _register_unused_tokenizer() -> None:
    from spacy.util import registry

    if "hopia.unused_tokenizer.v1" not in registry.tokenizers:
        registry.tokenizers.register("hopia.unused_tokenizer.v1", func=_unused_tokenizer)


def _unused_tokenizer() -> Callable[[Language], Callable[[str], Doc]]:
    def create(nlp: Language) -> Callable[[str], Doc]:
        from spacy.tokens import Doc

        return lambda text: Doc(nlp.vocab, words=text.split())

    return create

"""Hopia's own trained model folders (spaCy): written atomically, every file sha256-summed.

Both trainers (PHI detection, clinical mentions) write their weights here the same way, so a
hospital can check a shipped folder against the digests recorded in its ``meta.json``.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hopia.platform.files import sha256_file, staging_dir

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.training import Example


def weights_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file of a model folder but meta.json, and of all of them together."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "meta.json")
    total = hashlib.sha256()
    out = {}
    for p in files:
        rel = p.relative_to(folder).as_posix()
        digest = sha256_file(p)
        out[rel] = digest
        total.update(f"{rel}\0{digest}\n".encode())
    out["*"] = total.hexdigest()
    return out


def save_spacy_model(
    model: Language, out: Path, spacy_meta: dict[str, Any], hopia_meta: dict[str, Any]
) -> dict[str, Any]:
    """Write ``model`` into a temporary sibling folder renamed to ``out``: never a half-written
    model. ``spacy_meta`` goes into spaCy's meta (name, version, description, licence…);
    ``hopia_meta`` under its ``"hopia"`` key, completed with the spaCy version and the digests.
    Return the completed ``hopia_meta``."""
    import spacy

    with staging_dir(out) as staging:
        tmp = staging.path
        model.meta.update(spacy_version=f">={spacy.__version__},<3.9.0", **spacy_meta)
        model.to_disk(tmp)
        digest = weights_digest(tmp)
        meta_path = tmp / "meta.json"
        full = json.loads(meta_path.read_text(encoding="utf-8"))
        full["hopia"] = meta = {
            **hopia_meta,
            "spacy": spacy.__version__,
            "weights_sha256": digest["ner/model"],
            "files_sha256": digest,
        }
        meta_path.write_text(json.dumps(full, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return meta


def small_ner(labels: Sequence[str], arch: dict[str, int]) -> Language:
    """A blank French spaCy pipeline holding one untrained ``ner`` over a small hash-embedding
    CNN (no vectors), its tok2vec inside it: one component, one file, a few MB, CPU-fast.

    ``arch``: ``width``, ``depth``, ``embed_rows`` of the CNN and ``hidden`` of the parser.
    """
    import spacy
    from spacy.pipeline.factories import register_factories

    # spaCy registers "ner" in Language.__init__; a process that only unpickled an EDS-NLP
    # pipeline never ran it.
    register_factories()
    nlp = spacy.blank("fr")
    ner = nlp.add_pipe(
        "ner",
        config={
            "model": {
                "@architectures": "spacy.TransitionBasedParser.v2",
                "state_type": "ner",
                "extra_state_tokens": False,
                "hidden_width": arch["hidden"],
                "maxout_pieces": 2,
                "use_upper": True,
                "nO": None,
                "tok2vec": {
                    "@architectures": "spacy.HashEmbedCNN.v2",
                    "pretrained_vectors": None,
                    "width": arch["width"],
                    "depth": arch["depth"],
                    "embed_size": arch["embed_rows"],
                    "window_size": 1,
                    "maxout_pieces": 3,
                    "subword_features": True,
                },
            }
        },
    )
    for label in labels:
        ner.add_label(label)
    return nlp


@dataclass(frozen=True)
class LoopSettings:
    """The knobs of :func:`train_ner_loop` (each trainer's config holds them)."""

    seed: int
    max_minutes: float
    max_epochs: int
    patience: int  # evaluations without a better dev score before stopping
    dropout: float
    batch_words: tuple[int, int]  # compounding batch size, in words

    @classmethod
    def of(cls, config: Any) -> LoopSettings:
        """The loop's knobs read from a trainer's config (same field names)."""
        return cls(*(getattr(config, f.name) for f in fields(cls)))


@dataclass
class LoopResult:
    """The best epoch's NER weights and how training went (for ``meta.json``)."""

    score: float
    ner_bytes: bytes
    dev_scores: dict[str, Any]
    best_epoch: int
    epochs_run: int
    stopped_by: str  # max_epochs | time_budget | early_stopping
    history: list[dict[str, Any]] = field(default_factory=list)
    words_seen: int = 0

    def best_model(self, build: Callable[[], Language], init: Sequence[Example]) -> Language:
        """A fresh pipeline (``build()``) holding the best weights: its vocabulary keeps no
        training-text strings; ``init`` gives it the trained one's transition moves."""
        model = build()
        model.initialize(lambda: init)
        model.get_pipe("ner").from_bytes(self.ner_bytes, exclude=["vocab"])
        return model

    def summary(self, started: float) -> dict[str, Any]:
        """The run's facts for ``meta.json`` (``started``: its ``time.monotonic()``)."""
        from datetime import UTC, datetime

        return {
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "training_seconds": round(time.monotonic() - started, 1),
            "stopped_by": self.stopped_by,
            "epochs_run": self.epochs_run,
            "best_epoch": self.best_epoch,
            "words_seen": self.words_seen,
            "history": self.history,
        }


def train_ner_loop(
    nlp: Language,
    optimizer: Any,
    train: Sequence[Example],
    dev_score: Callable[[Language], tuple[float, dict[str, Any]]] | None,
    settings: LoopSettings,
    *,
    started: float,
    log: Callable[[str], None],
) -> LoopResult:
    """Train the ``ner`` of ``nlp`` (``optimizer`` from its ``initialize``) on ``train``.

    Each epoch shuffles (seeded), batches by words, updates, then scores the averaged weights
    with ``dev_score`` (``(score, details)``; None: no dev set, every epoch counts as best). The
    best epoch's weights are kept; training stops early after ``patience`` epochs without a
    better score, or when ``max_minutes`` have passed since ``started`` (``time.monotonic()``).
    """
    from spacy.training.batchers import minibatch_by_words
    from spacy.util import compounding

    rng = random.Random(settings.seed)
    budget = settings.max_minutes * 60
    best: LoopResult | None = None
    history: list[dict[str, Any]] = []
    stop, stale, words = "max_epochs", 0, 0
    epoch = 0
    for epoch in range(1, settings.max_epochs + 1):
        order = list(train)
        rng.shuffle(order)
        losses: dict[str, float] = {}
        sizes = compounding(*settings.batch_words, 1.001)
        for batch in minibatch_by_words(order, size=sizes, tolerance=0.2):
            nlp.update(batch, drop=settings.dropout, sgd=optimizer, losses=losses)
            words += sum(len(ex.reference) for ex in batch)
            if time.monotonic() - started > budget:
                stop = "time_budget"
                break
        with nlp.use_params(optimizer.averages):
            score, details = dev_score(nlp) if dev_score else (0.0, {})
            improved = best is None or dev_score is None or score > best.score
            if improved:
                ner_bytes = nlp.get_pipe("ner").to_bytes(exclude=["vocab"])
                best = LoopResult(score, ner_bytes, details, epoch, epoch, stop)
        stale = 0 if improved else stale + 1
        loss = float(losses.get("ner", 0.0))
        history.append({"epoch": epoch, "loss": round(loss, 2), "dev": score})
        log(
            f"époque {epoch} : perte {loss:.1f}, dev F {score:.4f}{' *' if improved else ''} "
            f"({(time.monotonic() - started) / 60:.1f} min)"
        )
        if stop == "time_budget":
            break
        if dev_score and stale >= settings.patience:
            stop = "early_stopping"
            break
    assert best is not None, "max_epochs >= 1"
    best.epochs_run, best.stopped_by, best.history, best.words_seen = epoch, stop, history, words
    return best

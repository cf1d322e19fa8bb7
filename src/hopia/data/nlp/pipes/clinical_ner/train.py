"""Train the clinical NER of :mod:`.model` on a BRAT corpus (QUAERO TRAIN), on CPU.

Data: every ``.txt``/``.ann`` pair of the folder (:func:`hopia.data.nlp.evaluate.read_brat`).
Mentions of :data:`~.model.LABELS` only; discontinuous ones are left out; where mentions
overlap (QUAERO nests "cancers" inside "cancers colorectaux", "hépatiques" ANAT inside
"métastases hépatiques" DISO) the longest is kept, since a spaCy NER predicts one flat layer.
Texts are cut at line breaks into examples and tokenised by EDS-NLP's tokenizer, as at
prediction time.

Model selection: a dev part taken from the training folder only (documents whose salted id hash
is under ``dev_fraction``) drives early stopping on exact-span F1; the corpus' own dev and test
parts are never seen here (``hopia nlp eval`` reports them).

Reproducibility: the same folder, seed and settings give the same weights on the same machine
(fixed seeds, one thread, a fixed example order) as long as training stops on early stopping or
``max_epochs`` (``meta.json`` says which stop happened).

Interruptions: after each epoch the model (its averaged weights, as scored on dev) is written
whole to ``<out>.checkpoint`` (:func:`checkpoint_path`), a model folder usable as it is; an
interrupted run keeps its last epoch there. ``resume=True`` starts from that checkpoint (same
configuration only) and runs the epochs left; the checkpoint is removed once ``out`` is written.
A resumed run is not bit-identical to an uninterrupted one (the optimiser's moments restart).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hopia.data.nlp.evaluate.gold import GoldDoc, Mention, read_brat
from hopia.data.nlp.pipes.clinical_ner.model import DEFAULT_ARCH, LABELS, build_model
from hopia.platform.exceptions import ModelError
from hopia.platform.models import LoopSettings, save_spacy_model, train_ner_loop
from hopia.platform.splits import note_hash

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.training import Example

DEV_SALT = "clinical_ner:dev:"
MODEL_NAME = "hopia_clinical_ner"
MODEL_VERSION = "1.0.0"


@dataclass
class NerTrainConfig:
    """What a training run depends on (recorded in ``meta.json``)."""

    brat: Path
    seed: int = 13
    max_minutes: float = 40.0  # a safety net: the shipped run stops on max_epochs (7 min)
    max_epochs: int = 12
    patience: int = 6  # evaluations without a better dev score before stopping
    dev_fraction: float = 0.15
    dropout: float = 0.2
    batch_words: tuple[int, int] = (100, 1000)  # compounding batch size, in words
    labels: tuple[str, ...] = LABELS
    arch: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_ARCH))


def flat_mentions(
    mentions: Iterable[Mention], labels: Sequence[str], stats: Counter[str]
) -> list[tuple[int, int, str]]:
    """One flat layer of (start, end, label): wanted labels, contiguous, longest per overlap
    (ties: the earlier, then the label order of ``labels``)."""
    rank = {label: i for i, label in enumerate(labels)}
    candidates = []
    for m in mentions:
        if m.label not in rank:
            continue
        stats["mentions"] += 1
        if len(m.fragments) > 1:
            stats["discontinuous"] += 1
            continue
        candidates.append((m.start, m.end, m.label))
    candidates = sorted(set(candidates), key=lambda x: (x[0] - x[1], x[0], rank[x[2]]))
    kept: list[tuple[int, int, str]] = []
    for start, end, label in candidates:
        if any(start < e and s < end for s, e, _ in kept):
            stats["nested_or_crossing"] += 1
            continue
        kept.append((start, end, label))
    return sorted(kept)


def split_dev(docs: Sequence[GoldDoc], fraction: float) -> tuple[list[GoldDoc], list[GoldDoc]]:
    """(train, dev) by a salted hash of the document id: deterministic, order-independent."""
    train = [d for d in docs if note_hash(d.id, DEV_SALT) >= fraction]
    dev = [d for d in docs if note_hash(d.id, DEV_SALT) < fraction]
    return train, dev


def to_examples(
    model: Language, docs: Iterable[GoldDoc], labels: Sequence[str], stats: Counter[str]
) -> list[Example]:
    """One example per non-blank line, tokenised by EDS-NLP's tokenizer."""
    import edsnlp
    from spacy.training import Example

    from hopia.data.nlp.pipes.clinical_ner.model import model_doc, tokens_of

    tokenizer = edsnlp.blank("eds").tokenizer
    examples = []
    for doc in docs:
        spans = flat_mentions(doc.mentions, labels, stats)
        pos = 0
        for line in doc.text.split("\n"):
            start, end = pos, pos + len(line)
            pos = end + 1
            if not line.strip():
                continue
            words, spaces = tokens_of(tokenizer(line))
            ref = model_doc(model, words, spaces)
            ents, last = [], 0
            for s, e, label in spans:
                if e <= start or s >= end:
                    continue
                if s < start or e > end:
                    stats["across_lines"] += 1
                    continue
                span = ref.char_span(s - start, e - start, label, alignment_mode="expand")
                if span is None or span.start_char < last:
                    stats["unaligned"] += 1
                    continue
                ents.append(span)
                last = span.end_char
            ref.ents = ents
            stats["trained_mentions"] += len(ents)
            examples.append(Example(model_doc(model, words, spaces), ref))
    return examples


def _dev_score(model: Language, examples: list[Example]) -> dict[str, Any]:
    s = model.evaluate(examples)
    return {
        "p": round(float(s["ents_p"] or 0.0), 4),
        "r": round(float(s["ents_r"] or 0.0), 4),
        "f": round(float(s["ents_f"] or 0.0), 4),
        "per_label": {
            k: {m: round(float(v[m]), 4) for m in ("p", "r", "f")}
            for k, v in sorted((s.get("ents_per_type") or {}).items())
        },
    }


def _scored(scores: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    return scores["f"], scores


def checkpoint_path(out: Path) -> Path:
    """Where a training run writing ``out`` keeps its last epoch."""
    return Path(out).with_name(Path(out).name + ".checkpoint")


def config_key(config: NerTrainConfig) -> str:
    """What a checkpoint must share with a run to be resumed by it (not the time budget)."""
    keep = {k: v for k, v in asdict(config).items() if k not in ("brat", "max_minutes")}
    keep["brat_folder"] = Path(config.brat).name
    keep.pop("max_epochs")
    text = json.dumps(keep, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _read_checkpoint(folder: Path, key: str) -> int:
    """The epoch a checkpoint was written after; ModelError if it is another run's."""
    try:
        meta = json.loads((folder / "meta.json").read_text("utf-8"))["hopia"]["checkpoint"]
        epoch, found = int(meta["epoch"]), str(meta["config_key"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"point de reprise illisible : {folder}") from exc
    if found != key:
        raise ModelError(
            f"le point de reprise {folder} vient d'un entraînement d'une autre configuration"
        )
    return epoch


def train_model(
    out: Path,
    config: NerTrainConfig,
    log: Callable[[str], None] | None = None,
    *,
    resume: bool = False,
) -> dict[str, Any]:
    """Train, then write the model folder ``out`` atomically; return its ``hopia`` metadata.

    Each epoch is checkpointed to :func:`checkpoint_path` (``out``); ``resume`` continues from
    it when it exists.

    Raises
    ------
    SourceError
        The BRAT folder is missing or malformed.
    ModelError
        No training mention at all.
    """
    from spacy.util import fix_random_seed

    log = log or (lambda _msg: None)
    t0 = time.monotonic()
    gold = read_brat(config.brat)
    train_docs, dev_docs = split_dev(gold.docs, config.dev_fraction)
    fix_random_seed(config.seed)
    model = build_model(config.arch, config.labels)
    stats: Counter[str] = Counter()
    train_ex = to_examples(model, train_docs, config.labels, stats)
    dev_ex = to_examples(model, dev_docs, config.labels, Counter())
    if not stats["trained_mentions"]:
        raise ModelError(f"aucune mention {', '.join(config.labels)} dans {config.brat}")
    log(
        f"{len(train_docs)} documents d'entraînement ({len(train_ex)} exemples, "
        f"{stats['trained_mentions']} mentions), {len(dev_docs)} documents de dev"
    )

    optimizer = model.initialize(lambda: train_ex)
    checkpoint, key = checkpoint_path(Path(out)), config_key(config)
    done = 0
    if resume and checkpoint.is_dir():
        done = _read_checkpoint(checkpoint, key)
        model.get_pipe("ner").from_disk(checkpoint / "ner", exclude=["vocab"])
        log(f"reprise après l'époque {done} ({checkpoint})")
    settings = replace(LoopSettings.of(config), max_epochs=max(1, config.max_epochs - done))
    epochs = iter(range(done + 1, 10**9))

    def score_and_keep(m: Language) -> tuple[float, dict[str, Any]]:
        # called once per epoch, with the averaged weights in place: what is scored is kept
        score, details = _scored(_dev_score(m, dev_ex))
        epoch = next(epochs)
        _save(m, checkpoint, {"checkpoint": {"epoch": epoch, "config_key": key, "dev_f": score}})
        return score, details

    loop = train_ner_loop(
        model,
        optimizer,
        train_ex,
        # no dev set (a tiny folder): no scorer, every epoch counts as best, no checkpoint
        score_and_keep if dev_ex else None,
        settings,
        started=t0,
        log=log,
    )
    dev_scores = loop.dev_scores or {"f": 0.0}

    final = loop.best_model(lambda: build_model(config.arch, config.labels), train_ex[:200])
    meta = {
        **loop.summary(t0),
        "dev_of_train": dev_scores,
        "config": {
            **{k: v for k, v in asdict(config).items() if k != "brat"},
            "brat_folder": Path(config.brat).name,
            "arch": {**DEFAULT_ARCH, **config.arch},
        },
        "data": {
            "description": (
                "QUAERO French Medical Corpus, CLEF eHealth release, TRAIN part only (GNU FDL); "
                f"dev-of-train = documents with note_hash(id, {DEV_SALT!r}) < "
                f"{config.dev_fraction}"
            ),
            "train_documents": len(train_docs),
            "dev_documents": len(dev_docs),
            "train_examples": len(train_ex),
            "mention_stats": dict(sorted(stats.items())),
            "train_labels": dict(
                sorted(Counter(e.label_ for ex in train_ex for e in ex.reference.ents).items())
            ),
        },
    }
    if done:
        meta["resumed_after_epoch"] = done
    meta = _write_atomically(final, Path(out), meta)
    shutil.rmtree(checkpoint, ignore_errors=True)  # out is whole now
    minutes = meta["training_seconds"] / 60
    log(f"modèle écrit dans {out} ({minutes:.1f} min, dev F {loop.score:.4f})")
    return meta


def _save(model: Language, folder: Path, meta: dict[str, Any]) -> None:
    spacy_meta = {"name": MODEL_NAME, "version": MODEL_VERSION}
    save_spacy_model(model, folder, spacy_meta, meta)


def _write_atomically(model: Language, out: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Write the model (atomically, sha256-summed); return ``meta`` as written in meta.json."""
    spacy_meta = {
        "name": MODEL_NAME,
        "version": MODEL_VERSION,
        "description": "Hopia: clinical mention NER (DISO, CHEM, PROC, ANAT), small CNN, CPU",
        "license": "GNU FDL (GFDL): trained on the QUAERO French Medical Corpus (GFDL)",
        "performance": {"dev_of_train_f": meta["dev_of_train"]["f"]},
    }
    return save_spacy_model(model, out, spacy_meta, meta)

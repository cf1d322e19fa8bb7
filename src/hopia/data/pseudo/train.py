"""Train the statistical PHI detector of :mod:`hopia.data.pseudo.model` on CPU.

Training data: the notes the caller hands over (the service generates a synthetic CHU in
memory, ``hopia.services.pseudo``) plus the annotated notes of a shared folder (``*.jsonl``
lines ``{note_id, note_text, entities}``) minus their held-out part
(:func:`hopia.platform.splits.is_held_out`), which is never trained on. A dev part, taken
from the training notes only, drives early stopping.

Reproducibility: the same inputs, seed and settings give the same weights on the same machine
(fixed seeds, one thread, a fixed example order) as long as training stops on early stopping or
``max_epochs``; a stop on the time budget depends on the machine's speed (``meta.json`` says
which stop happened).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hopia.data.pseudo.model import DEFAULT_ARCH, MAX_CHUNK_CHARS, build_nlp
from hopia.data.records import PHI_LABELS as LABELS
from hopia.platform.exceptions import ModelError, NotFoundError, SourceError
from hopia.platform.files import jsonl_records
from hopia.platform.models import LoopSettings, save_spacy_model, train_ner_loop
from hopia.platform.splits import HELD_OUT_FRACTION, is_held_out, note_hash
from hopia.platform.text import chunk_bounds

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.training import Example

DEV_FRACTION = 0.1
DEV_SALT = "dev:"  # independent of the held-out hash: dev notes are spread like the others
MODEL_NAME = "hopia_phi"
MODEL_VERSION = "1.0.0"


@dataclass(frozen=True)
class Note:
    """One annotated text: gold spans as (start, end, label) character offsets."""

    note_id: str
    text: str
    entities: tuple[tuple[int, int, str], ...]
    source: str  # "synth" or the shared file's stem


@dataclass
class PhiTrainConfig:
    """What a training run depends on (recorded in ``meta.json``)."""

    shared: Path | None = None
    synth_patients: int = 150
    seed: int = 101
    max_minutes: float = 20.0
    max_epochs: int = 12
    patience: int = 4  # evaluations without a better dev score before stopping
    dev_fraction: float = DEV_FRACTION
    # The shared notes are ten times fewer than the synthetic ones, closer to real notes, and
    # what the generator does not produce (lower-case names, letter-spaced numbers): seen
    # ``shared_repeat`` times an epoch.
    shared_repeat: int = 3
    dropout: float = 0.1
    batch_words: tuple[int, int] = (100, 1000)  # compounding batch size, in words
    arch: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_ARCH))


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


def read_shared(folder: Path) -> tuple[list[Note], Counter[str]]:
    """The trainable notes of every ``*.jsonl`` in ``folder`` (held-out ones left out) and, per
    file, how many were held out."""
    notes: list[Note] = []
    held: Counter[str] = Counter()
    files = sorted(Path(folder).glob("*.jsonl"))
    if not files:
        raise NotFoundError(f"{folder} : aucun fichier *.jsonl", fields=("shared",))
    for path in files:
        for where, row in jsonl_records(path):
            try:
                note_id = str(row["note_id"])
                text = row["note_text"]
                ents = tuple((int(e["start"]), int(e["end"]), e["label"]) for e in row["entities"])
            except (KeyError, TypeError, ValueError) as exc:
                raise SourceError(
                    where, f"note annotée illisible ({type(exc).__name__} : {exc})"
                ) from None
            if is_held_out(note_id):
                held[path.stem] += 1
                continue
            notes.append(Note(note_id, text, ents, path.stem))
    return notes, held


def to_examples(nlp: Language, notes: Iterable[Note]) -> tuple[list[Example], Counter[str]]:
    """spaCy examples (long notes cut like at prediction time) and counts of what was kept or
    dropped: spans widened to token bounds (``alignment_mode="expand"``) are kept; a span that
    still cannot be placed, overlaps another or crosses a chunk boundary is dropped."""
    from spacy.training import Example

    examples: list[Example] = []
    stats: Counter[str] = Counter()
    for note in notes:
        for start, end in chunk_bounds(note.text, MAX_CHUNK_CHARS):
            chunk = note.text[start:end]
            if not chunk.strip():
                continue
            ref = nlp.make_doc(chunk)
            spans, last = [], 0
            for s, e, label in sorted(note.entities):
                if e <= start or s >= end:
                    continue
                stats["spans"] += 1
                if s < start or e > end or label not in LABELS:
                    stats["dropped"] += 1
                    continue
                span = ref.char_span(s - start, e - start, label, alignment_mode="expand")
                if span is None or span.start_char < last:
                    stats["dropped"] += 1
                    continue
                stats["expanded"] += (span.start_char, span.end_char) != (s - start, e - start)
                spans.append(span)
                last = span.end_char
            ref.ents = spans
            examples.append(Example(nlp.make_doc(chunk), ref))
            stats["examples"] += 1
    return examples, stats


def split_dev(notes: Sequence[Note], fraction: float) -> tuple[list[Note], list[Note]]:
    """(train, dev) by a salted hash of the note id: deterministic and order-independent."""
    train = [n for n in notes if note_hash(n.note_id, DEV_SALT) >= fraction]
    dev = [n for n in notes if note_hash(n.note_id, DEV_SALT) < fraction]
    return train, dev


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------


def _dev_scores(nlp: Language, dev: dict[str, list[Example]]) -> dict[str, Any]:
    """Exact-span P/R/F per dev group (synth, shared); ``score`` is their mean F, so that the
    small shared set weighs as much as the large synthetic one."""
    out: dict[str, Any] = {}
    for source, examples in sorted(dev.items()):
        s = nlp.evaluate(examples)
        out[source] = {
            "p": round(float(s["ents_p"] or 0.0), 4),
            "r": round(float(s["ents_r"] or 0.0), 4),
            "f": round(float(s["ents_f"] or 0.0), 4),
            "per_label": {
                k: {m: round(float(v[m]), 4) for m in ("p", "r", "f")}
                for k, v in sorted((s.get("ents_per_type") or {}).items())
            },
        }
    fs = [v["f"] for v in out.values()]
    out["score"] = round(sum(fs) / len(fs), 4) if fs else 0.0
    return out


def _scored(scores: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    return scores["score"], scores


def train_model(
    out: Path,
    config: PhiTrainConfig,
    synth: Sequence[Note] = (),
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train on ``synth`` (notes of ``source == "synth"``, generated by the caller from
    ``config.synth_patients`` and ``config.seed``) and the shared folder, then write the model
    folder ``out`` atomically; return its ``hopia`` metadata.

    Raises
    ------
    ModelError
        No training data at all.
    """
    from spacy.util import fix_random_seed

    log = log or (lambda _msg: None)
    t0 = time.monotonic()
    shared_notes, held = read_shared(config.shared) if config.shared else ([], Counter())
    train_notes, dev_notes = split_dev([*synth, *shared_notes], config.dev_fraction)
    if not train_notes:
        raise ModelError("aucune note d'entraînement")

    fix_random_seed(config.seed)
    nlp = build_nlp(config.arch)
    synth_ex, train_stats = to_examples(nlp, [n for n in train_notes if n.source == "synth"])
    shared_ex, shared_stats = to_examples(nlp, [n for n in train_notes if n.source != "synth"])
    train_stats.update(shared_stats)
    train_ex = synth_ex + shared_ex
    repeat = synth_ex + shared_ex * max(1, config.shared_repeat)
    dev_ex: dict[str, list[Example]] = {}
    for group in ("synth", "shared"):  # the shared files pooled: a few notes make a noisy F
        picked = [n for n in dev_notes if (n.source == "synth") == (group == "synth")]
        if picked:
            dev_ex[group] = to_examples(nlp, picked)[0]
    log(
        f"{len(train_notes)} notes d'entraînement ({len(train_ex)} exemples, "
        f"{train_stats['dropped']} spans écartés), {len(dev_notes)} notes de dev, "
        f"{sum(held.values())} notes réservées à l'évaluation"
    )

    init_sample = train_ex[:500]  # label set and shapes only
    optimizer = nlp.initialize(lambda: init_sample)
    loop = train_ner_loop(
        nlp,
        optimizer,
        repeat,
        (lambda model: _scored(_dev_scores(model, dev_ex))) if dev_ex else None,
        LoopSettings.of(config),
        started=t0,
        log=log,
    )
    dev_scores = loop.dev_scores or {"score": 0.0}

    final = loop.best_model(lambda: build_nlp(config.arch), init_sample)
    meta = {
        **loop.summary(t0),
        "dev": dev_scores,
        "config": {
            "synth_patients": config.synth_patients,
            "seed": config.seed,
            "max_minutes": config.max_minutes,
            "max_epochs": config.max_epochs,
            "patience": config.patience,
            "dev_fraction": config.dev_fraction,
            "shared_repeat": config.shared_repeat,
            "dropout": config.dropout,
            "batch_words": list(config.batch_words),
            "arch": {**DEFAULT_ARCH, **config.arch},
        },
        "data": {
            "description": (
                "hopia synth generate(synth_patients, seed), every document, plus the shared "
                "*.jsonl notes that are not held out (split.is_held_out, "
                f"fraction {HELD_OUT_FRACTION}); dev = notes with note_hash(id, '{DEV_SALT}') < "
                f"{config.dev_fraction}, taken from the training part"
            ),
            "shared_folder": config.shared.name if config.shared else None,
            "notes": dict(sorted(Counter(n.source for n in train_notes).items())),
            "dev_notes": dict(sorted(Counter(n.source for n in dev_notes).items())),
            "held_out_notes": dict(sorted(held.items())),
            "train_examples": len(train_ex),
            "train_spans": train_stats["spans"],
            "train_spans_expanded": train_stats["expanded"],
            "train_spans_dropped": train_stats["dropped"],
            "train_labels": dict(
                sorted(Counter(e.label_ for ex in train_ex for e in ex.reference.ents).items())
            ),
        },
    }
    meta = _write_atomically(final, Path(out), meta, dev_scores)
    minutes = meta["training_seconds"] / 60
    log(f"modèle écrit dans {out} ({minutes:.1f} min, dev F {loop.score:.4f})")
    return meta


def _write_atomically(
    nlp: Language, out: Path, meta: dict[str, Any], dev_scores: dict[str, Any]
) -> dict[str, Any]:
    """Write the model (atomically, sha256-summed); return ``meta`` as written in meta.json."""
    spacy_meta = {
        "name": MODEL_NAME,
        "version": MODEL_VERSION,
        "description": "Hopia: PHI NER (13 eds-pseudo labels), small CNN, CPU",
        "license": "proprietary (trained on fictitious data: hopia synth, eds-pseudo BSD-3)",
        "performance": {"dev_score": dev_scores["score"]},
    }
    return save_spacy_model(nlp, out, spacy_meta, meta)

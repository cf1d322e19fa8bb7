"""Deterministic splits of annotated notes: the same notes are never trained on and always
evaluated on, whoever asks (the PHI and clinical-NER trainers, the evaluations)."""

from __future__ import annotations

import hashlib

HELD_OUT_FRACTION = 0.2


def note_hash(note_id: str, salt: str = "") -> float:
    """A uniform number in [0, 1) fixed by ``note_id`` (and ``salt``): no seed, no state."""
    digest = hashlib.sha256((salt + note_id).encode("utf-8")).hexdigest()
    return int(digest[:8], 16) / 2**32


def is_held_out(note_id: str, fraction: float = HELD_OUT_FRACTION) -> bool:
    """Whether the note ``note_id`` belongs to the held-out evaluation part (about ``fraction``
    of the notes, always the same ones)."""
    return note_hash(note_id) < fraction

"""Evaluating the dictation: word error rate, and what matters clinically — are the drugs,
doses and conditions said found in the note?

Both the reference and the recognised words go through the same dictation conventions
(:func:`~hopia.care.dictation.conventions.apply_conventions`), so "cinq cents milligrammes"
and Whisper's "500 mg" compare equal. The word error rate is then computed on French-normalised
words: lower case, accents folded, punctuation and apostrophes as separators. The clinical
scores compare the coded facts of Hopia's NLP over the two texts: a drug (ATC), a condition
(CIM-10) or a lab (LOINC) of the reference is recalled when the hypothesis has the same code; a
dose when the same drug has the same dose; the structuring's precision and recall count facts
by (kind, code, negation).
"""

from __future__ import annotations

import math
import random
import re
import shutil
import subprocess
import wave
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hopia.data.nlp.numbers import fold
from hopia.platform.exceptions import ModelError

#: The team-written evaluation sentences shipped with Hopia (spoken form, one per line).
SENTENCES = Path(__file__).with_name("eval_sentences.txt")

_TOKEN = re.compile(r"[^\W_]+(?:[.,]\d+)?|[%°µ/×]", re.UNICODE)


def normalise(text: str) -> list[str]:
    """French-normalised words: lower case, no accents, punctuation and apostrophes dropped
    ("L'IRM, 500 mg." → ["l", "irm", "500", "mg"])."""
    return _TOKEN.findall(fold(text).replace("’", "'"))


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Word-level Levenshtein distance (substitutions, deletions, insertions)."""
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1]


@dataclass(frozen=True)
class FactKey:
    kind: str  # condition, drug, measurement
    code: str
    negation: bool
    dose: float | None = None


def fact_keys(facts: Iterable[dict[str, Any]]) -> set[FactKey]:
    """The comparable keys of a note's facts (``DraftNote.facts`` or ``Fact.to_json``)."""
    keys = set()
    for f in facts:
        for code in f["codes"].values():
            dose = (f.get("attributes") or {}).get("dose") if f["kind"] == "drug" else None
            keys.add(FactKey(f["kind"], code, bool(f["negation"]), dose))
    return keys


@dataclass
class Tally:
    """Counts summed over the items of an evaluation."""

    ref_words: int = 0
    errors: int = 0
    expected: dict[str, int] = field(default_factory=dict)  # per kind: facts in the reference
    recalled: dict[str, int] = field(default_factory=dict)  # per kind: found in the hypothesis
    doses: int = 0
    doses_recalled: int = 0
    reference_facts: int = 0
    predicted_facts: int = 0
    correct_facts: int = 0
    audio_seconds: float = 0.0
    asr_seconds: float = 0.0
    items: int = 0

    def add(
        self,
        reference: str,
        hypothesis: str,
        ref_facts: set[FactKey],
        hyp_facts: set[FactKey],
        *,
        audio_seconds: float = 0.0,
        asr_seconds: float = 0.0,
    ) -> None:
        ref, hyp = normalise(reference), normalise(hypothesis)
        self.ref_words += len(ref)
        self.errors += edit_distance(ref, hyp)
        hyp_codes = {(k.kind, k.code) for k in hyp_facts}
        for k in {(k.kind, k.code) for k in ref_facts}:
            self.expected[k[0]] = self.expected.get(k[0], 0) + 1
            self.recalled[k[0]] = self.recalled.get(k[0], 0) + (k in hyp_codes)
        hyp_doses = {(k.code, k.dose) for k in hyp_facts if k.dose is not None}
        for k in ref_facts:
            if k.dose is not None:
                self.doses += 1
                self.doses_recalled += (k.code, k.dose) in hyp_doses
        plain = {FactKey(k.kind, k.code, k.negation) for k in ref_facts}
        found = {FactKey(k.kind, k.code, k.negation) for k in hyp_facts}
        self.reference_facts += len(plain)
        self.predicted_facts += len(found)
        self.correct_facts += len(found & plain)
        self.audio_seconds += audio_seconds
        self.asr_seconds += asr_seconds
        self.items += 1

    def scores(self) -> dict[str, Any]:
        def ratio(a: float, b: float) -> float | None:
            return round(a / b, 4) if b else None

        return {
            "items": self.items,
            "wer": ratio(self.errors, self.ref_words),
            "reference_words": self.ref_words,
            "recall": {
                k: ratio(self.recalled.get(k, 0), n) for k, n in sorted(self.expected.items())
            },
            "expected": dict(sorted(self.expected.items())),
            "dose_recall": ratio(self.doses_recalled, self.doses),
            "doses": self.doses,
            "fact_precision": ratio(self.correct_facts, self.predicted_facts),
            "fact_recall": ratio(self.correct_facts, self.reference_facts),
            "rtf": ratio(self.asr_seconds, self.audio_seconds),
            "audio_seconds": round(self.audio_seconds, 1),
        }


# -- test audio --------------------------------------------------------------------------------


def speak(text: str, out: Path, *, speed: int = 140) -> Path:
    """``text`` read by Debian's espeak-ng French voice into a 16-bit WAV file ``out`` (the only
    offline French voice here: robotic, so the figures are a floor, not a clinician's voice)."""
    if shutil.which("espeak-ng") is None:
        raise ModelError(
            "espeak-ng est absent : installez le paquet Debian espeak-ng (« make asr »)",
            fields=("voice",),
        )
    subprocess.run(
        ["espeak-ng", "-v", "fr", "-s", str(speed), "-w", str(out), text],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


def add_noise(wav: Path, out: Path, *, snr_db: float, seed: int = 0) -> Path:
    """``wav`` with white Gaussian noise at ``snr_db`` decibels below the speech's power (fixed
    ``seed``: the same file every run)."""
    with wave.open(str(wav), "rb") as r:
        params = r.getparams()
        frames = r.readframes(params.nframes)
    if params.sampwidth != 2:
        raise ValueError("16-bit WAV only")
    samples = array("h", frames)
    power = sum(s * s for s in samples) / max(1, len(samples))
    sigma = math.sqrt(power / (10 ** (snr_db / 10))) if power else 0.0
    rng = random.Random(seed)
    noisy = array("h", (max(-32768, min(32767, round(s + rng.gauss(0, sigma)))) for s in samples))
    with wave.open(str(out), "wb") as w:
        w.setparams(params)
        w.writeframes(noisy.tobytes())
    return out

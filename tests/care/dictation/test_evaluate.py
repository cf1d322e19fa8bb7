"""The dictation's evaluation (issue 14, item 7): French normalisation, word error rate, the
clinical recall of drugs, doses and conditions, and the noisy test audio."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from hopia.care.dictation.evaluate import (
    SENTENCES,
    FactKey,
    Tally,
    add_noise,
    edit_distance,
    normalise,
)


def test_normalise_is_french() -> None:
    assert normalise("L'IRM, 500 mg ; Hémoglobine 12,5 g/dL.") == [
        "l", "irm", "500", "mg", "hemoglobine", "12,5", "g", "/", "dl"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("ref", "hyp", "distance"),
    [
        ("pas de fièvre", "pas de fièvre", 0),
        ("pas de fièvre", "pas de fiel", 1),  # substitution
        ("pas de fièvre", "pas fièvre", 1),  # deletion
        ("pas de fièvre", "pas de la fièvre", 1),  # insertion
        ("", "bonjour", 1),
    ],
)
def test_edit_distance(ref: str, hyp: str, distance: int) -> None:
    assert edit_distance(normalise(ref), normalise(hyp)) == distance


def test_tally_scores_words_codes_and_doses() -> None:
    tally = Tally()
    metformin = FactKey("drug", "A10BA02", False, 500.0)
    diabetes = FactKey("condition", "E11", False)
    fever = FactKey("condition", "R509", True)
    tally.add(
        "Metformine 500 mg. Diabète. Pas de fièvre.",
        "Metformine 850 mg. Diabète. Fièvre.",
        {metformin, diabetes, fever},
        {FactKey("drug", "A10BA02", False, 850.0), diabetes, FactKey("condition", "R509", False)},
        audio_seconds=10,
        asr_seconds=4,
    )
    scores = tally.scores()
    assert scores["wer"] == round(3 / 7, 4)  # 7 words; 500→850, "pas" and "de" deleted
    assert scores["recall"] == {"condition": 1.0, "drug": 1.0}  # codes found
    assert scores["dose_recall"] == 0.0  # the dose is wrong
    # facts by (kind, code, negation): the drug and the diabetes right, the fever's negation lost
    assert (scores["fact_precision"], scores["fact_recall"]) == (round(2 / 3, 4), round(2 / 3, 4))
    assert scores["rtf"] == 0.4


def test_the_shipped_set_is_written_in_spoken_form() -> None:
    lines = [
        line
        for line in SENTENCES.read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(lines) >= 30
    assert not any(ch.isdigit() for line in lines for ch in line)  # numbers said in words


def test_noise_is_added_at_the_asked_ratio_and_reproducible(tmp_path: Path) -> None:
    import math

    source = tmp_path / "tone.wav"
    rate = 16000
    tone = [round(8000 * math.sin(2 * math.pi * 440 * t / rate)) for t in range(rate)]
    with wave.open(str(source), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(s.to_bytes(2, "little", signed=True) for s in tone))
    a = add_noise(source, tmp_path / "a.wav", snr_db=10, seed=3).read_bytes()
    b = add_noise(source, tmp_path / "b.wav", snr_db=10, seed=3).read_bytes()
    assert a == b  # same seed, same file
    with wave.open(str(tmp_path / "a.wav")) as r:
        noisy = [
            int.from_bytes(r.readframes(1), "little", signed=True) for _ in range(r.getnframes())
        ]
    noise = [n - s for n, s in zip(noisy, tone, strict=True)]
    snr = 10 * math.log10(sum(s * s for s in tone) / sum(n * n for n in noise))
    assert 9.5 < snr < 10.5

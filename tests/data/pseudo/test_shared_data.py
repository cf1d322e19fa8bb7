"""Quality floor on the shared annotated notes (eds-pseudo public sample and synthetic set).

Exact-span precision/recall per label; the floors sit a little under the v1 figures so that a
regression fails. Print the table with:
``.venv/bin/pytest -m shared tests/data/pseudo/test_shared_data.py -s``.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from hopia.data.pseudo import LABELS, Pseudonymiser
from tests.conftest import shared_path

FILES = ("eds_pseudo_public_small_train.jsonl", "eds_pseudo_synthetic_train.jsonl")
# label: (min precision, min recall), exact span and label
FLOORS = {
    "NOM": (0.85, 0.78),
    "PRENOM": (0.85, 0.75),
    "DATE": (0.85, 0.87),
    "DATE_NAISSANCE": (0.95, 0.62),
    "TEL": (0.95, 0.92),
    "MAIL": (0.92, 0.90),
    "SECU": (0.90, 0.65),
    "ADRESSE": (0.80, 0.75),
    "ZIP": (0.88, 0.80),
    "VILLE": (0.85, 0.82),
}


def evaluate() -> tuple[dict[str, tuple[float, float, float, int]], float]:
    """Per label (precision, recall, F1, gold count), and the share of PHI characters covered by
    any predicted span (what matters for privacy, whatever the label)."""
    # Rules only: they are not trained, so every note is fair game. The hybrid (whose model
    # trained on 80 % of these notes) is scored on the held-out fold in test_evaluate.py.
    ps = Pseudonymiser(b"shared-evaluation-secret-0123456789", use_model=False)
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    phi_chars = covered = 0
    for name in FILES:
        for line in shared_path("pseudo", name).read_text(encoding="utf-8").splitlines():
            note = json.loads(line)
            text = note["note_text"]
            gold = {(e["start"], e["end"], e["label"]) for e in note["entities"]}
            pred = {(s.start, s.end, s.label) for s in ps.detect(text)}
            for g in gold:
                (tp if g in pred else fn)[g[2]] += 1
            for p in pred - gold:
                fp[p[2]] += 1
            hit = bytearray(len(text))
            for s, e, _ in pred:
                hit[s:e] = b"\x01" * (e - s)
            for s, e, _ in gold:
                chars = [i for i in range(s, e) if not text[i].isspace()]
                phi_chars += len(chars)
                covered += sum(hit[i] for i in chars)
    scores = {}
    for label in LABELS:
        p = tp[label] / (tp[label] + fp[label]) if tp[label] + fp[label] else 0.0
        r = tp[label] / (tp[label] + fn[label]) if tp[label] + fn[label] else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        scores[label] = (p, r, f1, tp[label] + fn[label])
    return scores, covered / phi_chars


@pytest.mark.shared
def test_quality_floor_on_shared_notes() -> None:
    scores, redacted = evaluate()
    print(f"\n{'label':<16}{'P':>7}{'R':>7}{'F1':>7}{'gold':>7}")
    for label, (p, r, f1, n) in scores.items():
        print(f"{label:<16}{p:7.3f}{r:7.3f}{f1:7.3f}{n:7d}")
    print(f"PHI characters covered by a span: {redacted:.3f}")
    for label, (min_p, min_r) in FLOORS.items():
        p, r, _, _ = scores[label]
        assert p >= min_p and r >= min_r, (label, p, r)
    assert redacted >= 0.88

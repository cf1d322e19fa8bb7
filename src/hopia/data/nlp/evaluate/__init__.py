"""Evaluation of clinical mention detection against gold annotations (``hopia nlp eval``).

Gold comes from BRAT standoff folders (QUAERO) or ``hopia synth`` gold (:mod:`.gold`); Hopia's
pipeline and raw EDS-NLP run on the same texts (:mod:`.systems`); mentions are scored per
semantic group, exact and overlap, with qualifier accuracy (:mod:`.scoring`, whose docstring
defines the matching rules); :mod:`.report` renders the figures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hopia.data.nlp.evaluate.gold import (
    QUALIFIERS,
    GoldDoc,
    GoldSet,
    Mention,
    parse_ann,
    read_brat,
    read_synth_gold,
)
from hopia.data.nlp.evaluate.report import TARGETS, EvalResult, SystemResult
from hopia.data.nlp.evaluate.scoring import Prediction, Score, Tally, micro, score_docs
from hopia.data.nlp.evaluate.systems import (
    EDS_BASELINE,
    System,
    eds_system,
    hopia_system,
    run_system,
)

__all__ = [
    "EDS_BASELINE",
    "QUALIFIERS",
    "TARGETS",
    "EvalResult",
    "GoldDoc",
    "GoldSet",
    "Mention",
    "Prediction",
    "Score",
    "System",
    "SystemResult",
    "Tally",
    "eds_system",
    "evaluate",
    "hopia_system",
    "micro",
    "parse_ann",
    "read_brat",
    "read_synth_gold",
    "run_system",
    "score_docs",
]


def evaluate(
    gold: GoldSet,
    systems: Sequence[System],
    labels: Sequence[str],
    on_doc: Callable[[str], None] | None = None,
) -> EvalResult:
    """Run every system on the gold texts and score them; ``on_doc(system_key)`` after each
    document (progress bars)."""
    texts = [d.text for d in gold.docs]
    results = []
    for system in systems:
        tick = (lambda k=system.key: on_doc(k)) if on_doc is not None else None
        predictions, seconds = run_system(system, texts, tick)
        tally = score_docs(gold.docs, predictions)
        results.append(SystemResult(system.key, system.title, tally, seconds))
    return EvalResult(gold, tuple(labels), tuple(results))

"""The shared NER training loop: best epoch kept, early stopping, time budget."""

from __future__ import annotations

import time

import pytest
from spacy.training import Example

from hopia.platform.models import LoopSettings, small_ner, train_ner_loop

ARCH = {"width": 16, "depth": 1, "embed_rows": 200, "hidden": 16}
TEXTS = [
    ("Vu avec Lucie Faure ce jour.", [(8, 19, "PER")]),
    ("Courrier pour Paul Martin.", [(14, 25, "PER")]),
    ("Revu par Anne Roux hier.", [(9, 18, "PER")]),
]


def _setup() -> tuple:
    nlp = small_ner(["PER"], ARCH)
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": ents}) for t, ents in TEXTS * 4]
    return nlp, nlp.initialize(lambda: examples), examples


def settings(**kw: object) -> LoopSettings:
    base = {"seed": 1, "max_minutes": 5.0, "max_epochs": 6, "patience": 2, "dropout": 0.1}
    return LoopSettings(**(base | kw), batch_words=(50, 200))  # type: ignore[arg-type]


def test_best_epoch_is_kept_and_patience_stops() -> None:
    nlp, optimizer, examples = _setup()
    scores = iter([0.5, 0.7, 0.6, 0.65, 0.9, 0.95])
    logged: list[str] = []
    result = train_ner_loop(
        nlp, optimizer, examples, lambda _m: (next(scores), {"f": 0}), settings(),
        started=time.monotonic(), log=logged.append,
    )  # fmt: skip
    assert (result.best_epoch, result.score, result.epochs_run) == (2, 0.7, 4)
    assert result.stopped_by == "early_stopping"
    assert [h["dev"] for h in result.history] == [0.5, 0.7, 0.6, 0.65]
    assert len(logged) == 4 and result.words_seen > 0 and result.ner_bytes


def test_time_budget_and_no_dev_set() -> None:
    nlp, optimizer, examples = _setup()
    result = train_ner_loop(
        nlp, optimizer, examples, None, settings(max_minutes=1e-9),
        started=time.monotonic() - 1, log=lambda _m: None,
    )  # fmt: skip
    assert (result.stopped_by, result.epochs_run) == ("time_budget", 1)
    nlp, optimizer, examples = _setup()
    result = train_ner_loop(
        nlp, optimizer, examples, None, settings(max_epochs=3),
        started=time.monotonic(), log=lambda _m: None,
    )  # fmt: skip
    assert (result.best_epoch, result.stopped_by) == (3, "max_epochs")  # no dev: the last


@pytest.mark.parametrize("epochs", [0])
def test_at_least_one_epoch(epochs: int) -> None:
    nlp, optimizer, examples = _setup()
    with pytest.raises(AssertionError):
        train_ner_loop(
            nlp, optimizer, examples, None, settings(max_epochs=epochs),
            started=time.monotonic(), log=lambda _m: None,
        )  # fmt: skip

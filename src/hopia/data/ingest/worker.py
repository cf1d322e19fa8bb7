"""The ingest's statistical models in a process of their own.

During ingest the main process runs the rule pipes of EDS-NLP on batch k while this worker runs
the PHI model and the clinical NER on batch k+1, both on the original texts: on a 2-core
machine the heavy stages then run side by side instead of one after the other. The clinical
NER's spans are moved onto the pseudonymised text by the ingest
(:meth:`~hopia.data.pseudo.pseudonymiser.PseudoResult.to_pseudo_offsets`); the worker is part
of the identified space, like the PHI model it already ran. One worker, one thread
(BLAS/OpenMP pinned to 1), spawned, not forked: the parent holds threads and a pipeline that a
fork would share badly.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hopia.data.pseudo.pseudonymiser import PhiSpan

_MODEL = None
_FOCUS = False  # run the PHI model on the lines the rules leave unexplained only
_LOADED_AT = 0.0  # process_time() once the models are loaded
_CLINICAL_NER: str | None | bool = False  # False: not asked; None: shipped weights; else a path

ClinicalSpans = list[tuple[int, int, str]]  # (start, end, semantic group) in the original text


@dataclass(frozen=True)
class Analysis:
    """What the worker computed for a batch, one list per text (None: not asked)."""

    phi: list[list[PhiSpan]] | None
    clinical_ner: list[ClinicalSpans | None] | None
    # The rules' spans of each text, computed here to focus the PHI model; the main process
    # takes them instead of running the rules again (None: not computed).
    rules: list[list[PhiSpan]] | None = None


def _die_with_parent() -> None:
    """End this worker when the ingest process dies, even by SIGKILL: an orphan would keep the
    parent's stdout open (and its caller waiting) forever."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # died before prctl took effect
        os._exit(1)

    def watch() -> None:  # other systems: poll
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="hopia-parent-watch").start()


def _load(path: str | None, phi_model: bool, clinical_ner: str | None, focus: bool) -> None:
    _die_with_parent()
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
        os.environ[name] = "1"  # before numpy is imported in this process
    import hopia  # noqa: F401  (its import hooks, before spaCy)

    global _MODEL, _CLINICAL_NER, _FOCUS
    if phi_model:
        from hopia.data.pseudo.model import PhiModel

        _MODEL = PhiModel.load(Path(path) if path else None)
        _FOCUS = focus
        if focus:  # the gazetteers and the lexicon, now rather than in the first batch
            _MODEL.predict(["Chargement."], focus=True)
    if clinical_ner is not None:
        from hopia.data.nlp.pipes.clinical_ner.clinical_ner import predict_char_spans

        _CLINICAL_NER = clinical_ner or None  # "" = the shipped weights
        predict_char_spans(["Chargement."], _CLINICAL_NER)  # load weights and tokenizer now
    global _LOADED_AT
    _LOADED_AT = time.process_time()


def _cpu_since_loaded() -> float:
    """CPU seconds this worker spent since its models were loaded (the run's share of it)."""
    return time.process_time() - _LOADED_AT


def _analyse(texts: list[str], ner_count: int | None) -> Analysis:
    phi = rules = None
    if _MODEL is not None and _FOCUS:
        from hopia.data.pseudo.rules import detect_rules

        rules = [detect_rules(text) for text in texts]
        phi = _MODEL.predict(texts, focus=True, rule_spans=rules)
    elif _MODEL is not None:
        phi = _MODEL.predict(texts)
    ner = None
    if _CLINICAL_NER is not False:
        from hopia.data.nlp.pipes.clinical_ner.clinical_ner import predict_char_spans

        n = len(texts) if ner_count is None else ner_count
        ner = [*predict_char_spans(texts[:n], _CLINICAL_NER), *([None] * (len(texts) - n))]
    return Analysis(phi, ner, rules)


class ModelWorker:
    """Runs the PHI model and/or the clinical NER in a separate process.

    :meth:`submit` returns a future of an :class:`Analysis` of the texts.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        phi_model: bool = True,
        clinical_ner: bool = False,
        clinical_ner_weights: str | None = None,
        focus: bool = False,
    ) -> None:
        """``path``: the PHI model's weights (default: shipped); ``clinical_ner_weights``: the
        clinical NER's, as the pipeline's ``clinical_ner`` pipe has them (default: shipped);
        ``focus``: the PHI model on the lines the rules leave unexplained only
        (:func:`hopia.data.pseudo.focus.unexplained_regions`), the rules' spans coming back
        with its results."""
        if not (phi_model or clinical_ner):
            raise ValueError("a worker with nothing to run")
        self.phi_model = phi_model
        self.clinical_ner = clinical_ner
        ner = (clinical_ner_weights or "") if clinical_ner else None
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_load,
            initargs=(str(path) if path else None, phi_model, ner, focus),
        )

    def submit(self, texts: list[str], ner_count: int | None = None) -> Future[Analysis]:
        """Analyse ``texts``; the clinical NER runs on the first ``ner_count`` only (default:
        all), the others get None (the caller runs it)."""
        return self._pool.submit(_analyse, texts, ner_count)

    def cpu_seconds(self) -> float:
        """CPU seconds the worker spent since it loaded its models (waits for pending work)."""
        return self._pool.submit(_cpu_since_loaded).result()

    def close(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)

"""The PHI model in a process of its own.

During ingest the main process runs EDS-NLP on batch k while this worker runs the PHI model on
batch k+1: on a 2-core machine the two heaviest stages then run side by side instead of one
after the other. One worker, one thread (BLAS/OpenMP pinned to 1), spawned, not forked: the
parent holds threads and a 700 MB pipeline that a fork would share badly.
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
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hopia.data.pseudo.pseudonymiser import PhiSpan

_MODEL = None


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


def _load(path: str | None) -> None:
    _die_with_parent()
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"  # before numpy is imported in this process
    from hopia.data.pseudo.model import PhiModel

    global _MODEL
    _MODEL = PhiModel.load(Path(path) if path else None)


def _predict(texts: list[str]) -> list[list[PhiSpan]]:
    assert _MODEL is not None, "worker not initialised"
    return _MODEL.predict(texts)


class ModelWorker:
    """Runs :meth:`PhiModel.predict` in a separate process; :meth:`submit` returns a future."""

    def __init__(self, path: Path | None = None) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_load,
            initargs=(str(path) if path else None,),
        )

    def submit(self, texts: list[str]) -> Future[list[list[PhiSpan]]]:
        return self._pool.submit(_predict, texts)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

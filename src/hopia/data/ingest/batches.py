"""Batching and concurrency: how the ingest keeps two cores and a worker process busy.

Three things run side by side on batch k-1, k and k+1:

- the **models worker** (:class:`~hopia.data.ingest.worker.ModelWorker`) runs the PHI model and
  the clinical NER on batch k+1, one batch ahead (:class:`Lookahead`, :class:`ModelShare`);
- the **main process** pseudonymises batch k and runs the rule pipes of the NLP on it;
- the **writer thread** commits batch k-1 (:class:`BackgroundWriter`): the insert work runs in
  DuckDB or PostgreSQL without the GIL, on the second core.

Nothing here knows what a document is: the pipeline hands in its own start, finish and write
steps.
"""

from __future__ import annotations

import logging
import os
import signal
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Generic, TypeVar

from hopia.data.ingest.worker import Analysis, ModelWorker

NER_SHARE_STEP = 0.1  # how fast the clinical NER's share moves between the two processes
log = logging.getLogger(__name__)

T = TypeVar("T")
S = TypeVar("S")
R = TypeVar("R")


class Lookahead(Generic[T, S]):
    """Groups items into batches of ``size`` and keeps one batch started ahead of the one being
    finished: ``start`` (submit its models to the worker) runs for batch k+1 before ``finish``
    runs for batch k.

    >>> order = []
    >>> ahead = Lookahead(2, lambda b: order.append(("start", b)) or b,
    ...                   lambda b: order.append(("finish", b)))
    >>> for i in range(5):
    ...     ahead.add(i)
    >>> ahead.drain()
    >>> order  # doctest: +NORMALIZE_WHITESPACE
    [('start', [0, 1]), ('start', [2, 3]), ('finish', [0, 1]), ('start', [4]),
     ('finish', [2, 3]), ('finish', [4])]
    """

    def __init__(
        self, size: int, start: Callable[[list[T]], S], finish: Callable[[S], None]
    ) -> None:
        self.size = max(1, size)
        self.start = start
        self.finish = finish
        self._pending: list[T] = []
        self._ahead: deque[S] = deque()

    def add(self, item: T) -> None:
        self._pending.append(item)
        if len(self._pending) >= self.size:
            self._ahead.append(self.start(self._pending))
            self._pending = []
            if len(self._ahead) > 1:
                self.finish(self._ahead.popleft())

    def drain(self) -> None:
        """Start the last, partial batch and finish every batch started."""
        if self._pending:
            self._ahead.append(self.start(self._pending))
            self._pending = []
        while self._ahead:
            self.finish(self._ahead.popleft())


class ModelShare:
    """The models worker, and the share of each batch's clinical NER it runs.

    The worker runs the NER on ``share`` of each batch, the main process on the rest (the NLP
    pipe runs its model when it is given no spans). A worker that finished before it was needed
    had idle time: it gets more; one that made the main process wait gets less. A worker that
    died (killed by the system for memory, say) is not restarted: the rest of the run computes
    the PHI model and the clinical NER in the main process, slower but complete.
    """

    def __init__(self, worker: ModelWorker | None) -> None:
        self.worker = worker
        self.share = 1.0

    def submit(self, texts: list[str]) -> Future[Analysis] | None:
        """Start the worker on ``texts``; None when there is no worker (any more)."""
        if not texts or self.worker is None:
            return None
        try:
            return self.worker.submit(texts, round(self.share * len(texts)))
        except BrokenProcessPool:  # died since the last batch
            self.lose()
            return None

    def cpu_seconds(self) -> float:
        """CPU seconds the worker spent on this run's work so far; 0 without a (live) worker."""
        if self.worker is None:
            return 0.0
        try:
            return self.worker.cpu_seconds()
        except BrokenProcessPool:
            return 0.0

    def collect(self, future: Future[Analysis] | None) -> Analysis | None:
        """The worker's results; None when it had none or died meanwhile."""
        if future is None:
            return None
        self.balance(worker_was_done=future.done())
        try:
            return future.result()
        except BrokenProcessPool:
            self.lose()
            return None

    def balance(self, worker_was_done: bool) -> None:
        """Move the NER's share toward the process that had idle time."""
        if self.worker is None or not self.worker.clinical_ner:
            return
        step = NER_SHARE_STEP if worker_was_done else -NER_SHARE_STEP
        self.share = min(1.0, max(0.0, self.share + step))

    def lose(self) -> None:
        if self.worker is not None:
            log.warning("processus des modèles arrêté : la suite tourne dans ce processus")
            self.worker.close(wait=False)
            self.worker = None

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()


class BackgroundWriter:
    """One write in flight, in a thread of its own.

    :meth:`submit` first waits for the previous write, so writes commit in order and one at a
    time (identifiers are allocated from the committed maximum); :meth:`wait` hands a finished
    write's result to its ``then``, or re-raises its error."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hopia-writer")
        self._inflight: tuple[Future[Any], Callable[[Any], None]] | None = None

    def submit(self, write: Callable[[], R], then: Callable[[R], None]) -> None:
        self.wait()
        self._inflight = (self._pool.submit(write), then)

    def wait(self) -> None:
        if self._inflight is None:
            return
        future, then = self._inflight
        self._inflight = None
        then(future.result())

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)


class CrashPoint:
    """Fault injection for the crash-and-resume test: :meth:`reached` kills the process, inside
    the open write transaction, at the batch ``HOPIA_FAULT_KILL_IN_BATCH``. Honoured only under
    pytest, so a stray variable can never kill a production ingest."""

    def __init__(self) -> None:
        value = os.environ.get("HOPIA_FAULT_KILL_IN_BATCH", "")
        under_test = "PYTEST_CURRENT_TEST" in os.environ
        self.after = int(value) if under_test and value.isdigit() else 0
        self.batches = 0

    def reached(self) -> None:
        self.batches += 1
        if self.after and self.batches >= self.after:
            os.kill(os.getpid(), signal.SIGKILL)

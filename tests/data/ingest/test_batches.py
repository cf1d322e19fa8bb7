"""Batching and concurrency, without models or a warehouse: the look-ahead order, the clinical
NER's share between the worker and the main process, a lost worker, the writer thread."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from types import SimpleNamespace

import pytest

from hopia.data.ingest.batches import BackgroundWriter, CrashPoint, Lookahead, ModelShare
from hopia.data.ingest.worker import Analysis


def test_lookahead_starts_the_next_batch_before_finishing_one() -> None:
    order: list[tuple[str, list[int]]] = []

    def start(batch: list[int]) -> list[int]:
        order.append(("start", batch))
        return batch

    ahead = Lookahead(2, start, lambda batch: order.append(("finish", batch)))
    for i in range(5):
        ahead.add(i)
    assert order == [("start", [0, 1]), ("start", [2, 3]), ("finish", [0, 1])]
    ahead.drain()
    assert order[3:] == [("start", [4]), ("finish", [2, 3]), ("finish", [4])]
    ahead.drain()  # nothing left: idempotent
    assert len(order) == 6


class _Worker:
    """A models worker stand-in: records what it was asked, answers at once."""

    def __init__(self, clinical_ner: bool = True) -> None:
        self.clinical_ner = clinical_ner
        self.asked: list[tuple[int, int | None]] = []
        self.closed: list[bool] = []
        self.broken = False

    def submit(self, texts: list[str], ner_count: int | None = None) -> Future[Analysis]:
        if self.broken:
            raise BrokenProcessPool("killed")
        self.asked.append((len(texts), ner_count))
        future: Future[Analysis] = Future()
        future.set_result(Analysis(None, [[] for _ in texts]))
        return future

    def close(self, wait: bool = True) -> None:
        self.closed.append(wait)


def test_the_clinical_ner_share_moves_toward_the_idle_process() -> None:
    share = ModelShare(SimpleNamespace(clinical_ner=True))  # type: ignore[arg-type]
    for _ in range(3):  # the main process waited for the worker: it takes NER work back
        share.balance(worker_was_done=False)
    assert share.share == pytest.approx(0.7)
    share.balance(worker_was_done=True)
    assert share.share == pytest.approx(0.8)
    for _ in range(5):
        share.balance(worker_was_done=True)
    assert share.share == 1.0
    share.worker = SimpleNamespace(clinical_ner=False)  # type: ignore[assignment]
    share.balance(worker_was_done=False)  # nothing to share
    assert share.share == 1.0


def test_the_worker_gets_its_share_of_each_batch() -> None:
    worker = _Worker()
    share = ModelShare(worker)  # type: ignore[arg-type]
    share.share = 0.5
    future = share.submit(["a", "b", "c", "d"])
    assert worker.asked == [(4, 2)]
    assert share.collect(future) is not None
    assert share.share == 0.6  # it was done before it was needed: more work next time
    assert share.submit([]) is None  # an empty batch asks nothing


def test_a_lost_worker_is_dropped_not_restarted() -> None:
    worker = _Worker()
    share = ModelShare(worker)  # type: ignore[arg-type]
    worker.broken = True
    assert share.submit(["a"]) is None
    assert share.worker is None and worker.closed == [False]
    assert share.submit(["b"]) is None  # the rest of the run computes in the main process
    broken: Future[Analysis] = Future()
    broken.set_exception(BrokenProcessPool("killed"))
    other = _Worker()
    share = ModelShare(other)  # type: ignore[arg-type]
    assert share.collect(broken) is None and share.worker is None
    assert share.collect(None) is None


def test_the_background_writer_writes_in_order_in_another_thread() -> None:
    writer = BackgroundWriter()
    seen: list[tuple[int, str]] = []
    main = threading.current_thread().name
    for i in range(3):
        writer.submit(lambda i=i: (i, threading.current_thread().name), seen.append)
    writer.wait()
    assert [i for i, _ in seen] == [0, 1, 2]
    assert all(name != main and name.startswith("hopia-writer") for _, name in seen)
    writer.close()


def test_a_failed_write_is_raised_in_the_main_thread_once() -> None:
    writer = BackgroundWriter()
    counted: list[int] = []

    def fail() -> int:
        raise RuntimeError("disk full")

    writer.submit(fail, counted.append)
    with pytest.raises(RuntimeError, match="disk full"):
        writer.wait()
    writer.wait()  # nothing in flight any more
    assert counted == []
    writer.close()


def test_the_crash_point_is_honoured_under_pytest_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOPIA_FAULT_KILL_IN_BATCH", "3")
    assert CrashPoint().after == 3
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    point = CrashPoint()
    assert point.after == 0
    for _ in range(5):
        point.reached()  # never kills outside the tests

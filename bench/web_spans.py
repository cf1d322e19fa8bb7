"""Where the milliseconds of one audited read go (``bench/web.py --spans N``).

Wraps the steps of an audited document view and patient timeline with timers, in this process
only (the product code is not changed): session check, writer turn (``Warehouse.begin`` up to
its body: the per-file lock on DuckDB, BEGIN and the advisory lock on PostgreSQL), the reads,
the NLP entities' re-projection, the audit append (checkpoint check, chain head, HMAC, insert),
the commit, the checkpoint write after it, and the rest (routing, validation, JSON rendering).
Timers cover every thread (the ASGI test client runs the app in its own thread).
"""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

SPANS: dict[str, list[float]] = defaultdict(list)
_GUARD = threading.Lock()


def _add(name: str, ms: float) -> None:
    with _GUARD:
        SPANS[name].append(ms)


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _add(name, (time.perf_counter() - started) * 1000)

    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


def install() -> None:
    """Wrap the steps (idempotent enough for one bench run)."""
    from sqlalchemy.engine import Connection

    from hopia.platform import audit
    from hopia.platform.warehouse import Warehouse
    from hopia.services import accounts, documents, patients

    for module, names, prefix in (
        (audit, ("record", "write_checkpoint", "_known_checkpoint", "_head"), "audit."),
        (accounts, ("authenticate",), "session."),
        (documents, ("view_document", "_entities", "_phi_moves"), "documents."),
        (patients, ("view_patient", "_timeline", "_stays"), "patients."),
    ):  # fmt: skip
        for name in names:
            setattr(module, name, _timed(prefix + name.lstrip("_"), getattr(module, name)))
    from hopia.services.context import Context

    Connection._commit_impl = _timed("sql.commit", Connection._commit_impl)  # type: ignore[method-assign]
    Context.authorize = _timed("context.authorize", Context.authorize)  # type: ignore[method-assign]
    Context.secret = _timed("context.secret (key file)", Context.secret)  # type: ignore[method-assign]
    inner = Warehouse.begin.__wrapped__  # the generator under @contextmanager

    @contextlib.contextmanager
    def begin(self: Warehouse, **kwargs: Any) -> Iterator[Any]:
        started = time.perf_counter()
        gen = inner(self, **kwargs)
        conn = next(gen)
        _add("warehouse.begin (writer turn)", (time.perf_counter() - started) * 1000)
        try:
            yield conn
        except BaseException as exc:
            with contextlib.suppress(StopIteration):
                gen.throw(exc)
            raise
        else:
            with contextlib.suppress(StopIteration):
                next(gen)

    Warehouse.begin = begin  # type: ignore[method-assign]


def report(requests: dict[str, int]) -> None:
    """Per step: calls, median and total ms per request of each route measured."""
    print("\n| step (in process) | calls | median ms | mean ms | total ms |\n|---|---|---|---|---|")
    for name, values in sorted(SPANS.items(), key=lambda kv: -sum(kv[1])):
        print(
            f"| {name} | {len(values)} | {statistics.median(values):.2f} | "
            f"{statistics.fmean(values):.2f} | {sum(values):.0f} |"
        )
    print("requests:", ", ".join(f"{k} {v}" for k, v in requests.items()))

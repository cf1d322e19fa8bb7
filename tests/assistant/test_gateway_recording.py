"""How the gateway records a call: its one audit record written ahead (before the backend is
called in the ``sync`` mode, while it works in the ``overlap`` mode, in the background
otherwise), the usage row after; what each mode waits for, and what a failure does.

The backend is the recording OpenAI-compatible server (``echo_server``); the warehouse is a
fresh DuckDB file. To see what waits for what, a test holds the warehouse's writer turn (an open
write transaction, as a concurrent writer would) while a call runs in another thread.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from hopia.assistant.llm.openai_compat import OpenAICompatBackend
from hopia.platform import audit
from hopia.platform.config import Settings
from hopia.platform.exceptions import AuditError, LlmBackendError, QuotaExceededError
from hopia.services import llm_gateway
from hopia.services.context import Context
from hopia.services.llm_gateway import ChatRequest, Gateway
from tests.assistant.echo_server import EchoServer
from tests.conftest import TEST_AUDIT_KEY, TEST_SECRET_KEY, TEST_VAULT_KEY

PROMPT = "Quelle est la conduite à tenir devant une hypokaliémie modérée ?"
MODES = ("sync", "overlap", "background")


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    settings = Settings(
        home=tmp_path,
        secret_key=TEST_SECRET_KEY,
        vault_key=TEST_VAULT_KEY,
        audit_key=TEST_AUDIT_KEY,
    )
    with Context.local(settings, "test.passerelle") as context:
        context.warehouse()  # created and migrated
        yield context


def gateway_for(server: EchoServer, mode: str) -> Gateway:
    backend = OpenAICompatBackend("local", server.url, "echo", parameters_b=7)
    return Gateway({"local": backend}, background=mode == "background", overlap=mode == "overlap")


def request() -> ChatRequest:
    return ChatRequest.of(messages=[{"role": "user", "content": PROMPT}], purpose="essai")


def audited(ctx: Context) -> dict[int, dict[str, Any]]:
    """The details of the ``assistant.chat`` records, by usage id."""
    with ctx.warehouse().engine.connect() as conn:
        rows = conn.execute(
            text("SELECT details FROM hopia_meta.audit_log WHERE action = 'assistant.chat'")
        ).all()
    return {d["usage_id"]: d for d in (json.loads(r.details) for r in rows)}


def usage_ids(ctx: Context) -> set[int]:
    with ctx.warehouse().engine.connect() as conn:
        return set(conn.execute(text("SELECT usage_id FROM hopia_meta.llm_usage")).scalars())


class WriterTurn:
    """Holds the warehouse's writer turn (an open write transaction) until released."""

    def __init__(self, ctx: Context) -> None:
        self._held, self._release = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._hold, args=(ctx,))

    def _hold(self, ctx: Context) -> None:
        with ctx.warehouse().begin():
            self._held.set()
            self._release.wait(10)

    def __enter__(self) -> WriterTurn:
        self._thread.start()
        assert self._held.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._thread.join(10)


def in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = call()
        except Exception as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@pytest.mark.parametrize("mode", MODES)
def test_what_each_mode_waits_for(ctx: Context, echo: EchoServer, mode: str) -> None:
    gateway = gateway_for(echo, mode)
    try:
        with WriterTurn(ctx):
            thread, box = in_thread(lambda: llm_gateway.complete(ctx, request(), gateway=gateway))
            if mode == "sync":
                # The audit record is committed before the backend is called.
                time.sleep(0.3)
                assert echo.bodies == [] and box == {}
            elif mode == "overlap":
                # The backend works while the record waits for its turn; the answer waits.
                assert wait_for(lambda: len(echo.bodies) == 1)
                time.sleep(0.3)
                assert box == {}
            else:
                # Nothing waits: the answer leaves before anything is written.
                assert wait_for(lambda: "result" in box)
                assert audited(ctx) == {}
        thread.join(10)
        result = box["result"]
        usage_id = result.record.usage_id
        assert result.completion.text == PROMPT
        if mode != "background":
            # Durable before (sync) or with (overlap) the answer: there when it is returned.
            details = audited(ctx)[usage_id]
            assert details["backend"] == "local" and details["purpose"] == "essai"
            assert details["local"] is True and details["guarded"] is False
        if mode == "sync":
            assert usage_ids(ctx) == {usage_id}
        gateway.flush()
        assert usage_ids(ctx) == {usage_id} and set(audited(ctx)) == {usage_id}
    finally:
        gateway.close()
    with ctx.warehouse().engine.connect() as conn:
        assert audit.verify(conn).ok


def test_overlap_streams_nothing_before_the_record_is_durable(
    ctx: Context, echo: EchoServer
) -> None:
    gateway = gateway_for(echo, "overlap")
    try:
        with WriterTurn(ctx):
            chat = llm_gateway.stream(ctx, request(), gateway=gateway)
            thread, box = in_thread(lambda: next(chat.deltas))
            assert wait_for(lambda: len(echo.bodies) == 1)
            time.sleep(0.3)
            assert box == {}  # the first piece waits for the audit record
        thread.join(10)
        first = box["result"].text
        assert audited(ctx) and PROMPT.startswith(first)
        rest = "".join(d.text for d in chat.deltas)
        assert first + rest == PROMPT and chat.record is not None
        gateway.flush()
        details = audited(ctx)[chat.record.usage_id]
        assert details["stream"] is True and usage_ids(ctx) == {chat.record.usage_id}
    finally:
        gateway.close()


@pytest.mark.parametrize("mode", ["sync", "overlap"])
def test_no_answer_when_the_audit_record_cannot_be_written(
    ctx: Context, echo: EchoServer, mode: str
) -> None:
    gateway = gateway_for(echo, mode)
    try:
        llm_gateway.complete(ctx, request(), gateway=gateway)  # one entry, checkpointed
        gateway.flush()
        anchor = audit.anchor_of(ctx.warehouse().engine)
        assert anchor is not None
        saved = anchor.checkpoint_path.read_bytes()
        anchor.checkpoint_path.unlink()  # the log's head checkpoint gone: writers refuse
        sent = len(echo.bodies)
        with pytest.raises(AuditError):
            llm_gateway.complete(ctx, request(), gateway=gateway)
        # sync: nothing was sent; overlap: sent while the record was written, but the
        # answer was not released
        assert len(echo.bodies) == sent + (1 if mode == "overlap" else 0)
        with pytest.raises(AuditError):  # a stream: not one piece
            chat = llm_gateway.stream(ctx, request(), gateway=gateway)
            next(chat.deltas)
        gateway.flush()
        assert len(audited(ctx)) == 1 and len(usage_ids(ctx)) == 1
        anchor.checkpoint_path.write_bytes(saved)
    finally:
        gateway.close()


@pytest.mark.parametrize("mode", MODES)
def test_a_call_whose_backend_failed_is_audited_without_usage(
    ctx: Context, echo: EchoServer, mode: str
) -> None:
    echo.fail_status = 500
    gateway = gateway_for(echo, mode)
    try:
        with pytest.raises(LlmBackendError):
            llm_gateway.complete(ctx, request(), gateway=gateway)
        gateway.flush()
        assert len(echo.bodies) == 1
        records = audited(ctx)
        assert len(records) == 1 and usage_ids(ctx) == set()
        assert next(iter(records.values()))["backend"] == "local"
    finally:
        gateway.close()


def test_a_quota_counts_the_usage_rows_still_queued(ctx: Context, echo: EchoServer) -> None:
    ctx.settings.assistant.quotas.user_tokens_per_day = 1
    gateway = gateway_for(echo, "overlap")
    try:
        llm_gateway.complete(ctx, request(), gateway=gateway)  # served: under the quota before
        with pytest.raises(QuotaExceededError):
            llm_gateway.complete(ctx, request(), gateway=gateway)
        assert len(echo.bodies) == 1
    finally:
        gateway.close()

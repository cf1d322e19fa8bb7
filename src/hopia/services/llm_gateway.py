"""The LLM gateway: every generative call of every front end goes through here.

``complete(ctx, request)`` and ``stream(ctx, request)``, for a user:

1. validate (:class:`ChatRequest`), authorize ``assistant.chat`` on the backend;
2. pick the backend (by name, else ``assistant.default_backend``, else the first configured);
3. check the daily token quotas (the user's, their group's: 429 ``quota_exceeded``);
4. guard: a backend not marked local receives only pseudonymised messages
   (:mod:`hopia.assistant.guard`), the answer comes back with the originals;
5. call, time the call, estimate its footprint (:mod:`hopia.assistant.footprint`);
6. write the usage row (``hopia_meta.llm_usage``) and ONE audit record (``assistant.chat``:
   user, task, purpose, collection, backend, counts) in one transaction. The prompt's text is
   written only when ``assistant.audit_prompts`` says so.

A stream is checked (steps 1-4) when :func:`stream` is called, before any byte is sent; its
row and audit record are written when it ends (or stops: what was produced is counted).

``usage_summary(ctx, request)`` sums the rows per user, group, task, backend or day: the
caller's own, everyone's for whom the policy allows ``assistant.usage.all``.
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import Connection, func, select

from hopia.assistant import footprint as fp
from hopia.assistant.guard import PhiGuard, Restorer
from hopia.assistant.llm import registry
from hopia.assistant.llm.base import ChatBackend, ChatMessage, Completion, Delta, Usage
from hopia.assistant.llm.openai_compat import OpenAICompatBackend, rough_tokens
from hopia.platform import audit
from hopia.platform.config import LlmBackendSettings, PseudoSettings, Settings
from hopia.platform.exceptions import LlmUnavailableError, NotFoundError, QuotaExceededError
from hopia.platform.identity.store import utcnow
from hopia.platform.warehouse import Warehouse
from hopia.platform.warehouse import schema as s
from hopia.services.context import Context, Request
from hopia.services.warehouse import existing_warehouse

CHAT_ACTION = "assistant.chat"
log = logging.getLogger("hopia.assistant")
_TEXT = 200_000  # characters of one message: a long document pasted, not a corpus


# -- requests and results ------------------------------------------------------------------------


class MessageIn(Request):
    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=_TEXT)


class ChatRequest(Request):
    messages: list[MessageIn] = Field(min_length=1, max_length=200)
    backend: str | None = Field(None, max_length=40)
    max_tokens: int = Field(512, ge=1, le=32_768)
    temperature: float = Field(0.7, ge=0, le=2)
    task: str = Field("chat", min_length=1, max_length=100)
    purpose: str | None = Field(None, max_length=200)
    collection: str | None = Field(None, max_length=200)


class EmbedRequest(Request):
    input: list[str] = Field(min_length=1, max_length=2048)
    backend: str | None = Field(None, max_length=40)
    model: str | None = Field(None, max_length=200)
    purpose: str | None = Field(None, max_length=200)
    collection: str | None = Field(None, max_length=200)


@dataclass(frozen=True)
class CallRecord:
    """What one call cost, as written in ``hopia_meta.llm_usage``."""

    usage_id: int
    backend: str
    model: str
    usage: Usage
    footprint: fp.Footprint
    seconds: float
    guarded: bool


@dataclass(frozen=True)
class ChatResult:
    completion: Completion
    record: CallRecord


@dataclass(frozen=True)
class EmbedResult:
    vectors: list[list[float]]
    model: str
    record: CallRecord


# -- the backends --------------------------------------------------------------------------------


def backend_from_entry(entry: LlmBackendSettings, cache_dir: Path) -> ChatBackend:
    """One configured backend. ``openai``: built here; ``embedded``: by the embedded runtime's
    registry (``hopia.assistant.llm.registry``; llama.cpp itself is loaded at the first call,
    and its absence is then a French error naming ``make llm``)."""
    if entry.type == "openai":
        if not entry.base_url:
            raise LlmUnavailableError(
                f"le modèle « {entry.name} » n'a pas d'adresse (base_url) dans la configuration"
            )
        return OpenAICompatBackend(
            name=entry.name,
            base_url=entry.base_url,
            model=entry.model or entry.name,
            api_key=entry.api_key,
            local=entry.local,
            parameters_b=entry.parameters_b,
        )
    return registry.backend_from_settings(entry, cache_dir)


def _write(conn: Connection, actor: str, row: dict[str, Any], details: dict[str, Any]) -> None:
    conn.execute(s.llm_usage.insert().values(**row))
    audit.record(conn, actor, CHAT_ACTION, f"llm:{row['backend']}", None, details)


class Recorder:
    """Writes calls' usage rows and audit records on one thread, in batches (one transaction
    per batch): the answer does not wait for the commit (``assistant.record_in_background``).

    The trade-off: the audit record follows the answer by milliseconds instead of preceding
    it, and records still queued when the process is killed are lost (a clean stop flushes
    them: :meth:`close`). A batch that fails to commit is logged (French, no data) and retried
    record by record, so one bad record does not lose its neighbours."""

    BATCH = 200

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Warehouse, str, dict[str, Any], dict[str, Any]] | None]
        self._queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="hopia-llm-usage", daemon=True)
        self._thread.start()

    def submit(
        self, wh: Warehouse, actor: str, row: dict[str, Any], details: dict[str, Any]
    ) -> None:
        self._queue.put((wh, actor, row, details))

    def flush(self) -> None:
        """Wait until every record submitted so far is written."""
        self._queue.join()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            batch = [first]
            while first is not None and len(batch) < self.BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            items = [b for b in batch if b is not None]
            try:
                self._commit(items)
            finally:
                for _ in batch:
                    self._queue.task_done()
            if len(items) < len(batch):  # the stop mark
                return

    def _commit(self, items: list[tuple[Warehouse, str, dict[str, Any], dict[str, Any]]]) -> None:
        by_warehouse: dict[int, list[Any]] = {}
        for item in items:
            by_warehouse.setdefault(id(item[0]), []).append(item)
        for group in by_warehouse.values():
            try:
                with group[0][0].begin() as conn:
                    for _, actor, row, details in group:
                        _write(conn, actor, row, details)
            except Exception:  # noqa: BLE001 - the thread goes on; one by one this time
                for wh, actor, row, details in group:
                    try:
                        with wh.begin() as conn:
                            _write(conn, actor, row, details)
                    except Exception as exc:  # noqa: BLE001
                        log.error(
                            "usage et audit d'un appel au modèle non écrits (%s, appel %s)",
                            type(exc).__name__,
                            row["usage_id"],
                        )


@dataclass
class Gateway:
    """The backends a front end serves, built once (their HTTP connections are kept).
    ``background``: usage and audit written by a :class:`Recorder` thread."""

    backends: dict[str, ChatBackend]
    default: str | None = None
    background: bool = False
    _recorder: Recorder | None = field(default=None, repr=False)
    _guards: dict[tuple[Any, ...], PhiGuard] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Gateway:
        built: dict[str, ChatBackend] = {}
        for entry in settings.assistant.backends:
            try:
                built[entry.name] = backend_from_entry(entry, settings.cache_dir)
            except LlmUnavailableError:
                continue  # named when asked for (see pick)
        assistant = settings.assistant
        return cls(built, assistant.default_backend, assistant.record_in_background)

    @property
    def recorder(self) -> Recorder | None:
        if not self.background:
            return None
        with self._lock:
            if self._recorder is None:
                self._recorder = Recorder()
            return self._recorder

    def flush(self) -> None:
        """Every call recorded so far is written (background mode; a no-op otherwise)."""
        if self._recorder is not None:
            self._recorder.flush()

    def pick(self, name: str | None) -> ChatBackend:
        if not self.backends:
            raise LlmUnavailableError("aucun modèle de langage n'est configuré")
        wanted = name or self.default or next(iter(self.backends))
        backend = self.backends.get(wanted)
        if backend is None:
            known = ", ".join(sorted(self.backends))
            raise NotFoundError(
                f"modèle inconnu : « {wanted} » (disponibles : {known})", fields=("backend",)
            )
        return backend

    def guard(self, pseudo: PseudoSettings) -> PhiGuard:
        """The PHI guard, with the PHI model as the installation configures it; built once.

        Its surrogate secret is random, per process and never stored: surrogates leave for one
        call and come back in its answer; nothing else has to read them."""
        key = (pseudo.use_model, pseudo.model_path, pseudo.model_focus)
        with self._lock:
            if key not in self._guards:
                from hopia.data.pseudo import Pseudonymiser

                self._guards[key] = PhiGuard(
                    Pseudonymiser(
                        secrets.token_bytes(32),
                        "surrogate",
                        use_model=pseudo.use_model,
                        birth_dates="shift",  # restorable; generalised dates are not
                        model_path=pseudo.model_path,
                        model_focus=pseudo.model_focus,
                    )
                )
            return self._guards[key]

    def close(self) -> None:
        if self._recorder is not None:
            self._recorder.close()  # what is queued is written first
            self._recorder = None
        for backend in self.backends.values():
            close = getattr(backend, "close", None)
            if callable(close):
                close()


def _gateway(ctx: Context, gateway: Gateway | None) -> Gateway:
    return gateway if gateway is not None else Gateway.from_settings(ctx.settings)


# -- quotas --------------------------------------------------------------------------------------


def group_of(roles: Sequence[str] | frozenset[str]) -> str:
    """The group a user's use is counted in: their first role (the platform has no other
    groups); a principal without a role (the CLI's operator has ``operator``) gets "aucun"."""
    ordered = sorted(roles)
    return ordered[0] if ordered else "aucun"


def _day_start(now: datetime) -> datetime:
    return datetime.combine(now.date(), dtime())


def _used_today(ctx: Context, column: Any, value: str, now: datetime) -> int:
    tokens = func.coalesce(
        func.sum(s.llm_usage.c.prompt_tokens + s.llm_usage.c.completion_tokens), 0
    )
    query = select(tokens).where(column == value, s.llm_usage.c.at >= _day_start(now))
    with existing_warehouse(ctx).engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def check_quotas(ctx: Context, now: datetime | None = None) -> None:
    """Refuse (429) when the user's or their group's tokens of the day reach the quota."""
    quotas = ctx.settings.assistant.quotas
    now = now or utcnow()
    user, group = ctx.actor, group_of(ctx.principal.roles)
    limits = [
        ("user", s.llm_usage.c.username, user, quotas.user_tokens_per_day, "votre quota"),
        (
            "group",
            s.llm_usage.c.user_group,
            group,
            quotas.groups.get(group, quotas.group_tokens_per_day),
            f"le quota du groupe « {group} »",
        ),
    ]
    for scope, column, value, limit, label in limits:
        if limit is None:
            continue
        used = _used_today(ctx, column, value, now)
        if used >= limit:
            raise QuotaExceededError(
                f"{label} de jetons du jour est atteint ({used} sur {limit}) ; "
                "il se renouvelle à minuit (UTC)",
                details={"scope": scope, "used": used, "limit": limit},
            )


# -- one call ------------------------------------------------------------------------------------


def _messages(request: ChatRequest) -> list[ChatMessage]:
    return [ChatMessage(m.role, m.content) for m in request.messages]


@dataclass
class _Call:
    """A call under way: what it needs to record itself when it ends."""

    ctx: Context
    backend: ChatBackend
    task: str
    purpose: str | None
    collection: str | None
    messages: list[ChatMessage]  # as the user sent them (the audit's prompt, if asked)
    sent: list[ChatMessage]  # as the backend receives them
    restorer: Restorer | None
    replaced: int
    recorder: Recorder | None = None
    started: float = field(default_factory=time.perf_counter)

    @property
    def guarded(self) -> bool:
        return self.restorer is not None

    def finish(
        self, usage: Usage, model: str, extra: Mapping[str, Any] | None = None
    ) -> CallRecord:
        seconds = time.perf_counter() - self.started
        settings = self.ctx.settings.assistant
        cost = fp.estimate(
            settings.footprint,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            parameters_b=self.backend.parameters_b,
            seconds=seconds,
        )
        usage_id = secrets.randbits(62)
        row = {
            "usage_id": usage_id,
            "at": utcnow(),
            "username": self.ctx.actor,
            "user_group": group_of(self.ctx.principal.roles),
            "backend": self.backend.name,
            "model": model[:200],
            "task": self.task,
            "purpose": self.purpose,
            "collection": self.collection,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "energy_wh": cost.energy_wh,
            "co2e_g": cost.co2e_g,
            "cost_eur": cost.cost_eur,
            "seconds": seconds,
            "guarded": self.guarded,
        }
        details: dict[str, Any] = {
            "usage_id": usage_id,
            "backend": self.backend.name,
            "model": row["model"],
            "local": self.backend.local,
            "task": self.task,
            "purpose": self.purpose,
            "collection": self.collection,
            "guarded": self.guarded,
            "phi_replaced": self.replaced,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            **(extra or {}),
        }
        if settings.audit_prompts:
            details["prompt"] = [{"role": m.role, "content": m.content} for m in self.messages]
        wh = existing_warehouse(self.ctx)
        if self.recorder is not None:
            self.recorder.submit(wh, self.ctx.actor, row, details)
        else:
            with wh.begin() as conn:
                _write(conn, self.ctx.actor, row, details)
        return CallRecord(
            usage_id, self.backend.name, row["model"], usage, cost, seconds, self.guarded
        )


def _start(
    ctx: Context,
    gateway: Gateway,
    backend_name: str | None,
    messages: list[ChatMessage],
    task: str,
    purpose: str | None,
    collection: str | None,
) -> _Call:
    ctx.authorize(CHAT_ACTION, f"llm:{backend_name or 'défaut'}")
    # Before the model is called: a call that could not be recorded and audited is not made.
    existing_warehouse(ctx)
    backend = gateway.pick(backend_name)
    check_quotas(ctx)
    if backend.local:
        return _Call(
            ctx, backend, task, purpose, collection, messages, messages, None, 0, gateway.recorder
        )
    guarded = gateway.guard(ctx.settings.data.pseudo).protect(messages, backend.name)
    return _Call(
        ctx,
        backend,
        task,
        purpose,
        collection,
        messages,
        guarded.messages,
        guarded.restorer,
        guarded.replaced,
        gateway.recorder,
    )


def complete(ctx: Context, request: ChatRequest, *, gateway: Gateway | None = None) -> ChatResult:
    """One answer, whole."""
    gw = _gateway(ctx, gateway)
    call = _start(
        ctx, gw, request.backend, _messages(request), request.task, request.purpose,
        request.collection,
    )  # fmt: skip
    answer = call.backend.complete(
        call.sent, max_tokens=request.max_tokens, temperature=request.temperature
    )
    text = call.restorer.restore(answer.text) if call.restorer else answer.text
    completion = Completion(text, answer.usage, answer.model, answer.backend, answer.finish_reason)
    record = call.finish(answer.usage, answer.model)
    return ChatResult(completion, record)


@dataclass
class ChatStream:
    """A checked stream: iterate :attr:`deltas`; the last one is ``done`` with the usage.
    :attr:`record` is set once the stream has ended and been recorded."""

    backend: str
    model: str
    deltas: Iterator[Delta]
    record: CallRecord | None = None


def stream(ctx: Context, request: ChatRequest, *, gateway: Gateway | None = None) -> ChatStream:
    """The answer as it is produced. Checks run now; the backend is called at the first
    iteration; usage and audit are written when the stream ends."""
    gw = _gateway(ctx, gateway)
    call = _start(
        ctx, gw, request.backend, _messages(request), request.task, request.purpose,
        request.collection,
    )  # fmt: skip
    result = ChatStream(call.backend.name, call.backend.model, iter(()))

    def deltas() -> Iterator[Delta]:
        produced: list[str] = []
        usage: Usage | None = None
        ended = False
        raw = call.backend.stream(
            call.sent, max_tokens=request.max_tokens, temperature=request.temperature
        )
        restored = call.restorer.restore_stream(raw) if call.restorer else raw
        try:
            for delta in restored:
                produced.append(delta.text)
                if delta.done:
                    usage, ended = delta.usage, True
                yield delta
        finally:
            if usage is None:  # stopped early (client gone, backend failed): count it roughly
                text = "".join(produced)
                usage = Usage(sum(rough_tokens(m.content) for m in call.sent), rough_tokens(text))
            result.record = call.finish(usage, call.backend.model, {"stream": True, "ended": ended})

    result.deltas = deltas()
    return result


# -- embeddings ----------------------------------------------------------------------------------


def embed(ctx: Context, request: EmbedRequest, *, gateway: Gateway | None = None) -> EmbedResult:
    """Vectors from a backend that embeds (an OpenAI-compatible server's ``/embeddings``);
    the texts are guarded like prompts when the backend is not local."""
    gw = _gateway(ctx, gateway)
    ctx.authorize(CHAT_ACTION, f"llm:{request.backend or 'défaut'}")
    backend = gw.pick(request.backend)
    embedder: Callable[..., tuple[list[list[float]], int]] | None = getattr(backend, "embed", None)
    if embedder is None:
        raise LlmUnavailableError(
            f"le modèle « {backend.name} » ne calcule pas de plongements (embeddings)",
            fields=("backend",),
        )
    check_quotas(ctx)
    texts = list(request.input)
    messages = [ChatMessage("user", t) for t in texts]
    call = _Call(ctx, backend, "embeddings", request.purpose, request.collection, messages,
                 messages, None, 0, gw.recorder)  # fmt: skip
    if not backend.local:
        texts, call.replaced = gw.guard(ctx.settings.data.pseudo).protect_texts(texts, backend.name)
        call.restorer = Restorer()  # marks the call guarded; nothing to restore
    vectors, tokens = embedder(texts, request.model)
    model = request.model or backend.model
    record = call.finish(Usage(tokens, 0), model)
    return EmbedResult(vectors, model, record)


def list_models(ctx: Context, *, gateway: Gateway | None = None) -> list[ChatBackend]:
    """The backends a user may call (names as the ``model`` of /v1 requests)."""
    ctx.authorize(CHAT_ACTION, "llm:liste")
    return list(_gateway(ctx, gateway).backends.values())


# -- usage ---------------------------------------------------------------------------------------

GroupBy = Literal["user", "group", "task", "backend", "day"]
_COLUMNS = {
    "user": s.llm_usage.c.username,
    "group": s.llm_usage.c.user_group,
    "task": s.llm_usage.c.task,
    "backend": s.llm_usage.c.backend,
}


class UsageRequest(Request):
    by: GroupBy = "user"
    since: date | None = None  # UTC days, inclusive
    until: date | None = None
    everyone: bool = False  # everyone's rows (assistant.usage.all); otherwise the caller's


@dataclass(frozen=True)
class UsageLine:
    key: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    energy_wh: float
    co2e_g: float
    cost_eur: float


def usage_summary(ctx: Context, request: UsageRequest) -> list[UsageLine]:
    """Calls, tokens, energy, CO2e and cost summed per ``by``, largest cost first."""
    ctx.authorize("assistant.usage.all" if request.everyone else "assistant.usage", "llm_usage")
    u = s.llm_usage.c
    key = func.date(u.at) if request.by == "day" else _COLUMNS[request.by]
    query = select(
        key.label("key"),
        func.count().label("calls"),
        func.sum(u.prompt_tokens).label("prompt_tokens"),
        func.sum(u.completion_tokens).label("completion_tokens"),
        func.sum(u.energy_wh).label("energy_wh"),
        func.sum(u.co2e_g).label("co2e_g"),
        func.sum(u.cost_eur).label("cost_eur"),
    ).group_by(key)
    if not request.everyone:
        query = query.where(u.username == ctx.actor)
    if request.since is not None:
        query = query.where(u.at >= datetime.combine(request.since, dtime()))
    if request.until is not None:
        query = query.where(u.at < datetime.combine(request.until + timedelta(days=1), dtime()))
    with existing_warehouse(ctx).engine.connect() as conn:
        rows = conn.execute(query).all()
    lines = [
        UsageLine(
            str(r.key),
            int(r.calls),
            int(r.prompt_tokens or 0),
            int(r.completion_tokens or 0),
            float(r.energy_wh or 0),
            float(r.co2e_g or 0),
            float(r.cost_eur or 0),
        )  # fmt: skip
        for r in rows
    ]
    return sorted(lines, key=lambda line: (-line.cost_eur, line.key))

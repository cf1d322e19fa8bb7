"""The LLM gateway: every generative call of every front end goes through here.

``complete(ctx, request)`` and ``stream(ctx, request)``, for a user:

1. validate (:class:`ChatRequest`), authorize ``assistant.chat`` on the backend;
2. pick the backend (by name, else ``assistant.default_backend``, else the first configured);
3. check the daily token quotas (the user's, their group's: 429 ``quota_exceeded``);
4. guard: a backend not marked local receives only pseudonymised messages
   (:mod:`hopia.assistant.guard`), the answer comes back with the originals;
5. write ONE audit record (``assistant.chat``: user, task, purpose, collection, backend,
   PHI replaced) — the call's access, written *ahead*, before the answer is known (see
   "Recording" below). The prompt's text is written only when ``assistant.audit_prompts`` says so;
6. call, time the call, estimate its footprint (:mod:`hopia.assistant.footprint`);
7. write the usage row (``hopia_meta.llm_usage``: tokens, energy, CO2e, cost), linked to the
   audit record by its ``usage_id``.

A stream is checked (steps 1-5) when :func:`stream` is called, before any byte is sent; its
usage row is written when it ends (or stops: what was produced is counted).

Recording, three ways (:class:`Gateway`):

- ``sync`` (a gateway built for one call: the CLI, the tasks): the audit record is committed
  before the backend is called, the usage row before the answer is returned;
- ``overlap`` (a gateway a front end keeps: the web application's): a writer thread commits the
  audit record *while the model works*; the answer is released only once that commit is done
  (refused if it failed), so the record is durable before or with the answer; the usage row
  follows the answer by milliseconds (lost only if the process is killed in between);
- ``background`` (``assistant.record_in_background``): both are written by the writer thread,
  nothing is waited for.

A call whose backend fails is audited all the same (its access was made); it has no usage row.

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
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field
from sqlalchemy import Connection, func, select

from hopia.assistant import footprint as fp
from hopia.assistant.guard import PhiGuard, Restorer
from hopia.assistant.llm import registry
from hopia.assistant.llm.base import (
    ChatBackend,
    ChatMessage,
    Completion,
    Delta,
    ResponseFormat,
    Usage,
)
from hopia.assistant.llm.openai_compat import OpenAICompatBackend, rough_tokens
from hopia.platform import audit
from hopia.platform.config import LlmBackendSettings, PseudoSettings, Settings
from hopia.platform.exceptions import (
    InvalidRequestError,
    LlmUnavailableError,
    NotFoundError,
    QuotaExceededError,
)
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


class JsonSchemaIn(Request):
    """OpenAI's ``response_format.json_schema``: a name, the JSON Schema, ``strict``."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    name: str = Field("reponse", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    description: str | None = Field(None, max_length=2000)
    json_schema: dict[str, Any] = Field(alias="schema")
    strict: bool | None = None


class ResponseFormatIn(Request):
    """OpenAI's ``response_format``: ``{"type": "json_object"}``, ``{"type": "json_schema",
    "json_schema": {"name", "schema", "strict"}}``, or ``{"type": "text"}`` (the default)."""

    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaIn | None = None

    def constraint(self) -> ResponseFormat | None:
        if self.type == "text":
            return None
        if self.type == "json_object":
            return ResponseFormat("json_object")
        if self.json_schema is None:
            raise InvalidRequestError(
                "« response_format » : le type json_schema demande son schéma (json_schema)",
                fields=("response_format",),
            )
        spec = self.json_schema
        return ResponseFormat("json_schema", spec.json_schema, spec.name, spec.strict)


class ChatRequest(Request):
    messages: list[MessageIn] = Field(min_length=1, max_length=200)
    backend: str | None = Field(None, max_length=40)
    max_tokens: int = Field(512, ge=1, le=32_768)
    temperature: float = Field(0.7, ge=0, le=2)
    task: str = Field("chat", min_length=1, max_length=100)
    purpose: str | None = Field(None, max_length=200)
    collection: str | None = Field(None, max_length=200)
    response_format: ResponseFormatIn | None = None

    def constraint(self) -> ResponseFormat | None:
        """What the answer must be (JSON, against a schema), or ``None``: text."""
        return self.response_format.constraint() if self.response_format else None


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


Write = Callable[[Connection], None]


def _insert_usage(row: dict[str, Any]) -> Write:
    # One constant statement (values as parameters): SQLAlchemy compiles it once.
    return lambda conn: conn.execute(s.llm_usage.insert(), row)  # type: ignore[return-value]


def _write_audit(actor: str, target: str, details: dict[str, Any]) -> Write:
    def write(conn: Connection) -> None:
        audit.record(conn, actor, CHAT_ACTION, target, None, details)

    return write


@dataclass
class _Job:
    wh: Warehouse
    write: Write
    what: str  # for the log: what and which call, never data
    done: Future[None] = field(default_factory=Future)


class Recorder:
    """Writes calls' audit records and usage rows on one thread, in batches (one transaction
    per batch: consecutive jobs share a commit). Each job has a future that says when it is
    committed (or why not): the ``overlap`` mode waits for a call's audit record, the
    ``background`` mode waits for nothing.

    Records still queued when the process is killed are lost (a clean stop flushes them:
    :meth:`close`). A batch that fails to commit is retried job by job, so one bad record does
    not lose its neighbours; a job that still fails is logged (French, no data) and its future
    holds the error."""

    BATCH = 200

    def __init__(self) -> None:
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="hopia-llm-usage", daemon=True)
        self._thread.start()

    def submit(self, wh: Warehouse, write: Write, what: str) -> Future[None]:
        job = _Job(wh, write, what)
        self._queue.put(job)
        return job.done

    def flush(self) -> None:
        """Wait until every job submitted so far is written."""
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
            jobs = [b for b in batch if b is not None]
            try:
                self._commit(jobs)
            finally:
                for _ in batch:
                    self._queue.task_done()
            if len(jobs) < len(batch):  # the stop mark
                return

    def _commit(self, jobs: list[_Job]) -> None:
        by_warehouse: dict[int, list[_Job]] = {}
        for job in jobs:
            by_warehouse.setdefault(id(job.wh), []).append(job)
        for group in by_warehouse.values():
            try:
                with group[0].wh.begin() as conn:
                    for job in group:
                        job.write(conn)
            except Exception:  # noqa: BLE001 - the thread goes on; one by one this time
                for job in group:
                    try:
                        with job.wh.begin() as conn:
                            job.write(conn)
                    except Exception as exc:  # noqa: BLE001
                        log.error("%s non écrit (%s)", job.what, type(exc).__name__)
                        job.done.set_exception(exc)
                    else:
                        job.done.set_result(None)
            else:
                for job in group:
                    job.done.set_result(None)


def _now(wh: Warehouse, write: Write) -> Future[None]:
    """A job written at once in the caller's thread (the ``sync`` mode): errors raise."""
    with wh.begin() as conn:
        write(conn)
    done: Future[None] = Future()
    done.set_result(None)
    return done


def build_guard(pseudo: PseudoSettings) -> PhiGuard:
    """The PHI guard with the PHI model as the installation configures it (the gateway's, and
    the one ``hopia assistant eval guard`` measures). Its surrogate secret is random, per
    process and never stored."""
    from hopia.data.pseudo import Pseudonymiser

    return PhiGuard(
        Pseudonymiser(
            secrets.token_bytes(32),
            "surrogate",
            use_model=pseudo.use_model,
            birth_dates="shift",  # restorable; generalised dates are not
            model_path=pseudo.model_path,
            model_focus=pseudo.model_focus,
        )
    )


@dataclass
class Gateway:
    """The backends a front end serves, built once (their HTTP connections are kept).

    How calls are recorded (module docstring): ``sync`` by default (a gateway built for one
    call); ``overlap``: a :class:`Recorder` thread writes the audit record while the model
    works, the answer waits for it (a front end that keeps its gateway); ``background``:
    the thread writes everything, nothing waits (``assistant.record_in_background``)."""

    backends: dict[str, ChatBackend]
    default: str | None = None
    background: bool = False
    overlap: bool = False
    _recorder: Recorder | None = field(default=None, repr=False)
    _guards: dict[tuple[Any, ...], PhiGuard] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, *, overlap: bool = False) -> Gateway:
        """``overlap``: for a gateway kept by a front end (closed at its shutdown)."""
        built: dict[str, ChatBackend] = {}
        for entry in settings.assistant.backends:
            try:
                built[entry.name] = backend_from_entry(entry, settings.cache_dir)
            except LlmUnavailableError:
                continue  # named when asked for (see pick)
        assistant = settings.assistant
        return cls(built, assistant.default_backend, assistant.record_in_background, overlap)

    @property
    def mode(self) -> Literal["sync", "overlap", "background"]:
        return "background" if self.background else "overlap" if self.overlap else "sync"

    def write(self, wh: Warehouse, write: Write, what: str) -> Future[None]:
        """One record: written now (``sync``: errors raise) or queued on the writer thread."""
        if self.mode == "sync":
            return _now(wh, write)
        with self._lock:
            if self._recorder is None:
                self._recorder = Recorder()
            recorder = self._recorder
        return recorder.submit(wh, write, what)

    def flush(self) -> None:
        """Every call recorded so far is written (a no-op in the ``sync`` mode)."""
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
                self._guards[key] = build_guard(pseudo)
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
    """A call under way: its audit record written ahead (:meth:`audit_ahead`), what it needs to
    write its usage row when it ends (:meth:`finish`)."""

    ctx: Context
    gateway: Gateway
    backend: ChatBackend
    task: str
    purpose: str | None
    collection: str | None
    messages: list[ChatMessage]  # as the user sent them (the audit's prompt, if asked)
    sent: list[ChatMessage]  # as the backend receives them
    restorer: Restorer | None
    replaced: int
    usage_id: int = field(default_factory=lambda: secrets.randbits(62))
    audited: Future[None] | None = None
    unaudited: bool = False  # its audit record could not be written (overlap: logged)
    started: float = field(default_factory=time.perf_counter)

    @property
    def guarded(self) -> bool:
        return self.restorer is not None

    def audit_ahead(self, extra: Mapping[str, Any] | None = None) -> None:
        """The call's one audit record, before the backend is called: written now (``sync``),
        or while the model works (``overlap``, ``background``)."""
        details: dict[str, Any] = {
            "usage_id": self.usage_id,
            "backend": self.backend.name,
            "model": self.backend.model[:200],
            "local": self.backend.local,
            "task": self.task,
            "purpose": self.purpose,
            "collection": self.collection,
            "guarded": self.guarded,
            "phi_replaced": self.replaced,
            **(extra or {}),
        }
        if self.ctx.settings.assistant.audit_prompts:
            details["prompt"] = [{"role": m.role, "content": m.content} for m in self.messages]
        write = _write_audit(self.ctx.actor, f"llm:{self.backend.name}", details)
        what = f"audit de l'appel au modèle {self.usage_id}"
        self.audited = self.gateway.write(existing_warehouse(self.ctx), write, what)

    def confirm(self) -> None:
        """``overlap``: wait until the audit record is committed; its failure raises (the
        answer is not released). Immediate in the other modes."""
        if self.audited is not None and self.gateway.mode == "overlap":
            self.audited.result()

    def settle(self) -> None:
        """The backend failed: the audit record is made durable all the same (``overlap``);
        the backend's error is the one raised, not this one's."""
        try:
            self.confirm()
        except Exception:  # noqa: BLE001 - logged by the writer; the call is over anyway
            self.unaudited = True
        self.audited = None  # settled: finishing the call does not raise it again

    def finish(self, usage: Usage, model: str, *, ended: bool = True) -> CallRecord:
        seconds = time.perf_counter() - self.started
        settings = self.ctx.settings.assistant
        cost = fp.estimate(
            settings.footprint,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            parameters_b=self.backend.parameters_b,
            seconds=seconds,
        )
        row = {
            "usage_id": self.usage_id,
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
            "ended": ended,
        }
        self.confirm()  # a call whose audit record failed gets no usage row either
        if not self.unaudited:
            what = f"usage de l'appel au modèle {self.usage_id}"
            self.gateway.write(existing_warehouse(self.ctx), _insert_usage(row), what)
        return CallRecord(
            self.usage_id, self.backend.name, row["model"], usage, cost, seconds, self.guarded
        )


def _quotas_set(settings: Settings) -> bool:
    quotas = settings.assistant.quotas
    return bool(
        quotas.user_tokens_per_day is not None
        or quotas.group_tokens_per_day is not None
        or quotas.groups
    )


def _start(
    ctx: Context,
    gateway: Gateway,
    backend_name: str | None,
    messages: list[ChatMessage],
    task: str,
    purpose: str | None,
    collection: str | None,
    extra: Mapping[str, Any] | None = None,
) -> _Call:
    ctx.authorize(CHAT_ACTION, f"llm:{backend_name or 'défaut'}")
    # Before the model is called: a call that could not be recorded and audited is not made.
    existing_warehouse(ctx)
    backend = gateway.pick(backend_name)
    if _quotas_set(ctx.settings):
        gateway.flush()  # the usage rows still queued count too
        check_quotas(ctx)
    if backend.local:
        call = _Call(ctx, gateway, backend, task, purpose, collection, messages, messages, None, 0)
    else:
        guarded = gateway.guard(ctx.settings.data.pseudo).protect(messages, backend.name)
        call = _Call(
            ctx,
            gateway,
            backend,
            task,
            purpose,
            collection,
            messages,
            guarded.messages,
            guarded.restorer,
            guarded.replaced,
        )
    call.audit_ahead(extra)
    return call


def complete(ctx: Context, request: ChatRequest, *, gateway: Gateway | None = None) -> ChatResult:
    """One answer, whole."""
    constraint = request.constraint()
    gw = _gateway(ctx, gateway)
    call = _start(
        ctx, gw, request.backend, _messages(request), request.task, request.purpose,
        request.collection,
    )  # fmt: skip
    try:
        answer = call.backend.complete(
            call.sent,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            response_format=constraint,
        )
    except BaseException:
        call.settle()
        raise
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
    """The answer as it is produced. Checks and the audit record now; the backend is called at
    the first iteration (``overlap``: the first piece waits for the audit record); the usage
    row is written when the stream ends."""
    constraint = request.constraint()
    gw = _gateway(ctx, gateway)
    call = _start(
        ctx, gw, request.backend, _messages(request), request.task, request.purpose,
        request.collection, {"stream": True},
    )  # fmt: skip
    result = ChatStream(call.backend.name, call.backend.model, iter(()))

    def deltas() -> Iterator[Delta]:
        produced: list[str] = []
        usage: Usage | None = None
        confirmed = ended = False
        try:
            raw = call.backend.stream(
                call.sent,
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                response_format=constraint,
            )
            restored = call.restorer.restore_stream(raw) if call.restorer else raw
            for delta in restored:
                if not confirmed:  # the answer starts only once its audit record is durable
                    call.confirm()
                    confirmed = True
                produced.append(delta.text)
                if delta.done:
                    usage, ended = delta.usage, True
                yield delta
        finally:
            if usage is None:  # stopped early (client gone, backend failed): count it roughly
                text = "".join(produced)
                usage = Usage(sum(rough_tokens(m.content) for m in call.sent), rough_tokens(text))
            if not produced:  # nothing came: the backend failed (or the stream was dropped)
                call.settle()
            result.record = call.finish(usage, call.backend.model, ended=ended)

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
    if _quotas_set(ctx.settings):
        gw.flush()
        check_quotas(ctx)
    texts = list(request.input)
    messages = [ChatMessage("user", t) for t in texts]
    call = _Call(ctx, gw, backend, "embeddings", request.purpose, request.collection, messages,
                 messages, None, 0)  # fmt: skip
    if not backend.local:
        texts, call.replaced = gw.guard(ctx.settings.data.pseudo).protect_texts(texts, backend.name)
        call.restorer = Restorer()  # marks the call guarded; nothing to restore
    call.audit_ahead({"texts": len(texts)})
    try:
        vectors, tokens = embedder(texts, request.model)
    except BaseException:
        call.settle()
        raise
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

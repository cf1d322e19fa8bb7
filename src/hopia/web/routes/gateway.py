"""Hopia's OpenAI-compatible endpoints, at ``/v1`` (not under ``/api/v1``: OpenAI clients append
``/chat/completions`` to a base URL ending in ``/v1``), and the API of keys and usage.

``/v1``: ``POST /chat/completions`` (``stream``: server-sent events in OpenAI's chunk format,
then ``data: [DONE]``), ``POST /embeddings``, ``GET /models``. A caller authenticates with
``Authorization: Bearer <API key>`` (``hopia account api-key create``, or
``POST /api/v1/account/api-keys``) or the session cookie. A model is a configured backend's name.
Every call goes through :mod:`hopia.services.llm_gateway` (quotas, PHI guard, usage, audit).

Hopia's extensions in a chat body (ignored by other servers): ``task``, ``purpose``,
``collection``; in an answer, ``hopia``: the call's energy, CO2e and cost estimate.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from hopia.platform.exceptions import AccessDeniedError, HopiaError, InvalidRequestError
from hopia.platform.identity.roles import may
from hopia.platform.identity.store import Account
from hopia.services import api_keys, llm_gateway
from hopia.services.context import Context
from hopia.services.llm_gateway import CallRecord, Gateway
from hopia.web.deps import ContextDep, anonymous_context, context_for, current_account
from hopia.web.schemas.problem import PROBLEMS, Problem

V1 = "/v1"
_BEARER = "bearer "


# -- who calls -----------------------------------------------------------------------------------


def caller(request: Request) -> Account:
    """The account of an API key (``Authorization: Bearer``), else of the session cookie."""
    header = request.headers.get("authorization", "")
    if header[: len(_BEARER)].lower() == _BEARER:
        account = api_keys.authenticate_key(anonymous_context(request), header[len(_BEARER) :])
        request.state.account = account
        return account
    return current_account(request)


def chat_context(request: Request, account: Annotated[Account, Depends(caller)]) -> Context:
    """The caller's context; 403 (audited) when their roles may not use the assistant."""
    ctx = context_for(request, account.principal())
    if not may(ctx.principal, llm_gateway.CHAT_ACTION):
        roles = ", ".join(sorted(ctx.principal.roles)) or "aucun"
        error = AccessDeniedError(
            f"action « {llm_gateway.CHAT_ACTION} » non autorisée pour votre rôle ({roles})",
            details={"action": llm_gateway.CHAT_ACTION},
        )
        ctx.audit_refusal(llm_gateway.CHAT_ACTION, "api", error)
        raise error
    return ctx


ChatContext = Annotated[Context, Depends(chat_context)]


def gateway_of(request: Request) -> Gateway:
    """The application's gateway: built from the settings at first use, kept (connections, the
    writer thread that commits each call's audit record while the model works)."""
    state = request.app.state
    gateway = getattr(state, "llm_gateway", None)
    if gateway is None:
        gateway = state.llm_gateway = Gateway.from_settings(state.settings, overlap=True)
    return gateway


GatewayDep = Annotated[Gateway, Depends(gateway_of)]
V1_PROBLEMS: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    401: {"model": Problem, "description": "No API key (Bearer) and no live session."},
    429: {"model": Problem, "description": "The user's or group's daily token quota is spent."},
    501: {"model": Problem, "description": "No model configured (or none that embeds)."},
    502: {"model": Problem, "description": "The backend failed (named, never the prompt)."},
}
router = APIRouter(prefix=V1, tags=["openai"], responses=V1_PROBLEMS)


# -- bodies --------------------------------------------------------------------------------------


class TextPart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str
    text: str | None = None


class MessageBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            if any(p.type != "text" for p in self.content):
                raise InvalidRequestError(
                    "seuls les messages texte sont acceptés", fields=("messages",)
                )
            return "".join(p.text or "" for p in self.content)
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    include_usage: bool = False


class ChatBody(BaseModel):
    """OpenAI's chat completion request; other OpenAI parameters are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")
    model: str | None = Field(None, description="A configured backend's name; none: the default.")
    messages: list[MessageBody] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float | None = None
    response_format: dict[str, Any] | None = Field(
        None,
        description='{"type": "json_object"}, or {"type": "json_schema", "json_schema": '
        '{"name", "schema", "strict"}}: the answer is JSON (valid against the schema).',
    )
    task: str = Field("chat", description="Hopia: what the call is for (usage per task).")
    purpose: str | None = Field(None, description="Hopia: why (written in the audit record).")
    collection: str | None = Field(None, description="Hopia: the knowledge collection used.")


class EmbeddingsBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model: str | None = None
    input: str | list[str]
    purpose: str | None = None
    collection: str | None = None


def _hopia(record: CallRecord) -> dict[str, Any]:
    f = record.footprint
    return {
        "usage_id": record.usage_id,
        "backend": record.backend,
        "guarded": record.guarded,
        "energy_wh": f.energy_wh,
        "co2e_g": f.co2e_g,
        "cost_eur": f.cost_eur,
        "seconds": round(record.seconds, 4),
    }


def _chat_request(body: ChatBody) -> llm_gateway.ChatRequest:
    values: dict[str, Any] = {
        "messages": [
            {"role": "system" if m.role == "developer" else m.role, "content": m.text()}
            for m in body.messages
        ],
        "backend": body.model,
        "task": body.task,
        "purpose": body.purpose,
        "collection": body.collection,
    }
    tokens = body.max_completion_tokens or body.max_tokens
    if tokens is not None:
        values["max_tokens"] = tokens
    if body.temperature is not None:
        values["temperature"] = body.temperature
    if body.response_format is not None:
        values["response_format"] = body.response_format
    return llm_gateway.ChatRequest.of(**values)


def _sse(data: dict[str, Any] | str) -> str:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {payload}\n\n"


def _chunks(
    chat: llm_gateway.ChatStream, call_id: str, created: int, include_usage: bool
) -> Iterator[str]:
    """OpenAI's chunks: the role first, one chunk per delta, the finish reason, the usage
    (when asked), ``[DONE]``. A failure after the first byte is an ``error`` event."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": call_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": chat.backend,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    yield _sse(chunk({"role": "assistant", "content": ""}))
    try:
        for delta in chat.deltas:
            if delta.text:
                yield _sse(chunk({"content": delta.text}))
            if delta.done:
                yield _sse(chunk({}, delta.finish_reason or "stop"))
                if include_usage and delta.usage is not None:
                    usage = {
                        "prompt_tokens": delta.usage.prompt_tokens,
                        "completion_tokens": delta.usage.completion_tokens,
                        "total_tokens": delta.usage.total_tokens,
                    }
                    yield _sse({**chunk({}), "choices": [], "usage": usage})
    except HopiaError as exc:
        yield _sse({"error": {**exc.to_dict(), "status": exc.http_status}})
        return
    if chat.record is not None:
        yield _sse({**chunk({}), "choices": [], "hopia": _hopia(chat.record)})
    yield _sse("[DONE]")


_CHAT_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A chat.completion object, or (stream) server-sent chunks then [DONE].",
        "content": {"application/json": {}, "text/event-stream": {}},
    }
}


@router.post(
    "/chat/completions",
    summary="Chat completion, OpenAI-compatible (stream: server-sent events)",
    response_model=None,
    responses=_CHAT_ANSWERS,
)
def chat_completions(body: ChatBody, ctx: ChatContext, gateway: GatewayDep) -> Any:
    request = _chat_request(body)
    created = int(time.time())
    if body.stream:
        chat = llm_gateway.stream(ctx, request, gateway=gateway)
        include = bool(body.stream_options and body.stream_options.include_usage)
        call_id = f"chatcmpl-{time.time_ns():x}"
        return StreamingResponse(
            _chunks(chat, call_id, created, include),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    result = llm_gateway.complete(ctx, request, gateway=gateway)
    done, usage = result.completion, result.completion.usage
    return {
        "id": f"chatcmpl-{result.record.usage_id:x}",
        "object": "chat.completion",
        "created": created,
        "model": result.record.backend,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": done.text},
                "finish_reason": done.finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        },
        "hopia": _hopia(result.record),
    }


@router.post("/embeddings", summary="Embeddings, OpenAI-compatible (a backend that embeds)")
def embeddings(body: EmbeddingsBody, ctx: ChatContext, gateway: GatewayDep) -> dict[str, Any]:
    texts = [body.input] if isinstance(body.input, str) else body.input
    request = llm_gateway.EmbedRequest.of(
        input=texts, backend=body.model, purpose=body.purpose, collection=body.collection
    )
    result = llm_gateway.embed(ctx, request, gateway=gateway)
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": v}
            for i, v in enumerate(result.vectors)
        ],
        "model": result.model,
        "usage": {
            "prompt_tokens": result.record.usage.prompt_tokens,
            "total_tokens": result.record.usage.prompt_tokens,
        },
        "hopia": _hopia(result.record),
    }


@router.get("/models", summary="The models (configured backends) a user may call")
def models(ctx: ChatContext, gateway: GatewayDep) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {
                "id": b.name,
                "object": "model",
                "created": 0,
                "owned_by": "hopia",
                "hopia": {"model": b.model, "local": b.local, "parameters_b": b.parameters_b},
            }
            for b in llm_gateway.list_models(ctx, gateway=gateway)
        ],
    }


# -- /api/v1: keys and usage ---------------------------------------------------------------------

api_router = APIRouter(responses=PROBLEMS, tags=["assistant"])


class KeyBody(BaseModel):
    label: str = Field(min_length=1, max_length=100)


class KeyView(BaseModel):
    key_id: str
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewKey(KeyView):
    key: str = Field(description="The key, shown this once: Authorization: Bearer <key>.")


def _utc(moment: datetime | None) -> datetime | None:
    """The warehouse's naive UTC times, marked UTC for the API (RFC 3339)."""
    return moment.replace(tzinfo=UTC) if moment is not None else None


def _key_view(view: api_keys.ApiKeyView) -> KeyView:
    return KeyView(
        key_id=view.key_id,
        label=view.label,
        created_at=view.created_at.replace(tzinfo=UTC),
        last_used_at=_utc(view.last_used_at),
        revoked_at=_utc(view.revoked_at),
    )


@api_router.post(
    "/account/api-keys", status_code=201, summary="Create an API key (shown once) for /v1"
)
def create_api_key(body: KeyBody, ctx: ContextDep) -> NewKey:
    created = api_keys.create_key(ctx, api_keys.CreateKeyRequest.of(label=body.label))
    return NewKey(**_key_view(created.view).model_dump(), key=created.key)


@api_router.get("/account/api-keys", summary="The caller's API keys (never the keys)")
def list_api_keys(ctx: ContextDep) -> list[KeyView]:
    return [_key_view(v) for v in api_keys.list_keys(ctx, api_keys.ListKeysRequest.of())]


@api_router.delete("/account/api-keys/{key_id}", summary="Revoke one of the caller's API keys")
def revoke_api_key(key_id: str, ctx: ContextDep) -> KeyView:
    return _key_view(api_keys.revoke_key(ctx, api_keys.KeyRequest.of(key_id=key_id)))


class UsageLineView(BaseModel):
    key: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    energy_wh: float
    co2e_g: float
    cost_eur: float


@api_router.get(
    "/assistant/usage",
    summary="LLM use summed per user, group, task, backend or day (energy, CO2e, cost)",
)
def usage(
    ctx: ContextDep,
    by: llm_gateway.GroupBy = "user",
    since: Annotated[date | None, Query()] = None,
    until: Annotated[date | None, Query()] = None,
    everyone: bool = False,
) -> list[UsageLineView]:
    request = llm_gateway.UsageRequest.of(by=by, since=since, until=until, everyone=everyone)
    return [UsageLineView(**vars(line)) for line in llm_gateway.usage_summary(ctx, request)]

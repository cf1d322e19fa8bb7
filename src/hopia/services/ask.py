"""Cited answers over knowledge collections.

Retrieval always runs (:func:`hopia.services.collections.retrieve`); passages whose cosine with
the question is under the threshold (``assistant.knowledge.min_similarity``, by default the
embedder's calibrated value) are not relevant. Then:

- nothing relevant: the answer says so, and nothing is generated;
- no model (``generate`` is None): the answer says plainly that no language model is
  configured and returns the passages with their citations; never a made-up text;
- a model: the versioned French prompt with the numbered passages, the model's ``[n]`` markers
  turned into citations; markers naming a passage not given are dropped.

Every answer is audited (``assistant.ask``): the collections, the number of passages, whether a
model generated it; never the question's text. It is kept in the user's own history
(:mod:`hopia.services.history`: the question, the answer, its citations).

:func:`ask_stream` gives the same answer as it is generated (the web page streams it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from pydantic import Field

from hopia.platform import audit
from hopia.services import collections as colls
from hopia.services.context import Context, Request

if TYPE_CHECKING:  # the assistant axis is imported when used, as every service does
    from hopia.assistant.llm.base import ChatMessage, Completion
    from hopia.services.llm_gateway import ChatRequest, Gateway

    Generate = Callable[[list[ChatMessage]], Completion]
NO_MODEL_MARK = "aucun modèle de langage n'est configuré"
"""What a no-model answer says, word for word (front ends and tests look for it)."""


class AskRequest(Request):
    question: str = Field(min_length=1, max_length=2000)
    collections: list[str] = Field(min_length=1, max_length=20)
    backend: str | None = Field(None, max_length=40)
    k: int | None = Field(None, ge=1, le=20)


@dataclass(frozen=True)
class Citation:
    n: int
    """The passage's number in the answer (``[n]``)."""
    collection: str
    document_id: str
    document: str
    section: str
    page: int | None
    start: int
    end: int
    """Character offsets of the passage in the document's text."""


@dataclass(frozen=True)
class Answer:
    text: str
    citations: list[Citation]
    sources: list[colls.Passage]
    """The passages given (numbered from 1 in this order)."""
    generated: bool
    model: str | None
    relevant: bool
    """Whether retrieval found a relevant passage."""
    audit_id: int
    history_id: str | None = None
    """The entry kept in the user's history (:mod:`hopia.services.history`)."""


def min_similarity(ctx: Context) -> float:
    from hopia.assistant.knowledge.answer import CALIBRATED_MIN_SIMILARITY

    knowledge = ctx.settings.assistant.knowledge
    if knowledge.min_similarity is not None:
        return knowledge.min_similarity
    return CALIBRATED_MIN_SIMILARITY[knowledge.embedder]


def _label(p: colls.Passage) -> str:
    where = [p.document]
    if p.section:
        where.append(f"section « {p.section} »")
    if p.page is not None:
        where.append(f"page {p.page}")
    return ", ".join(where)


def _citation(n: int, p: colls.Passage) -> Citation:
    return Citation(n, p.collection, p.document_id, p.document, p.section, p.page, p.start, p.end)


def through_gateway(
    ctx: Context, request: AskRequest, gateway: Gateway | None = None
) -> Generate | None:
    """The model call of an answer, through the LLM gateway (quotas, usage and footprint, one
    audit record per call, the PHI guard before a backend not marked local): ``gateway`` when
    a front end keeps one, else the configured backends; ``None`` when there is no backend:
    the answer then says so and gives the passages."""
    if not _has_model(ctx, gateway):
        return None
    from hopia.services import llm_gateway as gw

    def generate(messages: list[ChatMessage]) -> Completion:
        return gw.complete(ctx, _chat(request, messages), gateway=gateway).completion

    return generate


def _has_model(ctx: Context, gateway: Gateway | None) -> bool:
    return bool(gateway.backends) if gateway is not None else bool(ctx.settings.assistant.backends)


def _chat(request: AskRequest, messages: list[ChatMessage]) -> ChatRequest:
    from hopia.services import llm_gateway as gw

    return gw.ChatRequest.of(
        messages=[gw.MessageIn.of(role=m.role, content=m.content) for m in messages],
        backend=request.backend,
        max_tokens=ANSWER_TOKENS,
        temperature=0.0,  # the same passages give the same answer
        task="assistant.ask",
        collection=",".join(request.collections)[:200],
    )


ANSWER_TOKENS = 512


def _relevant(ctx: Context, request: AskRequest) -> list[colls.Passage]:
    """Authorise, retrieve, keep the passages over the relevance threshold."""
    ctx.authorize("assistant.ask", "collections:" + ",".join(request.collections))
    k = request.k or ctx.settings.assistant.knowledge.top_k
    hits = colls.retrieve(
        ctx, colls.SearchRequest.of(collections=request.collections, query=request.question, k=k)
    )
    threshold = min_similarity(ctx)
    return [colls.passage_of(c, h) for c, h in hits if h.similarity >= threshold]


def _without_model(sources: list[colls.Passage]) -> tuple[str, list[Citation]]:
    """What is said when nothing is generated: nothing relevant, or no model and the passages."""
    from hopia.assistant.knowledge import answer as texts

    if not sources:
        return texts.NOTHING_RELEVANT, []
    listed = "\n\n".join(f"[{i}] {_label(p)}\n{p.text}" for i, p in enumerate(sources, 1))
    return f"{texts.NO_MODEL}\n\n{listed}", [_citation(i, p) for i, p in enumerate(sources, 1)]


def _numbered(request: AskRequest, sources: list[colls.Passage]) -> list[ChatMessage]:
    from hopia.assistant.knowledge import answer as texts

    numbered = [texts.NumberedPassage(i, _label(p), p.text) for i, p in enumerate(sources, 1)]
    return texts.messages(request.question, numbered)


def _generated(raw: str, sources: list[colls.Passage]) -> tuple[str, list[Citation]]:
    from hopia.assistant.knowledge import answer as texts

    text, order = texts.cited(raw, len(sources))
    return text, [_citation(n, sources[n - 1]) for n in order]


def _finish(
    ctx: Context,
    request: AskRequest,
    sources: list[colls.Passage],
    text: str,
    citations: list[Citation],
    model: str | None,
) -> Answer:
    """Audit the answer (``assistant.ask``) and keep it in the user's history, together."""
    from hopia.assistant.knowledge import answer as texts
    from hopia.services import history

    generated = model is not None
    with ctx.warehouse().begin() as conn:
        entry = audit.record(
            conn,
            ctx.actor,
            "assistant.ask",
            "collections:" + ",".join(request.collections),
            None,
            {
                "passages": len(sources),
                "citations": len(citations),
                "generated": generated,
                "model": model,
                "prompt": texts.PROMPT_VERSION if generated else None,
            },
        )
        kept = history.record(
            conn,
            ctx,
            kind="question",
            name="ask",
            inputs={"question": request.question, "collections": request.collections},
            answer=text,
            citations=[asdict(c) for c in citations],
            flags=[],
            generated=generated,
            model=model,
            audit_id=entry.audit_id,
            prompt_version=texts.PROMPT_VERSION if generated else None,
        )
    return Answer(text, citations, sources, generated, model, bool(sources), entry.audit_id, kept)


def ask(
    ctx: Context,
    request: AskRequest,
    generate: Generate | None = None,
    *,
    gateway: Gateway | None = None,
) -> Answer:
    """Retrieve, then answer with citations: through ``generate`` when given, else through the
    gateway when a backend is configured, else the passages and the no-model sentence."""
    sources = _relevant(ctx, request)
    if generate is None:
        generate = through_gateway(ctx, request, gateway)
    if not sources or generate is None:
        text, citations = _without_model(sources)
        return _finish(ctx, request, sources, text, citations, None)
    completion = generate(_numbered(request, sources))
    text, citations = _generated(completion.text, sources)
    return _finish(ctx, request, sources, text, citations, completion.model)


@dataclass
class AnswerStream:
    """An answer as it is produced: :attr:`sources` at once, then iterate :attr:`pieces` (the
    model's text as it comes, raw ``[n]`` markers included); once they are exhausted,
    :attr:`answer` holds the final answer (markers checked, citations), audited and kept in
    the history. Nothing generated (no model, nothing relevant): one piece, the whole text."""

    sources: list[colls.Passage]
    generated: bool
    pieces: Iterator[str]
    answer: Answer | None = None


def ask_stream(
    ctx: Context, request: AskRequest, *, gateway: Gateway | None = None
) -> AnswerStream:
    """:func:`ask`, streamed. The checks (authorisation, retrieval, the gateway's quotas and
    guard) run now; the model is called at the first piece; usage and audit when it ends."""
    sources = _relevant(ctx, request)
    if not sources or not _has_model(ctx, gateway):
        text, citations = _without_model(sources)
        result = AnswerStream(sources, False, iter(()))

        def whole() -> Iterator[str]:
            result.answer = _finish(ctx, request, sources, text, citations, None)
            yield text

        result.pieces = whole()
        return result
    from hopia.services import llm_gateway as gw

    chat = gw.stream(ctx, _chat(request, _numbered(request, sources)), gateway=gateway)
    result = AnswerStream(sources, True, iter(()))

    def pieces() -> Iterator[str]:
        produced: list[str] = []
        for delta in chat.deltas:
            if delta.text:
                produced.append(delta.text)
                yield delta.text
        text, citations = _generated("".join(produced), sources)
        result.answer = _finish(ctx, request, sources, text, citations, chat.model)

    result.pieces = pieces()
    return result

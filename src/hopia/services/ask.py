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
model generated it; never the question's text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field

from hopia.platform import audit
from hopia.services import collections as colls
from hopia.services.context import Context, Request

if TYPE_CHECKING:  # the assistant axis is imported when used, as every service does
    from hopia.assistant.llm.base import ChatMessage, Completion

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


def through_gateway(ctx: Context, request: AskRequest) -> Generate | None:
    """The model call of an answer, through the LLM gateway (quotas, usage and footprint, one
    audit record per call, the PHI guard before a backend not marked local); ``None`` when no
    backend is configured: the answer then says so and gives the passages."""
    if not ctx.settings.assistant.backends:
        return None
    from hopia.services import llm_gateway as gw

    def generate(messages: list[ChatMessage]) -> Completion:
        chat = gw.ChatRequest.of(
            messages=[gw.MessageIn.of(role=m.role, content=m.content) for m in messages],
            backend=request.backend,
            max_tokens=ANSWER_TOKENS,
            temperature=0.0,  # the same passages give the same answer
            task="assistant.ask",
            collection=",".join(request.collections)[:200],
        )
        return gw.complete(ctx, chat).completion

    return generate


ANSWER_TOKENS = 512


def ask(ctx: Context, request: AskRequest, generate: Generate | None = None) -> Answer:
    """Retrieve, then answer with citations: through ``generate`` when given, else through the
    gateway when a backend is configured, else the passages and the no-model sentence."""
    from hopia.assistant.knowledge import answer as texts

    ctx.authorize("assistant.ask", "collections:" + ",".join(request.collections))
    if generate is None:
        generate = through_gateway(ctx, request)
    k = request.k or ctx.settings.assistant.knowledge.top_k
    hits = colls.retrieve(
        ctx, colls.SearchRequest.of(collections=request.collections, query=request.question, k=k)
    )
    threshold = min_similarity(ctx)
    sources = [colls.passage_of(c, h) for c, h in hits if h.similarity >= threshold]
    model: str | None = None
    if not sources:
        text, citations, generated = texts.NOTHING_RELEVANT, [], False
    elif generate is None:
        listed = "\n\n".join(f"[{i}] {_label(p)}\n{p.text}" for i, p in enumerate(sources, 1))
        text = f"{texts.NO_MODEL}\n\n{listed}"
        citations = [_citation(i, p) for i, p in enumerate(sources, 1)]
        generated = False
    else:
        numbered = [texts.NumberedPassage(i, _label(p), p.text) for i, p in enumerate(sources, 1)]
        completion = generate(texts.messages(request.question, numbered))
        text, order = texts.cited(completion.text, len(sources))
        citations = [_citation(n, sources[n - 1]) for n in order]
        generated, model = True, completion.model
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
    return Answer(text, citations, sources, generated, model, bool(sources), entry.audit_id)

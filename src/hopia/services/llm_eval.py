"""Evaluations of the embedded LLMs on public data (``hopia assistant eval mcqa`` and
``… extraction``): FrenchMedMCQA, and the LLM as an extractor beside the rules + NER pipeline.

The packaged model named runs embedded, in this process, with its threads explicit, behind
the LLM gateway like any call (:mod:`hopia.services.llm_gateway`): quotas, one audit record and
one usage row per call, its footprint counted per task (``eval.mcqa``, ``eval.extraction``,
``nlp.extract``); the extractor's JSON answers are constrained through the gateway's
``response_format``. The report's footprint is the same estimate
(:func:`hopia.assistant.footprint.estimate`) summed over the calls. With ``retrieval``, passages
come from a knowledge collection the caller may read (``collection.read``), kept when their
similarity reaches the assistant's relevance threshold, as ``hopia ask`` keeps them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from hopia.platform.exceptions import InvalidRequestError, NotFoundError
from hopia.services.context import Context, Request
from hopia.services.warehouse import existing_warehouse

if TYPE_CHECKING:
    from hopia.assistant.extraction import LlmExtractor
    from hopia.assistant.extraction_eval import Comparison
    from hopia.assistant.guard_eval import GuardEvalResult
    from hopia.assistant.llm.base import ChatMessage, Completion
    from hopia.assistant.llm.embedded import EmbeddedBackend
    from hopia.assistant.mcqa import McqaReport

MCQA_ANSWER_TOKENS = 48
NONE = "none"


def embedded_model(ctx: Context, model: str, threads: int, n_ctx: int = 4096) -> EmbeddedBackend:
    """The packaged model ``model`` run embedded with ``threads`` threads, loaded now (a
    missing runtime or model is a French error before any work)."""
    from hopia.assistant.llm import packaged
    from hopia.assistant.llm.registry import packaged_backend

    packaged.get(model)  # an unknown name: the French error listing the packaged ones
    backend = packaged_backend(model, ctx.settings.cache_dir, n_threads=threads, n_ctx=n_ctx)
    backend.runtime_info()  # type: ignore[attr-defined] - assembles and loads the model
    return backend  # type: ignore[return-value]


def _recorded_here(ctx: Context, model: str) -> None:
    """Before the model is loaded: its name is known, and the warehouse where the gateway
    records the calls exists."""
    from hopia.assistant.llm import packaged

    packaged.get(model)  # an unknown name: the French error listing the packaged ones
    existing_warehouse(ctx)


def gateway_call(
    ctx: Context, backend: EmbeddedBackend, task: str, purpose: str
) -> Callable[..., Completion]:
    """``call(messages, max_tokens, schema=None) -> Completion``: one greedy call of
    ``backend`` through the gateway (authorized, quotas, audited, usage row), its answer JSON
    valid against ``schema`` when one is given."""
    from hopia.services import llm_gateway as gw

    gateway = gw.Gateway({backend.name: backend}, backend.name)

    def call(
        messages: Sequence[ChatMessage], max_tokens: int, schema: Mapping[str, Any] | None = None
    ) -> Completion:
        fmt = None
        if schema is not None:
            spec = {"name": task.replace(".", "_"), "schema": dict(schema), "strict": True}
            fmt = {"type": "json_schema", "json_schema": spec}
        request = gw.ChatRequest.of(
            messages=[{"role": m.role, "content": m.content} for m in messages],
            backend=backend.name,
            max_tokens=max_tokens,
            temperature=0.0,
            task=task,
            purpose=purpose,
            response_format=fmt,
        )
        return gw.complete(ctx, request, gateway=gateway).completion

    return call


def llm_extractor(
    ctx: Context, model: str, threads: int, task: str = "nlp.extract"
) -> LlmExtractor:
    """The LLM extractor over the packaged ``model`` (``hopia nlp extract --engine llm``), its
    calls through the gateway (task ``task``)."""
    from hopia.assistant.extraction import LlmExtractor

    _recorded_here(ctx, model)
    backend = embedded_model(ctx, model, threads)
    call = gateway_call(ctx, backend, task, "extraction d'entités (LLM)")
    return LlmExtractor(call, backend.model)


# -- FrenchMedMCQA -------------------------------------------------------------------------------


class McqaEvalRequest(Request):
    questions: Path  # a FrenchMedMCQA JSON file, or its folder (then test.json)
    model: str = Field(min_length=1, max_length=60)
    limit: int | None = Field(None, ge=1)
    seed: int = 13
    retrieval: str = Field(NONE, min_length=1, max_length=80)
    k: int = Field(3, ge=1, le=10)
    threads: int = Field(2, ge=1, le=64)


McqaProgress = Callable[[int, int], None]


def evaluate_mcqa(
    ctx: Context, request: McqaEvalRequest, *, on_progress: McqaProgress | None = None
) -> McqaReport:
    """EMR and Hamming score of a packaged model on FrenchMedMCQA questions (a seeded sample
    when ``limit`` is given), with or without passages of a collection."""
    from hopia.assistant import mcqa
    from hopia.assistant.footprint import estimate
    from hopia.assistant.llm.base import ChatMessage

    path = request.questions / "test.json" if request.questions.is_dir() else request.questions
    if not path.is_file():
        raise NotFoundError(f"fichier de questions introuvable : {path}", fields=("questions",))
    ctx.authorize("assistant.eval", f"file:{path}")
    try:
        questions = mcqa.load_questions(path)
    except ValueError as exc:
        raise InvalidRequestError(
            f"fichier FrenchMedMCQA illisible : {exc}", fields=("questions",)
        ) from None
    retrieve = None if request.retrieval == NONE else _retriever(ctx, request.retrieval, request.k)
    chosen = mcqa.sample(questions, request.limit, request.seed)
    _recorded_here(ctx, request.model)
    backend = embedded_model(ctx, request.model, request.threads)
    settings = ctx.settings.assistant.footprint
    call = gateway_call(ctx, backend, "eval.mcqa", "évaluation FrenchMedMCQA")

    def answer(system: str, user: str) -> tuple[str, int, int]:
        messages = [ChatMessage("system", system), ChatMessage("user", user)]
        done = call(messages, MCQA_ANSWER_TOKENS)
        return done.text, done.usage.prompt_tokens, done.usage.completion_tokens

    report = mcqa.McqaReport(
        backend.model,
        str(path),
        len(questions),
        request.seed,
        None if request.retrieval == NONE else request.retrieval,
    )
    for i, question in enumerate(chosen, 1):
        answered = mcqa.ask(question, answer, retrieve)
        cost = estimate(
            settings,
            prompt_tokens=answered.prompt_tokens,
            completion_tokens=answered.completion_tokens,
            parameters_b=backend.parameters_b,
            seconds=answered.seconds,
        )
        report.answers.append(answered)
        report.energy_wh += cost.energy_wh
        report.co2e_g += cost.co2e_g
        report.cost_eur += cost.cost_eur
        if on_progress is not None:
            on_progress(i, len(chosen))
    return report


def _retriever(ctx: Context, collection: str, k: int) -> Callable[[str], list[str]]:
    """Passages of ``collection`` for a question (its propositions included in the query),
    above the relevance threshold."""
    from hopia.services import collections as colls
    from hopia.services.ask import min_similarity

    threshold = min_similarity(ctx)
    # an unknown or unreadable collection fails here, before the model is loaded
    colls.retrieve(ctx, colls.SearchRequest.of(collections=[collection], query="médicament", k=1))

    def retrieve(query: str) -> list[str]:
        hits = colls.retrieve(
            ctx, colls.SearchRequest.of(collections=[collection], query=query[:2000], k=k)
        )
        return [h.text for _, h in hits if h.similarity >= threshold]

    return retrieve


# -- rules + NER vs LLM --------------------------------------------------------------------------


class ExtractionEvalRequest(Request):
    brat: Path  # a QUAERO BRAT folder (dev)
    qualifiers: Path | None = None  # a qualifier JSONL; default: the shipped French set
    split: str = Field("test", min_length=1, max_length=20)
    models: list[str] = Field(default_factory=list, max_length=5)
    rules: bool = True
    documents: int | None = Field(None, ge=1)
    cases: int | None = Field(None, ge=1)
    seed: int = 13
    threads: int = Field(2, ge=1, le=64)


ExtractionProgress = Callable[[str, str, int, int], None]


def evaluate_extraction(
    ctx: Context, request: ExtractionEvalRequest, *, on_step: ExtractionProgress | None = None
) -> Comparison:
    """Rules + NER and each packaged model named, on a seeded sample of the BRAT documents and
    of the qualifier set's split (:mod:`hopia.assistant.extraction_eval`)."""
    from hopia.assistant import extraction_eval as ee
    from hopia.assistant.llm import packaged
    from hopia.data.nlp import evaluate as ev
    from hopia.data.nlp.evaluate import qualifiers as q

    if not request.brat.is_dir():
        raise NotFoundError(f"dossier BRAT introuvable : {request.brat}", fields=("brat",))
    if not request.rules and not request.models:
        raise InvalidRequestError("aucun système à comparer", fields=("models", "rules"))
    qualifier_file = request.qualifiers or q.default_set()
    if not qualifier_file.is_file():
        raise NotFoundError(f"fichier introuvable : {qualifier_file}", fields=("qualifiers",))
    ctx.authorize("nlp.eval", str(request.brat))
    gold = ev.read_brat(request.brat)
    cases = [c for c in q.read_cases(qualifier_file) if c.split == request.split]
    if not cases:
        raise InvalidRequestError(
            f"aucune phrase dans la partie « {request.split} »", fields=("split",)
        )
    docs = ee.sample_of(gold.docs, request.documents, request.seed)
    cases = ee.sample_of(cases, request.cases, request.seed)
    contenders = []
    if request.rules:
        settings = ctx.settings.data.nlp
        system = ev.hopia_system(
            ctx.settings.cache_dir,
            cache=settings.cache_pipeline,
            clinical_ner_weights=settings.clinical_ner_model,
        )
        contenders.append(ee.Contender(ev.System("rules", "Règles + NER (Hopia)", system.predict)))
    for name in request.models:
        extractor = llm_extractor(ctx, name, request.threads, "eval.extraction")
        size = packaged.get(name).parameters_b
        title = f"LLM {name}"
        contenders.append(ee.Contender(ee.llm_system(extractor, name, title), extractor, size))
    comparison = ee.Comparison(
        str(request.brat),
        len(gold.docs),
        [d.id for d in docs],
        str(qualifier_file),
        request.split,
        [c.id for c in cases],
        request.seed,
    )
    return ee.compare(
        contenders, docs, cases, ctx.settings.assistant.footprint, comparison, on_step
    )


# -- the PHI guard -------------------------------------------------------------------------------


class GuardEvalRequest(Request):
    gold: list[Path] = Field(min_length=1)
    split: Literal["heldout", "all"] = "heldout"
    limit: int | None = Field(None, ge=1)


def evaluate_guard(ctx: Context, request: GuardEvalRequest) -> GuardEvalResult:
    """What the PHI guard (as the gateway builds it from the installation's settings) lets
    through to a backend not local, on annotated notes: the held-out part of the files (never
    trained on) or all of them."""
    from hopia.assistant.guard_eval import evaluate_guard as run
    from hopia.data.pseudo import evaluate as ev
    from hopia.services.llm_gateway import build_guard

    ctx.authorize("pseudo.eval", ",".join(str(p) for p in request.gold))
    docs = [doc for path in request.gold for doc in ev.load_gold(path)]
    selected = ev.held_out(docs)[1] if request.split == "heldout" else docs
    return run(build_guard(ctx.settings.data.pseudo), selected[: request.limit])

"""Retrieval evaluation (``hopia assistant eval retrieval``): recall@k and MRR of BM25, dense
and hybrid retrieval on a question set over a corpus folder, with the cosines of the best
passage for answerable and off-topic questions (what the relevance threshold is calibrated
on). The corpus is indexed once under ``<home>/cache/knowledge-eval/`` and reused. Reads no
warehouse data and writes no audit entry: public documents and questions only."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from hopia.platform.exceptions import InvalidRequestError, NotFoundError
from hopia.services.context import Context, Request

if TYPE_CHECKING:
    from hopia.assistant.knowledge.evaluation import RetrievalReport


class RetrievalEvalRequest(Request):
    questions: Path
    corpus: Path
    k: int = Field(5, ge=1, le=20)
    embedder: Literal["e5", "use"] | None = None


def evaluate_retrieval(ctx: Context, request: RetrievalEvalRequest) -> RetrievalReport:
    from hopia.assistant.knowledge import evaluation

    ctx.authorize("assistant.eval", f"folder:{request.corpus}")
    if not request.questions.is_file():
        raise NotFoundError(
            f"fichier de questions introuvable : {request.questions}", fields=("questions",)
        )
    if not request.corpus.is_dir():
        raise NotFoundError(f"dossier du corpus introuvable : {request.corpus}", fields=("corpus",))
    try:
        questions = evaluation.load_questions(request.questions)
    except ValueError as exc:
        raise InvalidRequestError(
            f"fichier de questions illisible : {exc}", fields=("questions",)
        ) from None
    knowledge = ctx.settings.assistant.knowledge
    embedder = request.embedder or knowledge.embedder
    index, seconds = evaluation.build_index(
        request.corpus,
        Path(ctx.settings.home) / "cache" / "knowledge-eval",
        embedder,
        knowledge.threads,
        knowledge.chunk_size,
        knowledge.chunk_overlap,
    )
    try:
        return evaluation.evaluate(index, questions, request.k, seconds)
    except ValueError as exc:
        raise InvalidRequestError(f"question invalide : {exc}", fields=("questions",)) from None

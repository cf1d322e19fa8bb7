"""Cited answers: the prompt, [n] markers turned into citations, markers to passages that were
not given dropped; the ask service with and without a model (local operator, DuckDB)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hopia.assistant.knowledge.answer import NumberedPassage, cited, messages, template
from hopia.assistant.llm.base import ChatMessage, Completion, Usage
from hopia.platform.config import get_settings
from hopia.services import ask as ask_service
from hopia.services import collections as svc
from hopia.services.context import Context

PROTOCOL = (
    "1. Hygiène des mains\n"
    "La friction hydro-alcoolique dure 30 secondes avant tout contact avec le patient.\n\n"
    "2. Port des gants\n"
    "Les gants sont retirés et jetés immédiatement après le soin.\n"
)


def test_cited_keeps_given_passages_only() -> None:
    text, order = cited("La friction dure 30 s [2]. Les gants sont jetés [1, 7]. Voir [9].", 2)
    assert order == [2, 1]
    assert "[7]" not in text and "[9]" not in text
    assert text == "La friction dure 30 s [2]. Les gants sont jetés [1]. Voir."


def test_prompt_numbers_passages_and_asks_for_citations() -> None:
    assert "[1]" in template() and "ne permettent pas de répondre" in template()
    msgs = messages("Combien de temps ?", [NumberedPassage(1, "doc.txt", "30 secondes")])
    assert msgs[0].role == "system" and "[1] (doc.txt)\n30 secondes" in msgs[0].content
    assert msgs[1] == ChatMessage("user", "Combien de temps ?")


@pytest.fixture
def ctx(hopia_home: Path) -> Context:
    context = Context.local(get_settings(), "test")
    svc.create(context, svc.CreateRequest.of(name="hygiene"))
    svc.add_document(
        context, svc.AddRequest.of(collection="hygiene", filename="mains.txt"), PROTOCOL.encode()
    )
    yield context
    context.close()


def test_no_model_answer_returns_passages_and_says_so(ctx: Context) -> None:
    request = ask_service.AskRequest.of(
        question="Combien de temps dure la friction hydro-alcoolique ?", collections=["hygiene"]
    )
    answer = ask_service.ask(ctx, request)
    assert not answer.generated and answer.model is None
    assert ask_service.NO_MODEL_MARK in answer.text
    assert "30 secondes" in answer.text  # the passage itself, never a made-up text
    c = answer.citations[0]
    assert PROTOCOL[c.start : c.end] == answer.sources[0].text


def test_model_answer_citations_and_audit(ctx: Context) -> None:
    seen: list[list[ChatMessage]] = []

    def generate(msgs: list[ChatMessage]) -> Completion:
        seen.append(msgs)
        # what a model answers: one right citation, one to a passage it was never given
        return Completion("La friction dure 30 secondes [1] [4].", Usage(50, 9), "m", "b")

    request = ask_service.AskRequest.of(
        question="Combien de temps dure la friction hydro-alcoolique ?",
        collections=["hygiene"],
        k=1,
    )
    answer = ask_service.ask(ctx, request, generate)
    assert answer.generated and answer.model == "m"
    assert answer.text == "La friction dure 30 secondes [1]."
    assert [c.n for c in answer.citations] == [1]
    assert "30 secondes" in PROTOCOL[answer.citations[0].start : answer.citations[0].end]
    assert "[1] (mains.txt, section « 1. Hygiène des mains »)" in seen[0][0].content
    from sqlalchemy import select

    from hopia.platform.warehouse import schema as s

    with ctx.warehouse().engine.connect() as conn:
        row = conn.execute(
            select(s.audit_log).where(s.audit_log.c.audit_id == answer.audit_id)
        ).one()
    assert row.action == "assistant.ask"
    assert "friction" not in str(row.details)  # never the question's text


def test_nothing_relevant_generates_nothing(ctx: Context) -> None:
    def generate(msgs: list[ChatMessage]) -> Completion:
        raise AssertionError("no model call when nothing is relevant")

    request = ask_service.AskRequest.of(
        question="Quelle est la recette de la tarte tatin ?", collections=["hygiene"]
    )
    answer = ask_service.ask(ctx, request, generate)
    assert not answer.relevant and not answer.generated and answer.citations == []
    assert answer.text.startswith("Je n'ai trouvé aucun passage pertinent")

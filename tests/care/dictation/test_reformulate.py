"""A dictated section put into written form is kept only with exactly the dictated facts: the
real NLP reads both texts; the model's answers are planted (the seam the gateway fills), so
each way a model can betray a dictation is tried on purpose. The service audits one record
without text, and refuses a role that may not run it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from hopia.assistant.llm.base import ChatMessage, Completion, Usage
from hopia.care.dictation.reformulate import reformulate
from hopia.platform.access import Principal
from hopia.platform.config import get_settings
from hopia.platform.exceptions import AccessDeniedError
from hopia.platform.identity.roles import SpacePolicy
from hopia.platform.warehouse import Warehouse
from hopia.services import dictation_reformulate as service
from hopia.services.context import Context

DICTATED = {
    "Antécédents": "diabète de type 2, hypertension artérielle, pas d'insuffisance cardiaque",
    "Traitement": "metformine 1000 mg × 2/j, ramipril 5 mg le matin",
}
FAITHFUL = {
    "Antécédents": "Diabète de type 2. Hypertension artérielle. Pas d'insuffisance cardiaque.",
    "Traitement": "Metformine 1000 mg deux fois par jour ; ramipril 5 mg le matin.",
}


@pytest.fixture(scope="module")
def nlp() -> Any:
    from hopia.data.nlp import get_nlp

    return get_nlp(cache_dir=Path(os.environ["HOPIA_CACHE_DIR"]))


def _model(answers: dict[str, str], seen: list[list[ChatMessage]] | None = None):
    """Answers by section title (the prompt names it on its first line)."""

    def generate(messages: list[ChatMessage]) -> Completion:
        if seen is not None:
            seen.append(messages)
        title = messages[1].content.splitlines()[0].removeprefix("Section : ").strip()
        return Completion(answers[title], Usage(10, 10), "scripted", "stop")

    return generate


@pytest.mark.slow
def test_a_faithful_rewrite_is_kept(nlp: Any) -> None:
    seen: list[list[ChatMessage]] = []
    result = reformulate(DICTATED, generate=_model(FAITHFUL, seen), nlp=nlp)
    assert [s.accepted for s in result.sections] == [True, True], [
        s.reason for s in result.sections
    ]
    assert result.texts == FAITHFUL and result.model == "scripted"
    assert result.prompt_version == "dictation_section.v1"
    # each section is sent alone: the model sees no other section's words
    assert "metformine" not in seen[0][1].content and "diabète" not in seen[1][1].content


@pytest.mark.slow
@pytest.mark.parametrize(
    ("section", "answer", "where", "fact"),
    [
        # an invented drug
        ("Traitement", FAITHFUL["Traitement"] + " Aspirine 75 mg.", "added", "Aspirine"),
        # a changed dose
        (
            "Traitement",
            "Metformine 850 mg deux fois par jour ; ramipril 5 mg le matin.",
            "added",
            "Metformine",
        ),  # fmt: skip
        # a dropped condition
        (
            "Antécédents",
            "Diabète de type 2. Pas d'insuffisance cardiaque.",
            "dropped",
            "hypertension artérielle",
        ),  # fmt: skip
        # a flipped negation
        (
            "Antécédents",
            "Diabète de type 2. Hypertension artérielle. Insuffisance cardiaque.",
            "added",
            "Insuffisance cardiaque",
        ),  # fmt: skip
    ],
)
def test_a_rewrite_that_changes_a_fact_is_refused(
    nlp: Any, section: str, answer: str, where: str, fact: str
) -> None:
    answers = {**FAITHFUL, section: answer}
    result = reformulate(DICTATED, generate=_model(answers), nlp=nlp)
    by_title = {s.title: s for s in result.sections}
    bad, other = by_title[section], next(s for s in result.sections if s.title != section)
    assert not bad.accepted and other.accepted
    assert bad.text == DICTATED[section]  # the dictated text stays
    flags = bad.added if where == "added" else bad.dropped
    assert any(f.text.lower().startswith(fact.lower()) for f in flags), bad.to_json()
    assert bad.reason and fact.lower() in bad.reason.lower()


def test_the_prompt_is_versioned_and_kept_out_of_the_task_forms() -> None:
    from hopia.assistant import tasks
    from hopia.assistant.tasks import prompts

    assert (
        service.TASK.prompt.label
        == f"dictation_section.v{prompts.versions('dictation_section')[-1]}"
    )
    assert set(service.TASK.prompt.variables) == {"section", "text"}
    assert service.TASK.name not in tasks.TASKS  # the omission check lives in the dictation


def test_without_a_model_the_draft_stays_as_dictated() -> None:
    result = reformulate(DICTATED, generate=None, nlp=None)
    assert result.texts == DICTATED and result.model is None
    assert "Aucun modèle" in (result.message or "")
    assert not any(s.accepted for s in result.sections)


@pytest.mark.slow
def test_a_repeated_title_and_an_empty_answer(nlp: Any) -> None:
    answers = {"Antécédents": "Antécédents :\n" + FAITHFUL["Antécédents"], "Traitement": "  "}
    result = reformulate(DICTATED, generate=_model(answers), nlp=nlp)
    first, second = result.sections
    assert first.accepted and first.text == FAITHFUL["Antécédents"]
    assert not second.accepted and second.reason == "le modèle n'a rien proposé"


def _as(wh: Warehouse, role: str) -> Context:
    ctx = Context(
        get_settings(), Principal(role, frozenset({role})), SpacePolicy(lambda p, conn: frozenset())
    )
    ctx.use_warehouse(wh)
    return ctx


def test_the_service_audits_counts_only_and_checks_the_role(tmp_path: Path) -> None:
    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    try:
        request = service.ReformulateRequest.of(sections=DICTATED, patient="IPP123")
        result = service.reformulate(_as(wh, "clinician"), request, None)
        assert result.texts == DICTATED
        with pytest.raises(AccessDeniedError):
            service.reformulate(_as(wh, "researcher"), request, None)
        with wh.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT actor, target, details FROM hopia_meta.audit_log "
                    "WHERE action = 'dictation.reformulate'"
                )
            ).all()
        (row,) = rows
        details = json.loads(row.details) if isinstance(row.details, str) else row.details
        assert row.target == "ipp:IPP123"
        assert details == {
            "model": None,
            "prompt_version": "dictation_section.v1",
            "sections": 2,
            "accepted": 0,
            "generated": False,
        }
        assert "metformine" not in json.dumps(details)
    finally:
        wh.close()

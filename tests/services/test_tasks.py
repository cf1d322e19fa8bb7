"""The tasks service on the sample warehouse: who may run which task (roles, perimeter), the
sources read as the user may read them, and one audit record per run without any text."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from hopia.platform.access import Principal
from hopia.platform.config import get_settings
from hopia.platform.exceptions import AccessDeniedError, InvalidRequestError
from hopia.platform.identity import store
from hopia.platform.identity.roles import SpacePolicy
from hopia.platform.warehouse import Warehouse
from hopia.services import cohort_library, tasks
from hopia.services.context import Context

DEFINITION = {
    "name": "ic_taches",
    "title": "Insuffisance cardiaque",
    "inclusion": [{"label": "IC", "condition": {"cim10": ["I50"]}}],
}


def _as(wh: Warehouse, role: str, care_sites: frozenset[int] = frozenset()) -> Context:
    sites = store.perimeter_reader(wh.engine)
    principal = Principal(role, frozenset({role}), care_sites=care_sites)
    ctx = Context(get_settings(), principal, SpacePolicy(sites))
    ctx._warehouse, ctx._owns_warehouse = wh, False
    return ctx


def _runs(wh: Warehouse) -> list[dict]:
    with wh.engine.connect() as conn:
        q = "SELECT target, details FROM hopia_meta.audit_log WHERE action = 'task.run'"
        rows = conn.execute(text(q + " ORDER BY audit_id")).all()
    return [
        {"target": r.target, **(json.loads(r.details) if isinstance(r.details, str) else r.details)}
        for r in rows
    ]


def _patient_of_site(wh: Warehouse, site: int) -> tuple[int, int]:
    with wh.engine.connect() as conn:
        return tuple(
            conn.execute(
                text(
                    "SELECT v.person_id, v.visit_occurrence_id FROM omop.visit_occurrence v "
                    "JOIN omop.note n ON n.visit_occurrence_id = v.visit_occurrence_id "
                    "WHERE v.care_site_id = :s ORDER BY v.person_id, v.visit_occurrence_id LIMIT 1"
                ),
                {"s": site},
            ).one()
        )


def test_patient_summary_without_model_reads_the_perimeter_documents(
    sample_copy: Warehouse,
) -> None:
    person, _ = _patient_of_site(sample_copy, 2)
    clinician = _as(sample_copy, "clinician", frozenset({2}))
    run = tasks.run_task(clinician, tasks.TaskRequest.of(task="patient_summary", person_id=person))
    result = run.result
    assert not result.generated and "Aucun modèle" in (result.message or "")
    assert result.sources and all(s.id.startswith("note:") for s in result.sources)
    assert sum(len(s.text) for s in result.sources) <= tasks.SOURCE_CHARS
    (entry,) = _runs(sample_copy)
    assert entry["target"] == f"person:{person}" and entry["task"] == "patient_summary"
    assert entry["prompt_version"] == "patient_summary.v1" and entry["model"] is None
    assert entry["sources"] == [s.id for s in result.sources]
    # the audit names the documents, never their text
    assert not any(s.text[:40] in json.dumps(entry, ensure_ascii=False) for s in result.sources)


def test_discharge_letter_lists_the_structured_facts(sample_copy: Warehouse) -> None:
    _, visit = _patient_of_site(sample_copy, 2)
    clinician = _as(sample_copy, "clinician", frozenset({2}))
    result = tasks.run_task(
        clinician, tasks.TaskRequest.of(task="discharge_letter", visit_id=visit)
    ).result
    assert result.sources and not result.generated
    facts = result.structured["facts"]
    assert all(f["kind"] in ("condition", "drug") for f in facts)
    assert all(any(f["source"] == s.id for s in result.sources) for f in facts)


def test_role_and_perimeter_refusals(sample_copy: Warehouse) -> None:
    person, visit = _patient_of_site(sample_copy, 2)
    summary = tasks.TaskRequest.of(task="patient_summary", person_id=person)
    with pytest.raises(AccessDeniedError, match="périmètre"):
        tasks.run_task(_as(sample_copy, "clinician", frozenset({999})), summary)
    with pytest.raises(AccessDeniedError):
        tasks.run_task(_as(sample_copy, "researcher"), summary)
    with pytest.raises(AccessDeniedError):
        tasks.run_task(
            _as(sample_copy, "researcher"),
            tasks.TaskRequest.of(task="discharge_letter", visit_id=visit),
        )
    question = tasks.TaskRequest.of(task="cohort_from_question", question="diabétiques de type 2")
    with pytest.raises(AccessDeniedError):
        tasks.run_task(_as(sample_copy, "clinician", frozenset({2})), question)
    with pytest.raises(AccessDeniedError):
        tasks.run_task(_as(sample_copy, "manager"), question)
    assert _runs(sample_copy) == []  # refused before anything ran
    # every staff role may make minutes and quizzes
    for role in ("clinician", "researcher", "data_steward", "manager", "admin"):
        tasks.run_task(
            _as(sample_copy, role), tasks.TaskRequest.of(task="minutes", text="Réunion.")
        )
    assert len(_runs(sample_copy)) == 5
    assert tasks.run_task(_as(sample_copy, "researcher"), question).result.generated is False


def test_article_draft_shows_the_cohort_tables_without_model(sample_copy: Warehouse) -> None:
    researcher = _as(sample_copy, "researcher")
    cohort_library.save_definition(
        researcher, cohort_library.DefinitionBody.of(definition=DEFINITION)
    )
    result = tasks.run_task(
        researcher, tasks.TaskRequest.of(task="article_draft", cohort="ic_taches")
    ).result
    assert not result.generated
    assert result.structured["results"]["cohort"]["name"] == "ic_taches"
    assert result.structured["results"]["attrition"]


def test_a_task_asks_for_what_it_needs(sample_copy: Warehouse) -> None:
    ctx = _as(sample_copy, "clinician", frozenset({2}))
    with pytest.raises(InvalidRequestError, match="demande un patient"):
        tasks.run_task(ctx, tasks.TaskRequest.of(task="patient_summary"))


def test_list_tasks_says_what_a_role_may_run() -> None:
    ctx = Context(
        get_settings(), Principal("m", frozenset({"manager"})), SpacePolicy(lambda p, conn: ())
    )
    allowed = {t.name: t.allowed for t in tasks.list_tasks(ctx)}
    assert allowed == {
        "patient_summary": False,
        "discharge_letter": False,
        "cohort_from_question": False,
        "article_draft": False,
        "quiz": True,
        "minutes": True,
    }


def test_cohort_question_evaluation_needs_a_model(sample_copy: Warehouse) -> None:
    from tests.conftest import REPO

    request = tasks.CohortEvalRequest.of(
        questions=REPO / "bench" / "assistant" / "cohort_questions.yaml"
    )
    operator = Context.local(get_settings(), "test")
    operator._warehouse, operator._owns_warehouse = sample_copy, False
    with pytest.raises(InvalidRequestError, match="aucun modèle"):
        tasks.evaluate_cohort_questions(operator, request, None)
    with pytest.raises(AccessDeniedError):  # an evaluation is the operator's, not a web role's
        tasks.evaluate_cohort_questions(_as(sample_copy, "researcher"), request, None)


def test_cohort_question_evaluation_runs_the_prompt_version_asked(sample_copy: Warehouse) -> None:
    from hopia.assistant.llm.base import ChatMessage, Completion, Usage
    from tests.conftest import REPO

    sent: list[str] = []

    def generate(messages: list[ChatMessage]) -> Completion:
        # the first question of the set, answered as its expected definition
        sent.append(messages[0].content)
        answer = "name: q01\ntitle: HTA\ninclusion:\n  - condition: {cim10: [I10]}\n"
        return Completion(answer, Usage(10, 10), "scripted", "test")

    operator = Context.local(get_settings(), "test")
    operator._warehouse, operator._owns_warehouse = sample_copy, False
    questions = REPO / "bench" / "assistant" / "cohort_questions.yaml"
    request = tasks.CohortEvalRequest.of(questions=questions, limit=1, prompt_version=2)
    result = tasks.evaluate_cohort_questions(operator, request, generate)
    assert (result.prompt, result.valid, result.exact) == ("cohort_from_question.v2", 1, 1)
    assert "créatinine 2160-0" in sent[0]
    latest = tasks.CohortEvalRequest.of(questions=questions, limit=1)
    assert tasks.evaluate_cohort_questions(operator, latest, generate).prompt.endswith(".v3")
    unknown = tasks.CohortEvalRequest.of(questions=questions, limit=1, prompt_version=99)
    with pytest.raises(InvalidRequestError) as caught:
        tasks.evaluate_cohort_questions(operator, unknown, generate)
    assert caught.value.fields == ("prompt_version",)


def test_a_patient_without_readable_documents_gets_no_text(sample_copy: Warehouse) -> None:
    # the local operator has no perimeter: the identified documents list is empty for them, so
    # the model is not called even when one is given (nothing to ground a summary in)
    operator = Context.local(get_settings(), "test")
    operator._warehouse, operator._owns_warehouse = sample_copy, False
    person, _ = _patient_of_site(sample_copy, 2)

    def generate(messages: list) -> None:
        raise AssertionError("the model must not be called without sources")

    result = tasks.run_task(
        operator, tasks.TaskRequest.of(task="patient_summary", person_id=person), generate
    ).result
    assert result.sources == () and not result.generated
    assert result.message == tasks.NO_DOCUMENT

"""Assistant tasks service: gather a task's sources as the user may read them, run the task
(:mod:`hopia.assistant.tasks`) and audit the run.

Each run asks ``ctx.authorize("task.<name>", resource)`` first (the role x action table is in
``platform/identity/roles.py``): the clinical tasks for a clinician within the patient's
perimeter, cohort-from-question and article draft for a researcher, quiz and minutes for every
staff role. The documents are read through the documents service (perimeter check and audit of
each read); a cohort's tables through the cohort library (suppressed, audited). One
``task.run`` audit record per run names the task, the prompt version, the model and the
patient/stay/cohort; never the text.

``generate`` is the caller's: the gateway once merged, a local backend from the CLI until then,
None when no model is configured (the task says so and shows its sources).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field
from sqlalchemy import func, select

from hopia.assistant import tasks as registry
from hopia.assistant.grounding import SourceText
from hopia.assistant.tasks import Generate, Task, TaskResult

__all__ = ["Generate", "TaskResult"]  # the front ends' types, through this service
from hopia.platform import audit
from hopia.platform.exceptions import InvalidRequestError, NotFoundError
from hopia.platform.identity.roles import may
from hopia.platform.warehouse import schema
from hopia.services.context import Context, Request
from hopia.services.texts import require_file

if TYPE_CHECKING:
    from hopia.assistant.cohort_eval import CohortEval
    from hopia.assistant.cohort_eval import Progress as CohortProgress
    from hopia.assistant.grounding_eval import GroundingEval
    from hopia.services import llm_gateway as gw

#: The longest text a task takes (a collection document is cut there).
MAX_TEXT = 20_000
#: What one document may bring to a prompt, and all of them together: the packaged models have
#: a 4,096-token context; the most recent documents come first.
DOCUMENT_CHARS = 2_500
SOURCE_CHARS = 7_000
MAX_DOCUMENTS = 20


NO_DOCUMENT = (
    "Aucun document lisible pour ce patient ou ce séjour (dans votre périmètre) : rien à "
    "résumer, aucun texte n'a été généré."
)


class TaskRequest(Request):
    task: str = Field(min_length=1, max_length=60)
    person_id: int | None = None
    visit_id: int | None = None
    cohort: str | None = Field(None, max_length=200)
    question: str | None = Field(None, max_length=1000)
    text: str | None = Field(None, max_length=20_000)
    title: str | None = Field(None, max_length=200)
    collection: str | None = Field(None, max_length=80)
    """With ``document_id``: the text is that document of a knowledge collection (a protocol
    for the quiz), read as the user may read it."""
    document_id: str | None = Field(None, max_length=40)


@dataclass(frozen=True)
class TaskInfo:
    name: str
    title: str
    action: str
    needs: str
    prompt_version: str
    allowed: bool


@dataclass(frozen=True)
class TaskRun:
    result: TaskResult
    audit_id: int
    history_id: str | None = None


def list_tasks(ctx: Context) -> list[TaskInfo]:
    """Every task, and whether the user's roles allow it (the local operator: all)."""
    operator = "operator" in ctx.principal.roles
    return [
        TaskInfo(
            t.name,
            t.title,
            t.action,
            t.needs,
            t.prompt.label,
            operator or may(ctx.principal, t.action),
        )
        for t in registry.TASKS.values()
    ]


@dataclass(frozen=True)
class StayChoice:
    visit_id: int
    person_id: int
    care_site: str | None
    documents: int


@dataclass(frozen=True)
class DocumentChoice:
    collection: str
    collection_title: str
    document_id: str
    name: str


@dataclass(frozen=True)
class TaskChoices:
    """What a task form offers to pick, each part only for a task the user may run: the
    patients and stays of the perimeter that have a readable document (ids, care site and a
    count: no identity), the saved cohorts, the documents of the readable collections."""

    patients: list[int]
    stays: list[StayChoice]
    cohorts: list[str]
    documents: list[DocumentChoice]


MAX_CHOICES = 200


def choices(ctx: Context) -> TaskChoices:
    """The pickers of the task forms (audited when it lists patients: ``task.choices``)."""
    allowed = {t.name for t in list_tasks(ctx) if t.allowed}
    stays: list[StayChoice] = []
    if allowed & {"patient_summary", "discharge_letter"}:
        stays = _perimeter_stays(ctx)
    cohorts: list[str] = []
    if "article_draft" in allowed:
        from hopia.services import cohort_library

        cohorts = [d.name for d in cohort_library.list_definitions(ctx)]
    documents: list[DocumentChoice] = []
    if "quiz" in allowed:
        from hopia.services import collections

        for c in collections.list_visible(ctx):
            _, docs = collections.get(ctx, collections.NamedRequest.of(collection=c.name))
            documents += [DocumentChoice(c.name, c.title, d.id, d.name) for d in docs]
    patients = sorted({s.person_id for s in stays})
    return TaskChoices(patients, stays, cohorts, documents[:MAX_CHOICES])


def _perimeter_stays(ctx: Context) -> list[StayChoice]:
    from hopia.platform.identity.roles import PERIMETER_RESOURCE

    ctx.authorize("task.patient_summary", PERIMETER_RESOURCE)
    visit, note, site = schema.CDM["visit_occurrence"], schema.CDM["note"], schema.CDM["care_site"]
    doc = schema.document
    count = func.count(note.c.note_id)
    query = (
        select(visit.c.visit_occurrence_id, visit.c.person_id, site.c.care_site_name, count)
        .join(note, note.c.visit_occurrence_id == visit.c.visit_occurrence_id)
        .join(doc, (doc.c.note_id == note.c.note_id) & (doc.c.status == "done"))
        .join(site, site.c.care_site_id == visit.c.care_site_id, isouter=True)
        .where(visit.c.care_site_id.in_(sorted(ctx.principal.care_sites)))
        .group_by(visit.c.visit_occurrence_id, visit.c.person_id, site.c.care_site_name)
        .order_by(visit.c.person_id, visit.c.visit_occurrence_id)
        .limit(MAX_CHOICES)
    )
    with ctx.warehouse().begin(reads_first=True) as conn:
        rows = conn.execute(query).all()
        audit.record(
            conn,
            ctx.actor,
            "task.choices",
            PERIMETER_RESOURCE,
            None,
            {"persons": sorted({r.person_id for r in rows}), "stays": len(rows)},
        )
    return [StayChoice(r[0], r[1], r[2], r[3]) for r in rows]


def _require(request: TaskRequest, field: str, what: str) -> Any:
    value = getattr(request, field)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidRequestError(f"la tâche « {request.task} » demande {what}", fields=(field,))
    return value


def _documents(ctx: Context, note_ids: list[int]) -> list[SourceText]:
    from hopia.services import documents

    sources: list[SourceText] = []
    used = 0
    for note_id in note_ids[:MAX_DOCUMENTS]:
        view = documents.view_document(
            ctx, documents.DocumentViewRequest(note_id=note_id, space="identified")
        )
        text = view.text[:DOCUMENT_CHARS]
        if used + len(text) > SOURCE_CHARS:
            break
        used += len(text)
        title = " ".join(x for x in (view.type, view.date and view.date.isoformat()) if x)
        sources.append(SourceText(f"note:{note_id}", text, title or f"document {note_id}"))
    return sources


def _patient_notes(ctx: Context, person_id: int) -> list[int]:
    from hopia.services import documents

    page = documents.list_documents(
        ctx,
        documents.DocumentListRequest(space="identified", person_id=person_id, size=MAX_DOCUMENTS),
    )
    return [d.note_id for d in page.items]  # newest first


def _visit(ctx: Context, visit_id: int) -> tuple[int, list[int]]:
    visit, note = schema.CDM["visit_occurrence"], schema.CDM["note"]
    with ctx.warehouse(migrate=False).engine.connect() as conn:
        person_id = conn.execute(
            select(visit.c.person_id).where(visit.c.visit_occurrence_id == visit_id)
        ).scalar()
        notes = conn.execute(
            select(note.c.note_id)
            .where(note.c.visit_occurrence_id == visit_id)
            .order_by(note.c.note_date, note.c.note_id)
        ).scalars()
        note_ids = list(notes)
    if person_id is None:  # visit ids are sequential: an unknown one says nothing
        raise NotFoundError(f"séjour {visit_id} introuvable", fields=("visit_id",))
    return int(person_id), note_ids


def _prepare(
    ctx: Context, task: Task, request: TaskRequest
) -> tuple[Any, list[SourceText], dict[str, Any], str, dict[str, Any]]:
    """Inputs, sources, structured data, the audited resource and its audit details."""
    if task.needs == "patient":
        person_id = _require(request, "person_id", "un patient")
        resource = f"person:{person_id}"
        ctx.authorize(task.action, resource)
        sources = _documents(ctx, _patient_notes(ctx, person_id))
        return task.inputs(person_id=person_id), sources, {}, resource, {"person_id": person_id}
    if task.needs == "visit":
        visit_id = _require(request, "visit_id", "un séjour")
        person_id, note_ids = _visit(ctx, visit_id)
        resource = f"person:{person_id}"
        ctx.authorize(task.action, resource)
        sources = _documents(ctx, note_ids)
        from hopia.assistant.tasks.clinical import structured_facts
        from hopia.services.nlp import pipeline

        facts = structured_facts(pipeline(ctx), sources) if sources else []
        details = {"person_id": person_id, "visit_id": visit_id}
        return task.inputs(visit_id=visit_id), sources, {"facts": facts}, resource, details
    if task.needs == "cohort":
        name = _require(request, "cohort", "une cohorte enregistrée")
        resource = f"cohort:{name}"
        ctx.authorize(task.action, resource)
        from hopia.services import cohort_library

        run = cohort_library.run_saved(ctx, cohort_library.RunSavedRequest.of(name=name))
        data = {"results": run.public, "cohort_audit_id": run.audit_id}
        return task.inputs(cohort=name), [], data, resource, {"cohort": name}
    if task.needs == "question":
        question = _require(request, "question", "une question")
        ctx.authorize(task.action, "question")
        return task.inputs(question=question), [], {}, "question", {}
    if request.text is None and request.collection and request.document_id:
        return _collection_text(ctx, task, request)
    text = _require(request, "text", "un texte")
    ctx.authorize(task.action, "text")
    inputs = task.inputs(text=text, title=request.title)
    source = SourceText("texte", text, request.title)
    return inputs, [source], {}, "text", {"chars": len(text)}


def _collection_text(
    ctx: Context, task: Task, request: TaskRequest
) -> tuple[Any, list[SourceText], dict[str, Any], str, dict[str, Any]]:
    """A collection document as the task's text: read through the collections service (the
    collection must be readable), cut to what a task takes."""
    from hopia.services import collections

    resource = f"collection:{request.collection}"
    ctx.authorize(task.action, resource)
    found = collections.source(
        ctx,
        collections.PassageRequest.of(
            collection=request.collection, document_id=request.document_id, start=0, end=0
        ),
    )
    text = found.text[:MAX_TEXT]
    inputs = task.inputs(text=text, title=found.document)
    source = SourceText(f"{request.collection}:{request.document_id}", text, found.document)
    details = {"chars": len(text), "collection": request.collection}
    return inputs, [source], {}, resource, details


def run_task(ctx: Context, request: TaskRequest, generate: Generate | None = None) -> TaskRun:
    """Run a task on what the user may read; audited (``task.run``), never with the text, and
    kept in the user's history (:mod:`hopia.services.history`)."""
    from hopia.services import history

    task = registry.get(request.task)
    inputs, sources, structured, resource, details = _prepare(ctx, task, request)
    nlp = None
    if generate is not None and task.grounded:
        from hopia.services.nlp import pipeline

        nlp = pipeline(ctx)
    empty = task.needs in ("patient", "visit") and not sources
    result = registry.run(
        task,
        inputs,
        sources,
        generate=None if empty else generate,  # nothing to ground a text in: no text
        nlp=nlp,
        structured=structured,
    )
    if empty:
        result = replace(result, message=NO_DOCUMENT)
    with ctx.warehouse().begin() as conn:
        entry = audit.record(
            conn,
            ctx.actor,
            "task.run",
            resource,
            None,
            {
                "task": task.name,
                "prompt_version": result.prompt_version,
                "model": result.model,
                "generated": result.generated,
                "sources": [s.id for s in sources],
                "flags": len(result.flags),
                "error": result.error is not None,
                **details,
            },
        )
        kept = history.record(
            conn,
            ctx,
            kind="task",
            name=task.name,
            inputs=_history_inputs(request, result),
            answer=result.text or result.message or "",
            citations=[
                {"id": s.id, "title": s.title, "chars": len(s.text)} for s in result.sources
            ],
            flags=[f.to_json() for f in result.flags],
            structured=result.structured,
            generated=result.generated,
            model=result.model,
            audit_id=entry.audit_id,
            prompt_version=result.prompt_version,
            person_id=details.get("person_id"),
            pasted=request.text,
        )
    return TaskRun(result, entry.audit_id, kept)


def _history_inputs(request: TaskRequest, result: TaskResult) -> dict[str, Any]:
    """What names the run in the history: ids, a cohort, a question, a document's title; a
    pasted text only by its title and length (the text itself: ``history.record``'s
    ``pasted``)."""
    named = {
        "person_id": request.person_id,
        "visit_id": request.visit_id,
        "cohort": request.cohort,
        "question": request.question,
        "collection": request.collection,
        "document_id": request.document_id,
        "title": request.title or next((s.title for s in result.sources if s.title), None)
        if request.text is not None or request.document_id
        else None,
        "chars": len(request.text) if request.text is not None else None,
        "error": result.error,
    }
    return {k: v for k, v in named.items() if v is not None}


# -- evaluation ----------------------------------------------------------------------------------


class GroundingEvalRequest(Request):
    cases: Path


def evaluate_grounding(ctx: Context, request: GroundingEvalRequest) -> GroundingEval:
    """Precision and recall of the grounding check on seeded errors (a YAML of cases)."""
    from hopia.assistant.grounding import check
    from hopia.assistant.grounding_eval import evaluate, load_cases
    from hopia.services.nlp import pipeline

    require_file(request.cases, "cases")
    ctx.authorize("assistant.eval", str(request.cases))
    cases = load_cases(request.cases)
    nlp = pipeline(ctx)
    return evaluate(cases, lambda output, sources: check(output, sources, nlp=nlp))


class CohortEvalRequest(Request):
    questions: Path
    limit: int | None = Field(None, ge=1)
    prompt_version: int | None = Field(None, ge=1)  # the latest prompt when None


def evaluate_cohort_questions(
    ctx: Context,
    request: CohortEvalRequest,
    generate: Generate | None,
    progress: CohortProgress | None = None,
) -> CohortEval:
    """Exact match (same members) of the definitions the model writes for each question, on
    the configured warehouse. Without a model nothing can be generated: a French error."""
    from hopia.assistant.cohort_eval import evaluate, load_questions
    from hopia.services.warehouse import existing_warehouse

    require_file(request.questions, "questions")
    ctx.authorize("assistant.eval", str(request.questions))
    if generate is None:
        raise InvalidRequestError(
            "aucun modèle de langage n'est configuré : rien à évaluer", fields=("backend",)
        )
    questions = load_questions(request.questions)[: request.limit]
    task = registry.get("cohort_from_question")
    try:
        prompt = task.prompt_at(request.prompt_version)
    except NotFoundError as exc:
        raise InvalidRequestError(exc.message, fields=("prompt_version",)) from exc

    def answer(question: str) -> tuple[str, str | None]:
        result = registry.run(
            task,
            task.inputs(question=question),
            [],
            generate=generate,
            prompt_version=prompt.version,
        )
        return result.text, result.error

    wh = existing_warehouse(ctx)
    with wh.engine.connect() as conn:
        result = evaluate(questions, answer, conn, progress)
    result.prompt = prompt.label
    return result


# -- the model, until the gateway carries the calls ----------------------------------------------


def gateway_generate(
    ctx: Context,
    task: str | Task,
    *,
    backend: str | None = None,
    model: str | None = None,
    threads: int = 2,
    gateway: gw.Gateway | None = None,
) -> Generate | None:
    """The model call of ``task`` (its answer length, temperature 0) through the LLM gateway:
    quotas, usage and footprint, one audit record per call, and the PHI guard before a backend
    not marked local. ``model`` names a packaged model run embedded without configuration;
    ``gateway``, the one a front end keeps (the web application's); None when no backend is
    configured and none is named (the task then says so)."""
    from hopia.assistant.llm.base import ChatMessage, Completion
    from hopia.assistant.llm.registry import packaged_backend
    from hopia.services import llm_gateway as gw

    settings = ctx.settings
    # a Task object: one run by its own service, not offered by the task forms (a dictation's)
    chosen_task = task if isinstance(task, Task) else registry.get(task)
    max_tokens = chosen_task.max_tokens
    if model:
        chosen = packaged_backend(model, settings.cache_dir, n_threads=threads)
        gateway = gw.Gateway({chosen.name: chosen}, chosen.name)
        backend = chosen.name
    elif gateway is not None:
        if not gateway.backends:
            return None
    elif backend or settings.assistant.backends:
        gateway = None  # the configured backends (Gateway.from_settings)
    else:
        return None

    def generate(messages: list[ChatMessage]) -> Completion:
        chat = gw.ChatRequest.of(
            messages=[gw.MessageIn.of(role=m.role, content=m.content) for m in messages],
            backend=backend,
            max_tokens=max_tokens,
            temperature=0.0,
            task=f"task.{chosen_task.name}",
        )
        return gw.complete(ctx, chat, gateway=gateway).completion

    return generate


def table_cells(results: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """A cohort's public results as the article draft's placeholders: key -> (value, meaning)."""
    from hopia.assistant.tasks.article import cells

    return cells(results)

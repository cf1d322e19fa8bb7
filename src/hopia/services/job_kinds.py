"""The kinds of job: what each one's parameters are, what it must be allowed, how it runs.

Each kind calls the existing service with the job's context (its owner, the actions granted at
submission) and reports progress through the job's control; its result is a JSON summary with
no identifying data (counts, ids, report files). Adding a kind: a :class:`JobKind` entry here,
its parameters validated in ``prepare`` before anything is read.

- ``ingest``: the files stored for the job by :func:`hopia.services.uploads.store_upload`
  (documents, and at most one patient registry), through :func:`hopia.services.ingest.ingest`.
  No parameter. Its result names the ingest run (whose error rows, in the identified space,
  name the bad files); the uploaded files are removed once every document was stored.
- ``quality``: :func:`hopia.services.quality.run` (``tables``, ``check_types``, ``history``,
  ``enrichment``); the reports go to ``<home>/quality``.
- ``share_export``: :func:`hopia.services.sharing.export`, with a reason, every field of an
  export request but the folder: ``<home>/exports/<job id>``. A refusal (k or l out of reach)
  fails the job with the anonymity report in its details.
- ``collection_add``: one document into a knowledge collection
  (:func:`hopia.services.collections.add_document`), the file stored for the job by
  :func:`hopia.services.collection_jobs.submit_add`; queued with ``collection.write`` on the
  collection instead of ``jobs.submit`` (every staff member manages their own collections).
- ``dictation.transcribe``: a dictation draft's audio heard and structured
  (:func:`hopia.services.dictation_drafts.transcribe_draft`); submitted by
  :func:`hopia.services.dictation_drafts.finish` with the draft and its patient, asked
  ``dictation.draft`` on that patient (a clinician's perimeter). Its result names the draft.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from hopia.platform.access import Purpose
from hopia.platform.exceptions import (
    CatalogueError,
    InvalidRequestError,
    NotFoundError,
    ShareRefusedError,
)
from hopia.platform.files import private_dir
from hopia.platform.jobs import JobControl, JobRecord
from hopia.services.context import Context, Request
from hopia.services.uploads import remove_upload, upload_dir

JobKind = Literal["ingest", "quality", "share_export", "collection_add", "dictation.transcribe"]
Actions = list[tuple[str, str]]


@dataclass(frozen=True)
class KindSpec:
    label: str
    """French, for the people who read the job list."""
    prepare: Callable[[Context, str | None, dict[str, Any]], dict[str, Any]]
    """Validate the raw parameters (a French error naming ``parameters.<field>``) and return
    those to store; nothing read but the job's own upload folder."""
    actions: Callable[[dict[str, Any]], Actions]
    """The (action, resource) pairs the policy is asked at submission."""
    granted: frozenset[str]
    """What the job may do when it runs (its service's authorisations)."""
    run: Callable[[Context, JobRecord, JobControl], dict[str, Any]]
    exclusive: bool = False
    """Holds the warehouse for its whole run: one at a time per runner."""
    submit_action: str | None = "jobs.submit"
    """The action asked (on ``job-kind:<kind>``) to queue a job of this kind, beside
    :attr:`actions`; ``None``: the kind's own actions are the whole requirement."""


def new_id() -> str:
    return uuid.uuid4().hex


def _validated(model: type[Request], raw: dict[str, Any], **extra: Any) -> Any:
    """``model.of(**raw, **extra)``, the fields at fault named ``parameters.<field>``."""
    for key in extra:
        if key in raw:
            raise InvalidRequestError(
                f"« parameters.{key} » : fixé par Hopia pour une tâche, à ne pas fournir",
                fields=(f"parameters.{key}",),
            )
    try:
        return model.of(**raw, **extra)
    except InvalidRequestError as exc:
        fields = tuple(f"parameters.{f}" for f in exc.fields)
        message = exc.message
        for f in exc.fields:
            message = message.replace(f"« {f} »", f"« parameters.{f} »")
        raise InvalidRequestError(message, fields=fields) from None


# -- ingest -------------------------------------------------------------------------------------


class _IngestParameters(Request):
    """No parameter: the job ingests what was stored under its id."""


def _ingest_files(ctx: Context, job_id: str) -> tuple[list[Path], Path | None]:
    folder = upload_dir(ctx.settings, job_id)
    documents = _visible_files(folder / "documents")
    registry = next(iter(_visible_files(folder / "patients")), None)
    return documents, registry


def _visible_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def _prepare_ingest(ctx: Context, job_id: str | None, raw: dict[str, Any]) -> dict[str, Any]:
    _validated(_IngestParameters, raw)
    if job_id is None:
        raise InvalidRequestError(
            "une tâche d'intégration porte l'identifiant de ses fichiers déposés : déposez-les "
            "d'abord, puis soumettez la tâche sous cet identifiant",
            fields=("job_id",),
        )
    documents, registry = _ingest_files(ctx, job_id)
    if not documents:
        raise InvalidRequestError(
            "aucun document déposé pour cette tâche : rien à intégrer", fields=("job_id",)
        )
    return {"documents": len(documents), "registry": registry is not None}


def _ingest_actions(parameters: dict[str, Any]) -> Actions:
    actions = [("ingest.run", "warehouse")]
    if parameters.get("registry"):
        actions.append(("ingest.patients", "warehouse"))
    return actions


def _run_ingest(ctx: Context, record: JobRecord, control: JobControl) -> dict[str, Any]:
    from hopia.services.ingest import IngestRequest, expected_documents, ingest

    documents, registry = _ingest_files(ctx, record.job_id)
    if not documents:
        raise NotFoundError(
            "les fichiers déposés pour cette tâche ont disparu (dossier uploads de la tâche)"
        )
    folder = upload_dir(ctx.settings, record.job_id) / "documents"
    request = IngestRequest.of(paths=[folder], patients=registry)
    control.progress(0, None, "Chargement des modèles de TAL", force=True)
    total = expected_documents(ctx, request)
    report = ingest(
        ctx,
        request,
        on_progress=control.advance,
        on_ready=lambda: control.progress(0, total, "Intégration des documents", force=True),
    )
    kept = bool(report.errors)
    if not kept:  # everything is in the warehouse: no copy of the documents left behind
        remove_upload(ctx.settings, record.job_id)
    return {
        "run_id": report.run_id,
        "added": report.added,
        "duplicates": report.duplicates,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "pipe_errors": sum(report.pipe_errors.values()),
        "patients": report.patients,
        "mentions": sum(report.entities.values()),
        "seconds": round(report.seconds, 1),
        "files_kept": kept,
    }


# -- quality ------------------------------------------------------------------------------------


class _QualityParameters(Request):
    tables: tuple[str, ...] = ()
    check_types: tuple[str, ...] = ()
    history: bool = True
    enrichment: bool = True


def _prepare_quality(ctx: Context, job_id: str | None, raw: dict[str, Any]) -> dict[str, Any]:
    params = _validated(_QualityParameters, raw)
    from hopia.data.quality import load_catalogue
    from hopia.data.quality.runner import builders

    # An unknown table or check type is refused now, not when the job runs: the caller's
    # mistake (422 naming parameters.<field>), not an inconsistent catalogue.
    try:
        builders(load_catalogue().select(params.tables, params.check_types))
    except CatalogueError as exc:
        if not exc.fields:
            raise
        raise InvalidRequestError(
            exc.message, fields=tuple(f"parameters.{f}" for f in exc.fields)
        ) from None
    return params.model_dump(mode="json")


def _run_quality(ctx: Context, record: JobRecord, control: JobControl) -> dict[str, Any]:
    from hopia.services import quality

    request = quality.RunRequest.of(**record.parameters)
    outcome = quality.run(
        ctx,
        request,
        on_start=lambda n: control.progress(0, n, "Contrôles de qualité", force=True),
        on_progress=control.advance,
    )
    totals = outcome.report.totals
    return {
        "run_id": outcome.run.run_id,
        "checks": totals.checks,
        "passed": totals.passed,
        "failed": totals.failed,
        "not_applicable": totals.not_applicable,
        "errors": totals.errors,
        "pass_rate": totals.pass_rate,
        "json_report": str(outcome.json_path),
        "html_report": str(outcome.html_path),
    }


# -- share_export -------------------------------------------------------------------------------


def _export_folder(ctx: Context, job_id: str) -> Path:
    return Path(ctx.settings.home) / "exports" / job_id


def _export_resource(parameters: dict[str, Any]) -> str:
    # as hopia.services.sharing names it: the selection's file
    if parameters.get("cohort"):
        return f"cohort-definition:{Path(parameters['cohort']).name}"
    return f"persons-file:{Path(parameters.get('persons') or '').name}"


def _prepare_export(ctx: Context, job_id: str | None, raw: dict[str, Any]) -> dict[str, Any]:
    from hopia.data.sharing.persons import check_source
    from hopia.services.sharing import ExportRequest

    request = _validated(ExportRequest, raw, out=Path("."))
    parameters = request.model_dump(mode="json", exclude={"out"})
    # The reason first, audited when refused, as the export itself does.
    parameters["reason"] = ctx.check_reason(
        request.reason, Purpose.SHARE, "share.export", _export_resource(parameters)
    )
    check_source(request.cohort, request.persons)
    return parameters


def _run_export(ctx: Context, record: JobRecord, control: JobControl) -> dict[str, Any]:
    from hopia.services import sharing

    out = _export_folder(ctx, record.job_id)
    private_dir(out.parent)  # <home>/exports, owner-only (the export is made private inside)
    request = sharing.ExportRequest.of(out=out, **record.parameters)
    control.progress(0, None, "Export pseudonymisé et k-anonyme", force=True)
    try:
        result = sharing.export(ctx, request)
    except ShareRefusedError as exc:
        exc.details["report"] = exc.report.to_dict()
        raise
    return {
        "folder": str(result.folder),
        "format": request.format,
        "persons": result.manifest.get("persons"),
        "files": len(result.manifest.get("files", [])),
        "audit_id": result.audit_id,
        "report": result.report.to_dict(),
    }


# -- collection_add -----------------------------------------------------------------------------


class _CollectionAddParameters(Request):
    collection: str = Field(min_length=1, max_length=80)
    filename: str = Field(min_length=1, max_length=255)


def _collection_file(ctx: Context, job_id: str, filename: str) -> Path:
    from hopia.services.collections import ADD_FOLDER

    return upload_dir(ctx.settings, job_id) / ADD_FOLDER / Path(filename).name


def _prepare_collection_add(
    ctx: Context, job_id: str | None, raw: dict[str, Any]
) -> dict[str, Any]:
    params = _validated(_CollectionAddParameters, raw)
    if job_id is None or not _collection_file(ctx, job_id, params.filename).is_file():
        raise InvalidRequestError(
            "aucun document déposé pour cette tâche : rien à ajouter", fields=("job_id",)
        )
    return {"collection": params.collection, "filename": Path(params.filename).name}


def _run_collection_add(ctx: Context, record: JobRecord, control: JobControl) -> dict[str, Any]:
    from hopia.services import collections

    parameters = record.parameters
    path = _collection_file(ctx, record.job_id, parameters["filename"])
    if not path.is_file():
        raise NotFoundError(
            "le document déposé pour cette tâche a disparu (dossier uploads de la tâche)"
        )
    control.progress(0, 1, "Lecture, découpage et indexation du document", force=True)
    request = collections.AddRequest.of(
        collection=parameters["collection"], filename=parameters["filename"]
    )
    added = collections.add_document(ctx, request, path.read_bytes())
    remove_upload(ctx.settings, record.job_id)
    control.progress(1, 1, "Document indexé", force=True)
    return {
        "collection": added.collection,
        "document_id": added.document.id,
        "name": added.document.name,
        "status": added.status,
        "passages": added.document.passages,
        "audit_id": added.audit_id,
    }


# -- dictation.transcribe -----------------------------------------------------------------------


class _DictationParameters(Request):
    draft_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    person_id: int = Field(ge=0)


def _prepare_dictation(ctx: Context, job_id: str | None, raw: dict[str, Any]) -> dict[str, Any]:
    return _validated(_DictationParameters, raw).model_dump(mode="json")


def _run_dictation(ctx: Context, record: JobRecord, control: JobControl) -> dict[str, Any]:
    from hopia.services.dictation_drafts import transcribe_draft

    control.progress(0, None, "Reconnaissance vocale et structuration", force=True)
    return transcribe_draft(ctx, record.parameters["draft_id"])


KINDS: dict[str, KindSpec] = {
    "ingest": KindSpec(
        label="Intégration de documents",
        prepare=_prepare_ingest,
        actions=_ingest_actions,
        granted=frozenset({"ingest.run", "ingest.patients"}),
        run=_run_ingest,
        exclusive=True,
    ),
    "quality": KindSpec(
        label="Contrôle de qualité",
        prepare=_prepare_quality,
        actions=lambda parameters: [("quality.run", "warehouse")],
        granted=frozenset({"quality.run"}),
        run=_run_quality,
    ),
    "share_export": KindSpec(
        label="Export k-anonyme",
        prepare=_prepare_export,
        actions=lambda parameters: [("share.export", _export_resource(parameters))],
        granted=frozenset({"share.export"}),
        run=_run_export,
    ),
    "collection_add": KindSpec(
        label="Ajout d'un document à une collection",
        prepare=_prepare_collection_add,
        actions=lambda parameters: [("collection.write", f"collection:{parameters['collection']}")],
        granted=frozenset({"collection.write"}),
        run=_run_collection_add,
        submit_action=None,
    ),
    "dictation.transcribe": KindSpec(
        label="Transcription d'une dictée",
        prepare=_prepare_dictation,
        actions=lambda parameters: [("dictation.draft", f"person:{parameters['person_id']}")],
        granted=frozenset({"dictation.transcribe"}),
        run=_run_dictation,
        submit_action=None,  # the draft's own action on its patient is the whole requirement
    ),
}

"""``/api/v1/ingest``: upload documents (and at most one patient registry) as one ingest job.

Each file is stored by :func:`hopia.services.uploads.store_upload` (checked by its content,
``jobs.max_upload_bytes`` each), then the ``ingest`` job is submitted under the upload's id.
One refused file refuses the whole upload: the files already stored for it are removed and no
job is queued (a user corrects and sends again; nothing half-ingested)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile

from hopia.platform.exceptions import HopiaError, InvalidRequestError
from hopia.services import jobs, uploads
from hopia.services.context import Context
from hopia.services.jobs import JobRunner
from hopia.web.deps import ContextDep, RunnerDep
from hopia.web.roles import Allow
from hopia.web.schemas.jobs import UploadOut
from hopia.web.schemas.problem import PROBLEMS, Problem

UPLOADS = "/ingest/uploads"
TOO_LARGE = {"model": Problem, "description": "The upload is above jobs.max_upload_bytes."}
router = APIRouter(
    responses={**PROBLEMS, 413: TOO_LARGE},
    prefix="/ingest",
    tags=["ingest"],
    dependencies=[Allow("ingest.run")],
)


@router.post(
    "/uploads",
    status_code=202,
    summary="Upload documents (and a patient registry) and queue their ingest as a job",
)
def upload(
    ctx: ContextDep,
    runner: RunnerDep,
    files: Annotated[
        list[UploadFile], File(description="Documents: PDF, Word, text, JSON Lines, HL7, FHIR…")
    ],
    patients: Annotated[
        UploadFile | None, File(description="A patient registry (JSON Lines or CSV).")
    ] = None,
) -> UploadOut:
    job, stored = store_and_submit(ctx, runner, files, patients)
    return UploadOut(job=job, files=stored)


def store_and_submit(
    ctx: Context, runner: JobRunner | None, files: list[UploadFile], patients: UploadFile | None
) -> tuple[jobs.JobView, list[uploads.StoredUpload]]:
    """Store every file of one upload, then queue their ingest (the API's route and the jobs
    page's form); nothing kept and nothing queued when one file is refused."""
    if not files:
        raise InvalidRequestError("aucun document déposé", fields=("files",))
    parts = [(f, "documents") for f in files]
    if patients is not None:
        parts.append((patients, "patients"))
    job_id: str | None = None  # the first file stored gives it
    stored: list[uploads.StoredUpload] = []
    try:
        for part, role in parts:
            request = uploads.UploadRequest.of(
                filename=part.filename or "document", role=role, job_id=job_id
            )
            stored.append(uploads.store_upload(ctx, request, part.file))
            job_id = stored[0].job_id
        job = jobs.submit(ctx, jobs.JobRequest.of(kind="ingest", job_id=job_id), runner)
    except HopiaError:
        if job_id is not None:
            uploads.remove_upload(ctx.settings, job_id)
        raise
    return job, stored

"""Adding a document to a knowledge collection as a background job (kind ``collection_add``):
reading, cutting and embedding a long PDF takes minutes, which a web request should not hold.

:func:`submit_add` makes the checks :func:`hopia.services.collections.add_document` makes first
(:func:`~hopia.services.collections.check_add`: the policy's ``collection.write`` — which, for
this kind, replaces the DIM's ``jobs.submit``: every staff member manages their own
collections —, the size, the format, and that the caller manages the collection), so that a
job that is queued can run; then it stores the file in the job's upload folder (owner-only)
and queues the job. The job runs as its owner (:mod:`hopia.services.job_kinds`):
``add_document``, audited ``collection.add`` as always; the stored file is then removed.

Apart from :mod:`hopia.services.collections` because the jobs service runs that module's
``add_document``: the submission depends on the jobs, the jobs on the collections."""

from __future__ import annotations

from hopia.platform.files import atomic_file, private_dir
from hopia.services import jobs
from hopia.services.collections import ADD_FOLDER, AddRequest, check_add
from hopia.services.context import Context
from hopia.services.job_kinds import new_id
from hopia.services.uploads import remove_upload, upload_dir


def submit_add(
    ctx: Context, request: AddRequest, data: bytes, runner: jobs.JobRunner | None = None
) -> jobs.JobView:
    """Queue the adding of one document to a collection the caller manages; the job's view."""
    name = check_add(ctx, request, data)
    job_id = new_id()
    upload = upload_dir(ctx.settings, job_id)  # <home>/uploads/<job id>, as the ingest's
    folder = private_dir(private_dir(private_dir(upload.parent) / job_id) / ADD_FOLDER)
    with atomic_file(folder / name, "wb", private=True) as fh:
        fh.write(data)
    parameters = {"collection": request.collection, "filename": name}
    try:
        return jobs.submit(
            ctx,
            jobs.JobRequest.of(kind="collection_add", job_id=job_id, parameters=parameters),
            runner,
        )
    except BaseException:
        remove_upload(ctx.settings, job_id)
        raise

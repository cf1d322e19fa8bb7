"""``/api/v1/exports``: a k-anonymous export of a saved cohort as a background job (DIM), with
a reason. The reason is checked (and a refusal audited) at submission; an export that cannot
reach k or l fails its job, the anonymity report in the job's error details. The files go to
``<home>/exports/<job id>`` on the server, never to a path the caller names."""

from __future__ import annotations

from fastapi import APIRouter

from hopia.services import cohort_library, jobs
from hopia.web.deps import ContextDep, RunnerDep
from hopia.web.roles import Allow
from hopia.web.schemas.jobs import ExportIn
from hopia.web.schemas.problem import PROBLEMS

router = APIRouter(
    responses=PROBLEMS, prefix="/exports", tags=["exports"], dependencies=[Allow("share.export")]
)


@router.post(
    "",
    status_code=202,
    summary="Export a saved cohort, pseudonymised and k-anonymous, as a job (reason required)",
)
def export(body: ExportIn, ctx: ContextDep, runner: RunnerDep) -> jobs.JobView:
    cohort = cohort_library.definition_file(ctx, cohort_library.NamedRequest.of(name=body.cohort))
    parameters = body.model_dump(mode="json", exclude={"cohort"}, exclude_none=True)
    parameters["cohort"] = str(cohort)
    return jobs.submit(ctx, jobs.JobRequest.of(kind="share_export", parameters=parameters), runner)

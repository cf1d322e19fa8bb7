"""``/api/v1/patients``: one patient's identity, stays and timeline (identified space: a
clinician of the patient's services, or breaking the glass with a reason)."""

from __future__ import annotations

from fastapi import APIRouter

from hopia.services import patients
from hopia.web.deps import ContextDep
from hopia.web.roles import Allow
from hopia.web.schemas.notes import ReasonBody
from hopia.web.schemas.problem import PROBLEMS

router = APIRouter(
    responses=PROBLEMS,
    prefix="/patients",
    tags=["patients"],
    dependencies=[Allow("patient.identified")],
)


@router.get("/{person_id}", summary="Identity, stays and timeline of a patient (audited)")
def view_patient(person_id: int, ctx: ContextDep) -> patients.PatientView:
    return patients.view_patient(ctx, patients.PatientRequest.of(person_id=person_id))


@router.post(
    "/{person_id}/break-glass",
    summary="A patient outside the perimeter, with a reason (flagged in the audit)",
)
def break_glass(person_id: int, body: ReasonBody, ctx: ContextDep) -> patients.PatientView:
    return patients.view_patient(
        ctx, patients.PatientRequest.of(person_id=person_id, break_glass_reason=body.reason)
    )

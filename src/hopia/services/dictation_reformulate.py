"""Putting a dictation draft's sections into written form with the configured language model
(issue 14 item 4; :mod:`hopia.care.dictation.reformulate`).

The draft is the clinician's (nothing of the record is read, nothing is written but the audit
record): the action is ``task.dictation_section`` and one ``dictation.reformulate`` record
names the model, the prompt version and how many sections were kept or refused, never the text.
``generate`` is the caller's (:func:`hopia.services.tasks.gateway_generate`: the gateway's
quotas, usage, audit per call and PHI guard); None when no model is configured, and the draft
then stays as dictated with the reason.
"""

from __future__ import annotations

from pydantic import Field

from hopia.assistant.tasks.dictation import DICTATION_SECTION as TASK
from hopia.care.dictation.reformulate import Reformulation, SectionRewrite
from hopia.platform import audit
from hopia.services.context import Context, Request
from hopia.services.tasks import Generate

__all__ = ["TASK", "Reformulation", "ReformulateRequest", "SectionRewrite", "reformulate"]

#: A note's sections: title → dictated text (a draft's ``sections``).
MAX_SECTIONS = 40


class ReformulateRequest(Request):
    sections: dict[str, str] = Field(min_length=1, max_length=MAX_SECTIONS)
    patient: str | None = Field(None, max_length=64)  # the draft's patient (IPP), for the audit
    person_id: int | None = Field(None, ge=0)  # or the warehouse's id, a server-side draft's


def reformulate(
    ctx: Context, request: ReformulateRequest, generate: Generate | None
) -> Reformulation:
    """The draft's sections, each put into written form when the model keeps every fact."""
    from hopia.care.dictation.reformulate import reformulate as rewrite

    resource = (
        f"person:{request.person_id}"
        if request.person_id is not None
        else f"ipp:{request.patient}"
        if request.patient
        else "dictation"
    )
    ctx.authorize("task.dictation_section", resource)
    nlp = None
    if generate is not None:
        from hopia.services.nlp import pipeline

        nlp = pipeline(ctx)
    result = rewrite(request.sections, generate=generate, nlp=nlp)
    with ctx.warehouse().begin() as conn:
        audit.record(
            conn,
            ctx.actor,
            "dictation.reformulate",
            resource,
            None,
            {
                "model": result.model,
                "prompt_version": result.prompt_version,
                "sections": len(result.sections),
                "accepted": sum(s.accepted for s in result.sections),
                "generated": generate is not None,
            },
        )
    return result

"""``/dictee``: a clinician's dictations, on a phone as on a desk (issue 14).

- ``/dictee``: my drafts, and a new dictation (patient IPP, template);
- ``/dictee/{id}``: record (``/static/dictation.js``: MediaRecorder chunks sent to
  ``/api/v1/dictations/{id}/chunks`` as they come, the partial transcript refreshed while
  speaking), or upload a file (a plain form: no script needed); while the transcription job
  runs the page refreshes itself (``<meta>`` refresh, as the jobs page), then opens the review;
- ``/dictee/{id}/relecture``: the note's sections (editable) beside the transcript and the
  patient's timeline summary (:func:`hopia.services.patients.view_patient`); the coded facts
  with their codes and qualifiers: a fact's button plays its seconds of audio and highlights
  its words (the script), its forms recode or delete it; validate (with a confirmation box)
  or discard.

Every page calls :mod:`hopia.services.dictation_drafts`, which judges (the author, the
perimeter) and audits; a refusal is the application's French error page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from hopia.platform.exceptions import HopiaError
from hopia.services import dictation, jobs, patients
from hopia.services import dictation_drafts as drafts
from hopia.web.deps import job_runner
from hopia.web.pages import csrf
from hopia.web.pages.common import Viewer, show, to_login, viewer
from hopia.web.routes.gateway import gateway_of

router = APIRouter(include_in_schema=False)
SECTION = "/dictee"
DICTATION_FILE_FORM = "/dictee/{}/fichier"
#: Timeline events shown beside the review (the latest first).
SUMMARY_EVENTS = 12


def _templates() -> list[Any]:
    return dictation.templates()


@router.get("/dictee")
def home(request: Request) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    mine = drafts.list_drafts(who.ctx, drafts.ListDrafts.of(status=None, limit=50))
    return show(request, who, "dictation/list.html", SECTION, drafts=mine, templates=_templates())


@router.post("/dictee")
def create(
    request: Request,
    ipp: Annotated[str, Form(max_length=200)] = "",
    template: Annotated[str, Form(max_length=40)] = "crh",
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    try:
        draft = drafts.create_draft(who.ctx, drafts.CreateDraft.of(ipp=ipp, template=template))
    except HopiaError as exc:
        if exc.http_status not in (404, 422):
            raise
        mine = drafts.list_drafts(who.ctx, drafts.ListDrafts.of(status=None, limit=50))
        return show(
            request,
            who,
            "dictation/list.html",
            SECTION,
            422,
            drafts=mine,
            templates=_templates(),
            error=exc.message,
            ipp=ipp,
            chosen=template,
        )
    return RedirectResponse(f"/dictee/{draft.id}", status_code=303)


def _patient(who: Viewer, person_id: int) -> patients.PatientView:
    return patients.view_patient(who.ctx, patients.PatientRequest.of(person_id=person_id))


def _job(who: Viewer, job_id: str | None) -> jobs.JobView | None:
    if job_id is None:
        return None
    try:
        return jobs.get(who.ctx, job_id)
    except HopiaError:
        return None


@router.get("/dictee/{draft_id}")
def record(request: Request, draft_id: str) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    draft = drafts.get_draft(who.ctx, drafts.DraftRef.of(draft_id=draft_id))
    job = _job(who, draft.job_id)
    if draft.transcript is not None and (job is None or job.status == "succeeded"):
        return RedirectResponse(f"/dictee/{draft_id}/relecture", status_code=303)
    patient = _patient(who, draft.person_id)
    return show(
        request,
        who,
        "dictation/record.html",
        SECTION,
        draft=draft,
        job=job,
        running=job is not None and job.status in ("queued", "running"),
        patient=patient,
        max_mb=who.ctx.settings.care.dictation.max_audio_bytes // (1024 * 1024),
    )


@router.post("/dictee/{draft_id}/fichier")
def upload(
    request: Request,
    draft_id: str,
    audio: Annotated[UploadFile, File()],
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    ref = drafts.DraftRef.of(draft_id=draft_id)
    try:
        drafts.store_audio(who.ctx, ref, audio.file, audio.filename or "audio")
    except HopiaError as exc:
        if exc.http_status != 422:
            raise
        draft = drafts.get_draft(who.ctx, ref)
        return show(
            request,
            who,
            "dictation/record.html",
            SECTION,
            422,
            draft=draft,
            job=None,
            running=False,
            patient=_patient(who, draft.person_id),
            error=exc.message,
            max_mb=who.ctx.settings.care.dictation.max_audio_bytes // (1024 * 1024),
        )
    drafts.finish(who.ctx, ref, job_runner(request))
    return RedirectResponse(f"/dictee/{draft_id}", status_code=303)


def _marked(
    transcript: str, facts: list[dict[str, Any]]
) -> list[tuple[str, dict[str, Any] | None]]:
    """The transcript cut into pieces, each fact's words a piece of its own (overlaps: the
    first fact keeps them)."""
    pieces: list[tuple[str, dict[str, Any] | None]] = []
    at = 0
    spans = sorted(
        (f for f in facts if isinstance(f.get("start"), int) and isinstance(f.get("end"), int)),
        key=lambda f: (f["start"], f["end"]),
    )
    for fact in spans:
        if fact["start"] < at or fact["end"] > len(transcript):
            continue
        if fact["start"] > at:
            pieces.append((transcript[at : fact["start"]], None))
        pieces.append((transcript[fact["start"] : fact["end"]], fact))
        at = fact["end"]
    if at < len(transcript):
        pieces.append((transcript[at:], None))
    return pieces


@router.get("/dictee/{draft_id}/relecture")
def review(request: Request, draft_id: str, message: str | None = None) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    draft = drafts.get_draft(who.ctx, drafts.DraftRef.of(draft_id=draft_id))
    if draft.transcript is None:
        return RedirectResponse(f"/dictee/{draft_id}", status_code=303)
    return _review(request, who, draft, message=message)


def _review(
    request: Request, who: Viewer, draft: drafts.DraftView, status: int = 200, **values: Any
) -> Response:
    patient = _patient(who, draft.person_id)
    events = sorted(patient.timeline, key=lambda e: (e.date is not None, e.date), reverse=True)[
        :SUMMARY_EVENTS
    ]
    titles = next((t for t in _templates() if t.name == draft.template), None)
    missing = [t for _, t in titles.sections if t not in draft.sections] if titles else []
    return show(
        request,
        who,
        "dictation/review.html",
        SECTION,
        status,
        draft=draft,
        patient=patient,
        events=events,
        pieces=_marked(draft.transcript or "", draft.facts),
        missing_sections=missing,
        kinds={
            "condition": "Diagnostic (CIM-10)",
            "drug": "Médicament (ATC)",
            "measurement": "Biologie (LOINC)",
        },  # fmt: skip
        **values,
    )


def _edit(request: Request, who: Viewer, draft_id: str, **values: Any) -> Response:
    """Apply one correction; a refusal to correct (422) is shown on the review page."""
    try:
        drafts.update_draft(who.ctx, drafts.UpdateDraft.of(draft_id=draft_id, **values))
    except HopiaError as exc:
        if exc.http_status != 422:
            raise
        draft = drafts.get_draft(who.ctx, drafts.DraftRef.of(draft_id=draft_id))
        return _review(request, who, draft, 422, error=exc.message)
    return RedirectResponse(f"/dictee/{draft_id}/relecture?message=enregistre", status_code=303)


@router.post("/dictee/{draft_id}/sections")
async def save_sections(request: Request, draft_id: str) -> Response:
    """Every section textarea (``section:<title>``) at once; the unchanged ones record
    nothing."""
    form = await request.form()
    csrf.check(request, str(form.get(csrf.FIELD) or ""))
    who = viewer(request)
    if who is None:
        return to_login()
    sections = {
        str(k).removeprefix("section:"): str(v).replace("\r\n", "\n").strip()
        for k, v in form.multi_items()
        if str(k).startswith("section:")
    }
    draft = drafts.get_draft(who.ctx, drafts.DraftRef.of(draft_id=draft_id))
    changed = {k: v for k, v in sections.items() if draft.sections.get(k, "") != v}
    return _edit(request, who, draft_id, sections=changed)


@router.post("/dictee/{draft_id}/faits")
def add_fact(
    request: Request,
    draft_id: str,
    text: Annotated[str, Form(max_length=500)] = "",
    kind: Annotated[str, Form(max_length=20)] = "condition",
    code: Annotated[str, Form(max_length=20)] = "",
    negation: Annotated[bool, Form()] = False,
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    fact = {"text": text or None, "kind": kind, "code": code or None, "negation": negation}
    return _edit(request, who, draft_id, facts=[fact])


@router.post("/dictee/{draft_id}/faits/{fact_id}")
def edit_fact(
    request: Request,
    draft_id: str,
    fact_id: str,
    code: Annotated[str, Form(max_length=20)] = "",
    negation: Annotated[bool, Form()] = False,
    hypothesis: Annotated[bool, Form()] = False,
    delete: Annotated[str, Form(alias="supprimer", max_length=5)] = "",
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    if delete:
        fact: dict[str, Any] = {"id": fact_id, "delete": True}
    else:
        fact = {"id": fact_id, "code": code or None, "negation": negation}
        fact["hypothesis"] = hypothesis
    return _edit(request, who, draft_id, facts=[fact])


@router.post("/dictee/{draft_id}/sejour")
def set_stay(
    request: Request,
    draft_id: str,
    stay: Annotated[int | None, Form()] = None,
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    draft = drafts.update_draft(who.ctx, drafts.UpdateDraft.of(draft_id=draft_id, stay=stay))
    target = "relecture" if draft.transcript is not None else ""
    return RedirectResponse(f"/dictee/{draft_id}/{target}".rstrip("/"), status_code=303)


@router.post("/dictee/{draft_id}/mise-en-forme")
def reformulate(
    request: Request, draft_id: str, token: Annotated[str, Form(alias=csrf.FIELD)] = ""
) -> Response:
    """The sections put into written form by the configured language model; a proposal that
    adds, changes or drops a fact is refused and the dictated text stays (the reasons shown)."""
    from hopia.services import dictation_reformulate as reform
    from hopia.services import tasks

    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    generate = tasks.gateway_generate(who.ctx, reform.TASK, gateway=gateway_of(request))
    draft, result = drafts.reformulate_draft(
        who.ctx, drafts.DraftRef.of(draft_id=draft_id), generate
    )
    return _review(request, who, draft, reformulation=result)


@router.post("/dictee/{draft_id}/valider")
def validate(
    request: Request,
    draft_id: str,
    confirm: Annotated[str, Form(alias="confirmation", max_length=5)] = "",
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    ref = drafts.DraftRef.of(draft_id=draft_id)
    if not confirm:
        draft = drafts.get_draft(who.ctx, ref)
        message = "cochez la confirmation pour valider : la note entrera dans le dossier"
        return _review(request, who, draft, 422, error=message)
    done = drafts.validate_draft(who.ctx, ref)
    return RedirectResponse(f"/patients/{done.draft.person_id}#chronologie", status_code=303)


@router.post("/dictee/{draft_id}/abandonner")
def discard(
    request: Request, draft_id: str, token: Annotated[str, Form(alias=csrf.FIELD)] = ""
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    drafts.discard(who.ctx, drafts.DraftRef.of(draft_id=draft_id))
    return RedirectResponse("/dictee", status_code=303)

"""``/api/v1/dictations``: a clinician's dictation drafts (``hopia.services.dictation_drafts``).

Create a draft for a patient of the perimeter, send its audio (a whole file, or a live
recording's numbered chunks, each stored once: a chunk sent again is acknowledged), read the
partial transcript while recording, finish (the transcription runs as a job: 202 with the job,
followed in ``/api/v1/jobs``), read, correct (sections, facts, stay), listen (the draft's audio,
Range requests answered: ``#t=a,b`` media fragments work), validate (the note is ingested into
the warehouse) or discard. A draft is its author's: anyone else reads it as unknown (404)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from hopia.services import dictation_drafts as drafts
from hopia.services import jobs
from hopia.web.deps import ContextDep, RunnerDep
from hopia.web.roles import Allow
from hopia.web.schemas.problem import PROBLEMS, Problem

PREFIX = "/dictations"
TOO_LARGE = {"model": Problem, "description": "Above care.dictation.max_audio_bytes."}
router = APIRouter(
    responses={**PROBLEMS, 413: TOO_LARGE},
    prefix=PREFIX,
    tags=["dictations"],
    dependencies=[Allow("dictation.draft")],
)


class CreateBody(BaseModel):
    model_config = {"extra": "forbid"}
    ipp: str = Field(description="The patient's IPP (a patient of the caller's perimeter).")
    template: str = Field("crh", description="crh, consultation, operatoire, ordonnance…")
    stay: int | None = Field(None, description="One of the patient's stays (visit id).")


class PatchBody(BaseModel):
    model_config = {"extra": "forbid"}
    sections: dict[str, str] = Field(default_factory=dict, description="Title → new text.")
    facts: list[drafts.FactEdit] = Field(default_factory=list)
    stay: int | None = None


def _ref(draft_id: str) -> drafts.DraftRef:
    return drafts.DraftRef.of(draft_id=draft_id)


@router.get("", summary="My dictation drafts, newest first (audited)")
def list_drafts(
    ctx: ContextDep,
    status: Annotated[drafts.Status | None, Query()] = "draft",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[drafts.DraftSummary]:
    return drafts.list_drafts(ctx, drafts.ListDrafts.of(status=status, limit=limit))


@router.post("", status_code=201, summary="A new draft for a patient of my perimeter")
def create(body: CreateBody, ctx: ContextDep) -> drafts.DraftView:
    return drafts.create_draft(ctx, drafts.CreateDraft.of(**body.model_dump()))


@router.get("/{draft_id}", summary="A draft: transcript, sections, coded facts (audited)")
def get_draft(draft_id: str, ctx: ContextDep) -> drafts.DraftView:
    return drafts.get_draft(ctx, _ref(draft_id))


@router.patch("/{draft_id}", summary="Correct a draft: sections, facts, stay (each edit kept)")
def update(draft_id: str, body: PatchBody, ctx: ContextDep) -> drafts.DraftView:
    values: dict[str, Any] = body.model_dump(exclude_none=True)
    return drafts.update_draft(ctx, drafts.UpdateDraft.of(draft_id=draft_id, **values))


@router.post("/{draft_id}/audio", summary="Upload the draft's audio file (checked by content)")
def upload_audio(
    draft_id: str,
    ctx: ContextDep,
    audio: Annotated[UploadFile, File(description="wav, mp3, ogg, webm, m4a or flac")],
) -> drafts.DraftView:
    return drafts.store_audio(ctx, _ref(draft_id), audio.file, audio.filename or "audio")


@router.get(
    "/{draft_id}/audio",
    summary="The draft's audio, for its author (Range requests answered; audited)",
    response_class=FileResponse,
    responses={200: {"content": {"audio/*": {}}, "description": "The audio file."}},
)
def listen(draft_id: str, ctx: ContextDep) -> FileResponse:
    found = drafts.audio_file(ctx, _ref(draft_id))
    return FileResponse(found.path, media_type=found.media_type)


@router.post(
    "/{draft_id}/chunks",
    summary="Append a live recording's chunk (numbered; a chunk sent again is acknowledged)",
)
def append_chunk(
    draft_id: str,
    ctx: ContextDep,
    seq: Annotated[int, Form(ge=0, le=100_000, description="0, 1, 2… in recording order")],
    chunk: Annotated[UploadFile, File(description="The MediaRecorder's chunk")],
) -> drafts.ChunkAck:
    data = chunk.file.read(drafts.MAX_CHUNK_BYTES + 1)
    request = drafts.ChunkRequest.of(draft_id=draft_id, seq=seq)
    return drafts.append_chunk(ctx, request, data)


@router.get("/{draft_id}/partial", summary="The transcript of what was received so far")
def partial(draft_id: str, ctx: ContextDep) -> drafts.Partial:
    return drafts.partial(ctx, _ref(draft_id))


@router.post(
    "/{draft_id}/finish",
    status_code=202,
    summary="The audio is complete: queue its transcription (a job)",
)
def finish(draft_id: str, ctx: ContextDep, runner: RunnerDep) -> jobs.JobView:
    return drafts.finish(ctx, _ref(draft_id), runner)


@router.post(
    "/{draft_id}/validate",
    summary="Validate the draft: the note enters the patient's record (ingested, audited)",
)
def validate(draft_id: str, ctx: ContextDep) -> drafts.ValidatedDraft:
    return drafts.validate_draft(ctx, _ref(draft_id))


@router.post("/{draft_id}/discard", summary="Discard the draft (its audio deleted)")
def discard(draft_id: str, ctx: ContextDep) -> drafts.DraftView:
    return drafts.discard(ctx, _ref(draft_id))

"""Dictation drafts kept on the server (issue 14, the web's dictation): create, receive the
audio (a whole file, or a live recording's chunks), transcribe as a job, review and edit,
validate into the warehouse, or discard.

The rules:

- a draft lives in the identified space only (``hopia_id.dictation_draft``, migration 15), its
  audio under ``<home>/dictation/drafts/<draft id>/`` (folders 0700, files 0600); nothing of it
  reaches the research space but the validated, pseudonymised note, through the ingest;
- a draft is its author's: anyone else reads it as unknown. Every call asks the access policy
  ``dictation.draft`` on the patient (``person:<id>``: a clinician's perimeter, asked again at
  each call, so a patient leaving the perimeter closes the draft too); the validation asks
  ``dictation.validate`` on the patient (:func:`hopia.services.dictation.validate_note`);
- every read and write of a draft is audited (``dictation.draft.*``, ``dictation.audio.*``,
  ``dictation.partial``), identifiers and counts only, in the transaction of the access;
- audio is checked by its content (:func:`hopia.services.dictation.audio_kind`), at most
  ``care.dictation.max_audio_bytes``; a live recording arrives as numbered chunks, each stored
  whole once (a chunk sent again is acknowledged, not stored twice), so what was received
  survives a lost connection; the first chunk is the one checked by content;
- the transcription runs as a job (kind ``dictation.transcribe``: about 30 s for a minute of
  audio on 2 cores); its result names the draft, which then holds the transcript and the note;
- every edit (a section's text, a fact added, deleted or recoded) is kept in the draft's
  ``edits`` and goes into the provenance at validation;
- the audio is deleted at validation or discard, unless ``care.dictation.audio_retention_days``
  keeps it that many days (removed by the next listing of drafts after that).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field

from hopia.platform import audit
from hopia.platform.exceptions import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    SourceError,
)
from hopia.platform.files import private_dir, private_file
from hopia.platform.times import UtcDatetime
from hopia.platform.warehouse import schema
from hopia.services.context import Context, Request

if TYPE_CHECKING:
    from hopia.care.dictation.reformulate import Reformulation

DRAFT_ID = r"^[0-9a-f]{32}$"
ACTION = "dictation.draft"
#: Largest live chunk (bytes): a MediaRecorder timeslice of a few seconds is a few kilobytes.
MAX_CHUNK_BYTES = 512 * 1024
_COPY = 1024 * 1024
Status = Literal["draft", "validated", "discarded"]
FactKind = Literal["condition", "drug", "measurement"]
_SYSTEMS = {"condition": "cim10", "drug": "atc", "measurement": "loinc"}
_MEDIA_TYPES = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "webm": "audio/webm",
    "m4a": "audio/mp4",
    "flac": "audio/flac",
}
# One partial transcription at a time per draft (a second request waits for the first's result).
_PARTIAL_LOCKS: dict[str, threading.Lock] = {}
_PARTIAL_GUARD = threading.Lock()
#: A live dictation's tail is heard again at each partial request; once it is longer than this
#: (seconds), its segments but the last are committed and not heard again.
PARTIAL_TAIL_S = 6.0


# -- requests -------------------------------------------------------------------------------------


class CreateDraft(Request):
    ipp: str = Field(min_length=1, max_length=schema.IPP_MAX)
    template: str = Field("crh", max_length=40)
    stay: int | None = Field(None, ge=1)
    """The stay (``visit_occurrence_id`` of the patient's stays), when one is chosen."""


class DraftRef(Request):
    draft_id: str = Field(pattern=DRAFT_ID)


class ChunkRequest(Request):
    draft_id: str = Field(pattern=DRAFT_ID)
    seq: int = Field(ge=0, le=100_000)


class ListDrafts(Request):
    status: Status | None = "draft"
    limit: int = Field(50, ge=1, le=500)


class FactEdit(BaseModel):
    """One change to the facts: ``id`` names an existing fact (``delete``, or new ``codes`` /
    qualifiers); without ``id``, a fact added by the clinician (``text`` and ``kind`` with its
    code)."""

    model_config = {"extra": "forbid"}
    id: str | None = Field(None, max_length=20)
    delete: bool = False
    text: str | None = Field(None, min_length=1, max_length=500)
    kind: FactKind | None = None
    code: str | None = Field(None, min_length=1, max_length=20)
    negation: bool | None = None
    hypothesis: bool | None = None


class UpdateDraft(Request):
    draft_id: str = Field(pattern=DRAFT_ID)
    sections: dict[str, str] = Field(default_factory=dict, max_length=60)
    """Section title → its new text (the whole section)."""
    facts: list[FactEdit] = Field(default_factory=list, max_length=200)
    stay: int | None = Field(None, ge=1)


# -- results --------------------------------------------------------------------------------------


class AudioInfo(BaseModel):
    kind: str | None
    bytes: int | None
    sha256: str | None
    available: bool
    chunks: int


class DraftView(BaseModel):
    id: str
    status: Status
    ipp: str
    person_id: int
    stay: int | None
    template: str
    template_title: str
    transcript: str | None
    sections: dict[str, str]
    facts: list[dict[str, Any]]
    segments: list[tuple[float, float, str]]
    asr: dict[str, Any]
    audio: AudioInfo
    job_id: str | None
    edits: int
    dictation_id: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    validated_at: UtcDatetime | None = None


class DraftSummary(BaseModel):
    id: str
    status: Status
    ipp: str
    person_id: int
    template: str
    template_title: str
    transcribed: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime


class ChunkAck(BaseModel):
    draft_id: str
    seq: int
    duplicate: bool
    """The chunk was already stored (a re-send after a lost answer): nothing written again."""
    received: int
    """Chunks received without a gap from the first: what a transcription would hear."""
    bytes: int


class Partial(BaseModel):
    draft_id: str
    text: str
    chunks: int
    seconds: float
    """Seconds of audio heard."""
    compute_s: float
    """Seconds this partial transcription took."""


class ValidatedDraft(BaseModel):
    draft: DraftView
    dictation_id: str
    note_id: int | None
    run_id: int | None


class AudioFile(BaseModel):
    path: Path
    media_type: str
    size: int


# -- helpers --------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def drafts_root(ctx: Context) -> Path:
    return Path(ctx.settings.home) / "dictation" / "drafts"


def _folder(ctx: Context, draft_id: str) -> Path:
    return drafts_root(ctx) / draft_id


def _table() -> sa.Table:
    return schema.dictation_draft


def _row(conn: sa.Connection, ctx: Context, draft_id: str) -> Any:
    """The caller's draft (someone else's reads as unknown), the policy asked on its patient."""
    t = _table()
    row = conn.execute(sa.select(t).where(t.c.draft_id == draft_id)).first()
    if row is None or row.author != ctx.principal.user:
        raise NotFoundError(f"brouillon de dictée inconnu : {draft_id}", fields=("draft_id",))
    ctx.authorize(ACTION, f"person:{row.person_id}")
    return row


def _open(ctx: Context, draft_id: str) -> Any:
    with ctx.warehouse().engine.connect() as conn:
        return _row(conn, ctx, draft_id)


def _editable(row: Any) -> None:
    if row.status != "draft":
        state = "validé" if row.status == "validated" else "abandonné"
        raise ConflictError(
            f"ce brouillon est déjà {state} : il ne peut plus changer", fields=("draft_id",)
        )


def _note(row: Any) -> dict[str, Any]:
    return json.loads(row.note) if row.note else {}


def _view(row: Any) -> DraftView:
    from hopia.care.dictation.structure import TEMPLATES

    note = _note(row)
    tpl = TEMPLATES.get(row.template)
    audio_ok = bool(row.audio_path) and Path(row.audio_path).is_file()
    return DraftView(
        id=row.draft_id,
        status=row.status,
        ipp=row.ipp,
        person_id=row.person_id,
        stay=row.visit_occurrence_id,
        template=row.template,
        template_title=tpl.title if tpl else row.template,
        transcript=row.transcript,
        sections=note.get("sections", {}),
        facts=[f for f in note.get("facts", []) if not f.get("deleted")],
        segments=[tuple(s) for s in note.get("segments", [])],
        asr={
            k: v
            for k, v in {
                "model": row.asr_model,
                "version": row.asr_version,
                "rtf": row.asr_rtf,
                **{k: note.get("asr", {}).get(k) for k in ("duration", "format")},
            }.items()
            if v is not None
        },
        audio=AudioInfo(
            kind=row.audio_kind,
            bytes=row.audio_bytes,
            sha256=row.audio_sha256,
            available=audio_ok,
            chunks=row.chunks,
        ),
        job_id=row.job_id,
        edits=len(json.loads(row.edits or "[]")),
        dictation_id=row.dictation_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        validated_at=row.validated_at,
    )


def _record(conn: sa.Connection, ctx: Context, action: str, row: Any, **details: Any) -> None:
    audit.record(
        conn,
        ctx.actor,
        action,
        f"person:{row.person_id}",
        None,
        {"draft_id": row.draft_id, **details},
    )


def _reread(conn: sa.Connection, draft_id: str) -> Any:
    t = _table()
    return conn.execute(sa.select(t).where(t.c.draft_id == draft_id)).one()


# -- create, list, read ---------------------------------------------------------------------------


def create_draft(ctx: Context, request: CreateDraft) -> DraftView:
    """A new, empty draft for a patient of the caller's perimeter (and one of their stays)."""
    from hopia.care.dictation.structure import template
    from hopia.services.dictation import patient_resource

    tpl = template(request.template)
    ipp = request.ipp.strip()
    if not ipp:
        raise InvalidRequestError("identifiant de patient (IPP) vide", fields=("ipp",))
    resource, person = patient_resource(ctx, ipp)
    ctx.authorize(ACTION, resource)  # an unknown IPP is no perimeter's: refused as outside
    if person is None:
        raise NotFoundError(f"patient inconnu : IPP {ipp}", fields=("ipp",))
    ctx.audit_key()
    draft_id = uuid.uuid4().hex
    now = _now()
    with ctx.warehouse().begin() as conn:
        if request.stay is not None:
            _check_stay(conn, person, request.stay)
        conn.execute(
            _table()
            .insert()
            .values(
                draft_id=draft_id,
                author=ctx.principal.user,
                ipp=ipp,
                person_id=person,
                visit_occurrence_id=request.stay,
                template=tpl.name,
                status="draft",
                edits="[]",
                chunks=0,
                created_at=now,
                updated_at=now,
            )
        )
        row = _reread(conn, draft_id)
        _record(conn, ctx, "dictation.draft.create", row, template=tpl.name, stay=request.stay)
    private_dir(_folder(ctx, draft_id))
    return _view(row)


def _check_stay(conn: sa.Connection, person: int, stay: int) -> None:
    v = schema.CDM["visit_occurrence"]
    found = conn.execute(
        sa.select(v.c.visit_occurrence_id).where(
            v.c.visit_occurrence_id == stay, v.c.person_id == person
        )
    ).first()
    if found is None:
        raise InvalidRequestError("ce séjour n'est pas un séjour de ce patient", fields=("stay",))


def list_drafts(ctx: Context, request: ListDrafts | None = None) -> list[DraftSummary]:
    """The caller's own drafts, newest first (``status`` None: all of them). Audio kept past
    its retention is removed first."""
    from hopia.care.dictation.structure import TEMPLATES

    request = request or ListDrafts()
    ctx.authorize(ACTION, "perimeter")
    purge_expired_audio(ctx)
    t = _table()
    query = sa.select(t).where(t.c.author == ctx.principal.user)
    if request.status is not None:
        query = query.where(t.c.status == request.status)
    query = query.order_by(t.c.updated_at.desc(), t.c.draft_id).limit(request.limit)
    with ctx.warehouse().begin(reads_first=True) as conn:
        rows = list(conn.execute(query))
        audit.record(
            conn,
            ctx.actor,
            "dictation.draft.list",
            "perimeter",
            None,
            {"drafts": len(rows), "status": request.status},
        )
    return [
        DraftSummary(
            id=r.draft_id,
            status=r.status,
            ipp=r.ipp,
            person_id=r.person_id,
            template=r.template,
            template_title=TEMPLATES[r.template].title if r.template in TEMPLATES else r.template,
            transcribed=r.transcript is not None,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]


def get_draft(ctx: Context, request: DraftRef) -> DraftView:
    """The draft (audited ``dictation.draft.view``)."""
    with ctx.warehouse().begin(reads_first=True) as conn:
        row = _row(conn, ctx, request.draft_id)
        _record(conn, ctx, "dictation.draft.view", row, status=row.status)
    return _view(row)


# -- audio ----------------------------------------------------------------------------------------


def _max_bytes(ctx: Context) -> int:
    return ctx.settings.care.dictation.max_audio_bytes


def _write_limited(data: BinaryIO | bytes, target: Path, limit: int, what: str) -> int:
    """``data`` into ``target`` (0600), refused past ``limit`` bytes (nothing kept)."""
    size = 0
    try:
        with target.open("wb") as out:
            private_file(target)
            if isinstance(data, bytes):
                size = len(data)
                if size > limit:
                    raise _too_large(what, size, limit)
                out.write(data)
            else:
                while block := data.read(_COPY):
                    size += len(block)
                    if size > limit:
                        raise _too_large(what, size, limit)
                    out.write(block)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return size


def _too_large(what: str, size: int, limit: int) -> InvalidRequestError:
    return InvalidRequestError(
        f"{what} trop volumineux (plus de {limit} octets ; au-delà de {size} octets reçus)",
        fields=("audio",),
    )


def _kind_of(path: Path) -> str | None:
    from hopia.services.dictation import audio_kind

    with path.open("rb") as fh:
        return audio_kind(fh.read(16))


def _not_audio(name: str) -> InvalidRequestError:
    from hopia.services.dictation import _AUDIO_KINDS

    return InvalidRequestError(
        f"{name} : ce n'est pas un fichier audio reconnu ({', '.join(_AUDIO_KINDS)}) ; "
        "le contenu est vérifié, pas le nom",
        fields=("audio",),
    )


def _sha256(path: Path) -> str:
    from hopia.platform.files import sha256_file

    return sha256_file(path)


def store_audio(
    ctx: Context, request: DraftRef, data: BinaryIO | bytes, filename: str = "audio"
) -> DraftView:
    """A whole audio file for the draft (wav, mp3, ogg, webm, m4a, flac: checked by content),
    replacing what it had; the transcription is asked apart (:func:`finish`)."""
    row = _open(ctx, request.draft_id)
    _editable(row)
    ctx.audit_key()
    folder = private_dir(_folder(ctx, row.draft_id))
    tmp = folder / f".upload-{uuid.uuid4().hex}"
    size = _write_limited(data, tmp, _max_bytes(ctx), "fichier audio")
    shown = Path(filename).name or "audio"
    if size == 0:
        tmp.unlink(missing_ok=True)
        raise InvalidRequestError(f"{shown} : fichier audio vide", fields=("audio",))
    kind = _kind_of(tmp)
    if kind is None:
        tmp.unlink(missing_ok=True)
        raise _not_audio(shown)
    digest = _sha256(tmp)
    _clear_audio(folder, keep=tmp)
    target = folder / f"audio.{kind}"
    tmp.replace(target)
    with ctx.warehouse().begin() as conn:
        _row(conn, ctx, row.draft_id)
        conn.execute(
            _table()
            .update()
            .where(_table().c.draft_id == row.draft_id)
            .values(
                audio_path=str(target),
                audio_sha256=digest,
                audio_kind=kind,
                audio_bytes=size,
                chunks=0,
                updated_at=_now(),
            )
        )
        updated = _reread(conn, row.draft_id)
        _record(conn, ctx, "dictation.audio.upload", updated, bytes=size, kind=kind, sha256=digest)
    return _view(updated)


def _clear_audio(folder: Path, keep: Path | None = None) -> None:
    """Every audio file of a draft's folder (chunks, assembled audio, partial state), but
    ``keep``."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path == keep:
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _chunks_dir(folder: Path) -> Path:
    return folder / "chunks"


def _chunk_path(folder: Path, seq: int) -> Path:
    return _chunks_dir(folder) / f"{seq:06d}.part"


def _contiguous(folder: Path) -> list[Path]:
    """The chunks received without a gap from the first."""
    out = []
    seq = 0
    while (path := _chunk_path(folder, seq)).is_file():
        out.append(path)
        seq += 1
    return out


def append_chunk(ctx: Context, request: ChunkRequest, data: bytes) -> ChunkAck:
    """One numbered chunk of a live recording. Idempotent: the same chunk sent again is
    acknowledged without being written again (another content under a number already received
    is a conflict). Each chunk is stored whole as it arrives, so a lost connection loses
    nothing received."""
    row = _open(ctx, request.draft_id)
    _editable(row)
    if row.audio_path and row.chunks == 0:
        raise ConflictError(
            "un fichier audio a déjà été déposé pour ce brouillon : créez-en un autre pour "
            "enregistrer en direct",
            fields=("draft_id",),
        )
    if not data:
        raise InvalidRequestError("morceau d'enregistrement vide", fields=("chunk",))
    if len(data) > MAX_CHUNK_BYTES:
        raise InvalidRequestError(
            f"morceau d'enregistrement trop volumineux ({len(data)} octets, au plus "
            f"{MAX_CHUNK_BYTES})",
            fields=("chunk",),
        )
    folder = private_dir(_folder(ctx, row.draft_id))
    chunks = private_dir(_chunks_dir(folder))
    target = _chunk_path(folder, request.seq)
    digest = hashlib.sha256(data).hexdigest()
    duplicate = False
    if target.is_file():
        if hashlib.sha256(target.read_bytes()).hexdigest() != digest:
            raise ConflictError(
                f"le morceau n° {request.seq} a déjà été reçu avec un autre contenu",
                fields=("seq",),
            )
        duplicate = True
    else:
        if request.seq == 0:
            from hopia.services.dictation import audio_kind

            if audio_kind(data[:16]) is None:
                raise _not_audio("enregistrement")
        total = sum(p.stat().st_size for p in chunks.iterdir() if p.suffix == ".part")
        if total + len(data) > _max_bytes(ctx):
            raise _too_large("enregistrement", total + len(data), _max_bytes(ctx))
        tmp = chunks / f".{request.seq:06d}-{uuid.uuid4().hex}"
        _write_limited(data, tmp, MAX_CHUNK_BYTES, "morceau d'enregistrement")
        try:
            os.link(tmp, target)  # never over a chunk already there
        except FileExistsError:
            duplicate = True  # the same chunk sent twice at once: the first one stored it
        finally:
            tmp.unlink(missing_ok=True)
    received = _contiguous(folder)
    size = sum(p.stat().st_size for p in received)
    first = received[0] if received else None
    kind = _kind_of(first) if first is not None else None
    with ctx.warehouse().begin() as conn:
        _row(conn, ctx, row.draft_id)
        conn.execute(
            _table()
            .update()
            .where(_table().c.draft_id == row.draft_id)
            .values(chunks=len(received), audio_kind=kind, audio_bytes=size, updated_at=_now())
        )
        _record(
            conn,
            ctx,
            "dictation.audio.chunk",
            row,
            seq=request.seq,
            bytes=len(data),
            duplicate=duplicate,
        )
    return ChunkAck(
        draft_id=row.draft_id,
        seq=request.seq,
        duplicate=duplicate,
        received=len(received),
        bytes=size,
    )


def _assemble(folder: Path, kind: str) -> Path:
    """The contiguous chunks as one audio file (a recording's chunks, concatenated, are the
    recording)."""
    target = folder / f"audio.{kind}"
    tmp = folder / f".assemble-{uuid.uuid4().hex}"
    with tmp.open("wb") as out:
        private_file(tmp)
        for part in _contiguous(folder):
            out.write(part.read_bytes())
    tmp.replace(target)
    return target


def partial(ctx: Context, request: DraftRef) -> Partial:
    """The transcript of what was received so far of a live recording, for the page to show
    while the clinician speaks (audited ``dictation.partial``). Only the tail since the last
    committed segment is heard again (:data:`PARTIAL_TAIL_S`), with a beam of 1, one
    decoding pass, no vocabulary prompt and no word alignment
    (:meth:`~hopia.care.dictation.asr.Transcriber.transcribe_samples`, ``quick``), so each
    call costs about the same whatever the recording's length."""
    import time

    from hopia.care.dictation.asr import SAMPLE_RATE, decode
    from hopia.services.dictation import transcriber

    started = time.perf_counter()
    row = _open(ctx, request.draft_id)
    _editable(row)
    ctx.audit_key()
    folder = _folder(ctx, row.draft_id)
    parts = _contiguous(folder)
    with _PARTIAL_GUARD:
        lock = _PARTIAL_LOCKS.setdefault(row.draft_id, threading.Lock())
    with lock:
        state_path = folder / "partial.json"
        state = {"chunks": 0, "until": 0.0, "words": [], "tail": []}
        if state_path.is_file():
            with contextlib.suppress(ValueError, OSError):
                state = json.loads(state_path.read_text("utf-8"))
        if parts and len(parts) != state["chunks"]:
            kind = row.audio_kind or "webm"
            current = folder / f".partial.{kind}"
            with current.open("wb") as out:
                private_file(current)
                for part in parts:
                    out.write(part.read_bytes())
            try:
                samples = decode(current)
            except SourceError as exc:  # its message names a server path: not for the page
                raise InvalidRequestError(
                    f"l'enregistrement reçu est illisible ({exc.reason})", fields=("chunk",)
                ) from None
            finally:
                current.unlink(missing_ok=True)
            seconds = len(samples) / SAMPLE_RATE
            until = float(state["until"])
            tail = samples[int(until * SAMPLE_RATE) :]
            if len(tail) < SAMPLE_RATE // 2:  # under half a second of new audio: nothing yet
                return _partial_result(ctx, row, parts, state, started)
            heard = transcriber(ctx).transcribe_samples(tail, offset=until, beam_size=1, quick=True)
            tail_words = [[w.text, w.start, w.end] for w in heard.words]
            if seconds - until > PARTIAL_TAIL_S and len(heard.segments) >= 2:
                cut = heard.segments[-2][1]  # the end of the segment before the last
                state["words"] += [w for w in tail_words if w[2] <= cut]
                tail_words = [w for w in tail_words if w[2] > cut]
                state["until"] = cut
            state["tail"] = tail_words
            state["chunks"] = len(parts)
            state["seconds"] = seconds
            tmp = folder / ".partial.json.tmp"
            tmp.write_text(json.dumps(state), "utf-8")
            private_file(tmp)
            tmp.replace(state_path)
    return _partial_result(ctx, row, parts, state, started)


def _partial_result(
    ctx: Context, row: Any, parts: list[Path], state: dict[str, Any], started: float
) -> Partial:
    import time

    from hopia.care.dictation.conventions import Word, apply_conventions

    words = [Word(t, s, e) for t, s, e in state["words"] + state["tail"]]
    text = apply_conventions(words).text if words else ""
    with ctx.warehouse().begin() as conn:
        _record(conn, ctx, "dictation.partial", row, chunks=len(parts), words=len(words))
    return Partial(
        draft_id=row.draft_id,
        text=text,
        chunks=len(parts),
        seconds=round(float(state.get("seconds", 0.0)), 2),
        compute_s=round(time.perf_counter() - started, 3),
    )


def finish(ctx: Context, request: DraftRef, runner: Any = None) -> Any:
    """The draft's audio is complete: its transcription is queued as a job (kind
    ``dictation.transcribe``), whose view is returned; the draft names the job."""
    from hopia.services import jobs

    row = _open(ctx, request.draft_id)
    _editable(row)
    folder = _folder(ctx, row.draft_id)
    path, size, digest, kind = row.audio_path, row.audio_bytes, row.audio_sha256, row.audio_kind
    if row.chunks:
        kind = kind or "webm"
        assembled = _assemble(folder, kind)
        path, size, digest = str(assembled), assembled.stat().st_size, _sha256(assembled)
    if not path or not Path(path).is_file():
        raise InvalidRequestError(
            "aucun audio reçu pour ce brouillon : enregistrez ou déposez un fichier d'abord",
            fields=("audio",),
        )
    job = jobs.submit(
        ctx,
        jobs.JobRequest.of(
            kind="dictation.transcribe",
            parameters={"draft_id": row.draft_id, "person_id": row.person_id},
        ),
        runner,
    )
    with ctx.warehouse().begin() as conn:
        _row(conn, ctx, row.draft_id)
        conn.execute(
            _table()
            .update()
            .where(_table().c.draft_id == row.draft_id)
            .values(
                audio_path=path,
                audio_bytes=size,
                audio_sha256=digest,
                audio_kind=kind,
                job_id=job.id,
                updated_at=_now(),
            )
        )
        _record(conn, ctx, "dictation.draft.finish", row, job_id=job.id, bytes=size)
    return job


def transcribe_draft(ctx: Context, draft_id: str) -> dict[str, Any]:
    """The job's work: the draft's audio → transcript, sections and coded facts (through
    :func:`hopia.services.dictation.transcribe`, audited ``dictation.transcribe``), written to
    the draft. The result names the draft (no text)."""
    from hopia.services import dictation

    t = _table()
    with ctx.warehouse().engine.connect() as conn:
        row = conn.execute(sa.select(t).where(t.c.draft_id == draft_id)).first()
    if row is None or row.author != ctx.principal.user:
        raise NotFoundError(f"brouillon de dictée inconnu : {draft_id}", fields=("draft_id",))
    _editable(row)
    if not row.audio_path:
        raise InvalidRequestError("aucun audio reçu pour ce brouillon", fields=("audio",))
    try:
        draft = dictation.transcribe(
            ctx,
            dictation.TranscribeRequest.of(
                audio=Path(row.audio_path), template=row.template, patient=row.ipp
            ),
        )
    except SourceError as exc:  # its message names a server path: the reason is enough
        raise InvalidRequestError(f"audio du brouillon : {exc.reason}", fields=("audio",)) from None
    return store_transcription(ctx, draft_id, draft)


def store_transcription(ctx: Context, draft_id: str, draft: Any) -> dict[str, Any]:
    """Write a :class:`hopia.services.dictation.DraftNote` into the draft (its facts numbered
    ``f1``, ``f2``… for the edits to name them); the job's result."""
    t = _table()
    facts = [{"id": f"f{k}", **fact} for k, fact in enumerate(draft.facts, start=1)]
    note = {
        "sections": draft.sections,
        "facts": facts,
        "segments": [list(s) for s in draft.segments],
        "asr": draft.asr,
    }
    with ctx.warehouse().begin() as conn:
        current = conn.execute(sa.select(t).where(t.c.draft_id == draft_id)).one()
        _editable(current)  # validated or discarded while it ran: nothing written
        edits = json.loads(current.edits or "[]")
        if edits:  # a new transcription replaces the corrected note: the provenance says so
            edits.append({"op": "transcription", "at": _now().isoformat() + "Z"})
        conn.execute(
            t.update()
            .where(t.c.draft_id == draft_id)
            .values(
                transcript=draft.transcript,
                note=json.dumps(note, ensure_ascii=False),
                edits=json.dumps(edits, ensure_ascii=False),
                asr_model=str(draft.asr.get("model", "")),
                asr_version=str(draft.asr.get("version", "")),
                asr_rtf=draft.asr.get("rtf"),
                updated_at=_now(),
            )
        )
    return {
        "draft_id": draft_id,
        "facts": len(facts),
        "sections": len(draft.sections),
        "seconds_of_audio": draft.asr.get("duration"),
        "rtf": draft.asr.get("rtf"),
    }


def audio_file(ctx: Context, request: DraftRef) -> AudioFile:
    """The draft's audio, for its author to listen to (audited ``dictation.audio.listen``)."""
    with ctx.warehouse().begin(reads_first=True) as conn:
        row = _row(conn, ctx, request.draft_id)
        path = Path(row.audio_path) if row.audio_path else None
        if path is None or not path.is_file():
            raise NotFoundError("aucun audio conservé pour ce brouillon", fields=("audio",))
        _record(conn, ctx, "dictation.audio.listen", row)
    return AudioFile(
        path=path,
        media_type=_MEDIA_TYPES.get(row.audio_kind or "", "application/octet-stream"),
        size=path.stat().st_size,
    )


# -- review ---------------------------------------------------------------------------------------


def update_draft(ctx: Context, request: UpdateDraft) -> DraftView:
    """The clinician's corrections: sections' text, facts deleted, recoded or added, the stay.
    Every change is appended to the draft's edits (what, where, when; lengths and codes, the
    text itself stays in the sections)."""
    row = _open(ctx, request.draft_id)
    _editable(row)
    if row.transcript is None and (request.sections or request.facts):
        raise ConflictError(
            "ce brouillon n'est pas encore transcrit : rien à corriger", fields=("draft_id",)
        )
    note = _note(row)
    sections: dict[str, str] = dict(note.get("sections", {}))
    facts: list[dict[str, Any]] = list(note.get("facts", []))
    edits: list[dict[str, Any]] = json.loads(row.edits or "[]")
    at = _now().isoformat() + "Z"
    for title, text in request.sections.items():
        if len(text) > 100_000:
            raise InvalidRequestError(
                f"section « {title} » trop longue", fields=(f"sections.{title}",)
            )
        before = sections.get(title)
        if before is None and title not in _template_titles(row.template):
            raise InvalidRequestError(
                f"section inconnue de ce brouillon : « {title} »", fields=("sections",)
            )
        if before == text:
            continue
        sections[title] = text
        edits.append(
            {
                "op": "section",
                "section": title,
                "at": at,
                "chars_before": len(before or ""),
                "chars_after": len(text),
            }
        )
    by_id = {f["id"]: f for f in facts if "id" in f}
    for k, edit in enumerate(request.facts):
        if edit.id is None:
            facts.append(_added_fact(edit, k, len(facts), row.transcript or "", sections))
            edits.append(
                {
                    "op": "fact_add",
                    "fact": facts[-1]["id"],
                    "at": at,
                    "codes": facts[-1]["codes"],
                }
            )
            continue
        fact = by_id.get(edit.id)
        if fact is None or fact.get("deleted"):
            raise InvalidRequestError(f"fait inconnu : {edit.id}", fields=(f"facts.{k}.id",))
        if edit.delete:
            fact["deleted"] = True
            edits.append({"op": "fact_delete", "fact": edit.id, "at": at, "codes": fact["codes"]})
            continue
        change: dict[str, Any] = {}
        if edit.code is not None:
            system = _SYSTEMS.get(edit.kind or fact.get("kind", ""), next(iter(fact["codes"]), ""))
            new_codes = {system: edit.code.strip().upper()}
            if new_codes != fact["codes"]:
                change["codes_before"], change["codes"] = fact["codes"], new_codes
                fact["codes"] = new_codes
                fact["edited"] = True
        for name in ("negation", "hypothesis"):
            value = getattr(edit, name)
            if value is not None and value != fact.get(name):
                change[name] = value
                fact[name] = value
                fact["edited"] = True
        if change:
            edits.append({"op": "fact_edit", "fact": edit.id, "at": at, **change})
    stay = row.visit_occurrence_id
    with ctx.warehouse().begin() as conn:
        _row(conn, ctx, row.draft_id)
        if request.stay is not None and request.stay != stay:
            _check_stay(conn, row.person_id, request.stay)
            edits.append({"op": "stay", "at": at, "stay": request.stay})
            stay = request.stay
        note["sections"], note["facts"] = sections, facts
        conn.execute(
            _table()
            .update()
            .where(_table().c.draft_id == row.draft_id)
            .values(
                note=json.dumps(note, ensure_ascii=False),
                edits=json.dumps(edits, ensure_ascii=False),
                visit_occurrence_id=stay,
                updated_at=_now(),
            )
        )
        updated = _reread(conn, row.draft_id)
        _record(
            conn,
            ctx,
            "dictation.draft.update",
            updated,
            sections=len(request.sections),
            facts=len(request.facts),
            edits=len(edits),
        )
    return _view(updated)


def reformulate_draft(
    ctx: Context, request: DraftRef, generate: Any
) -> tuple[DraftView, Reformulation]:
    """The draft's sections put into written form by the language model
    (:mod:`hopia.services.dictation_reformulate`): the sections whose proposal holds exactly
    the dictated facts are saved as the clinician's corrections would be (recorded in the
    edits, ``by: model``); the others stay as they are, with the reason. ``generate`` None: no
    model is configured, nothing changes."""
    from hopia.services import dictation_reformulate as reform

    draft = get_draft(ctx, request)
    _editable(_open(ctx, request.draft_id))
    if draft.transcript is None:
        raise ConflictError(
            "ce brouillon n'est pas encore transcrit : rien à mettre en forme",
            fields=("draft_id",),
        )
    sections = {t: x for t, x in draft.sections.items() if x.strip()}
    if not sections:
        raise InvalidRequestError("aucune section dictée à mettre en forme", fields=("sections",))
    result = reform.reformulate(
        ctx, reform.ReformulateRequest.of(sections=sections, person_id=draft.person_id), generate
    )
    kept = {s.title: s.text for s in result.sections if s.accepted and s.text != s.dictated}
    if not kept:
        return draft, result
    view = update_draft(ctx, UpdateDraft.of(draft_id=request.draft_id, sections=kept))
    with ctx.warehouse().begin() as conn:  # the edits say which sections the model wrote
        row = _row(conn, ctx, request.draft_id)
        edits = json.loads(row.edits or "[]")
        for edit in edits[-len(kept) :]:
            if edit.get("op") == "section" and edit.get("section") in kept:
                edit["by"] = "model"
                edit["model"] = result.model
                edit["prompt_version"] = result.prompt_version
        conn.execute(
            _table()
            .update()
            .where(_table().c.draft_id == request.draft_id)
            .values(edits=json.dumps(edits, ensure_ascii=False))
        )
    return view, result


def _template_titles(name: str) -> set[str]:
    from hopia.care.dictation.structure import TEMPLATES

    tpl = TEMPLATES.get(name)
    return {title for _, title in tpl.sections} if tpl else set()


def _added_fact(
    edit: FactEdit, k: int, count: int, transcript: str, sections: dict[str, str]
) -> dict[str, Any]:
    if not edit.text or not edit.kind or not edit.code:
        raise InvalidRequestError(
            "un fait ajouté demande son texte, son type et son code",
            fields=(f"facts.{k}.text", f"facts.{k}.kind", f"facts.{k}.code"),
        )
    start = transcript.find(edit.text)
    return {
        "id": f"a{count + 1}",
        "label": "ajout",
        "text": edit.text,
        "start": start if start >= 0 else None,
        "end": start + len(edit.text) if start >= 0 else None,
        "codes": {_SYSTEMS[edit.kind]: edit.code.strip().upper()},
        "negation": bool(edit.negation),
        "hypothesis": bool(edit.hypothesis),
        "family": False,
        "history": False,
        "kind": edit.kind,
        "section": None,
        "audio_start": None,
        "audio_end": None,
        "attributes": {},
        "added": True,
        "said": start >= 0 or any(edit.text in body for body in sections.values()),
    }


def note_text(view: DraftView) -> str:
    """The text a validation ingests: each section under its title, in the note's order."""
    return "\n".join(f"{title} : {body.strip()}" for title, body in view.sections.items() if body)


# -- validate, discard ----------------------------------------------------------------------------


def validate_draft(ctx: Context, request: DraftRef) -> ValidatedDraft:
    """The clinician validates the reviewed draft: its sections become the note ingested into
    the warehouse (:func:`hopia.services.dictation.validate_note`, ``dictation.validate`` asked
    on the patient), with the draft's edits in the provenance; the note is attached to the
    draft's stay; the audio is deleted unless the retention keeps it."""
    from hopia.services.dictation import NoteToValidate, validate_note

    row = _open(ctx, request.draft_id)
    _editable(row)
    if row.transcript is None:
        raise ConflictError(
            "ce brouillon n'est pas encore transcrit : rien à valider", fields=("draft_id",)
        )
    view = _view(row)
    edits = json.loads(row.edits or "[]")
    note = NoteToValidate(
        ipp=row.ipp,
        template=row.template,
        transcript=row.transcript,
        text=note_text(view),
        author=ctx.actor,
        asr={"model": row.asr_model or "", "version": row.asr_version or ""},
        audio_sha256=row.audio_sha256 or "",
        draft_facts=len(view.facts),
        extra_edits={
            "draft_id": row.draft_id,
            "stay": row.visit_occurrence_id,
            "edits": edits,
            "edit_count": len(edits),
            "facts_added": sum(e["op"] == "fact_add" for e in edits),
            "facts_deleted": sum(e["op"] == "fact_delete" for e in edits),
            "facts_recoded": sum(e["op"] == "fact_edit" for e in edits),
            "sections_edited": len({e["section"] for e in edits if e["op"] == "section"}),
        },
    )
    done = validate_note(ctx, note)
    now = _now()
    keep = ctx.settings.care.dictation.audio_retention_days > 0
    with ctx.warehouse().begin() as conn:
        if row.visit_occurrence_id is not None and done.note_id is not None:
            n = schema.CDM["note"]
            conn.execute(
                n.update()
                .where(n.c.note_id == done.note_id)
                .values(visit_occurrence_id=row.visit_occurrence_id)
            )
        conn.execute(
            _table()
            .update()
            .where(_table().c.draft_id == row.draft_id)
            .values(
                status="validated",
                dictation_id=done.dictation_id,
                validated_at=now,
                updated_at=now,
                audio_deleted_at=None if keep else now,
            )
        )
        updated = _reread(conn, row.draft_id)
    if not keep:
        _clear_audio(_folder(ctx, row.draft_id))
    return ValidatedDraft(
        draft=_view(updated),
        dictation_id=done.dictation_id,
        note_id=done.note_id,
        run_id=done.run_id,
    )


def discard(ctx: Context, request: DraftRef) -> DraftView:
    """The clinician drops the draft: nothing enters the record; the audio is deleted unless
    the retention keeps it (audited ``dictation.draft.discard``)."""
    row = _open(ctx, request.draft_id)
    _editable(row)
    keep = ctx.settings.care.dictation.audio_retention_days > 0
    now = _now()
    with ctx.warehouse().begin() as conn:
        _row(conn, ctx, row.draft_id)
        conn.execute(
            _table()
            .update()
            .where(_table().c.draft_id == row.draft_id)
            .values(status="discarded", updated_at=now, audio_deleted_at=None if keep else now)
        )
        updated = _reread(conn, row.draft_id)
        _record(conn, ctx, "dictation.draft.discard", updated, audio_kept=keep)
    if not keep:
        _clear_audio(_folder(ctx, row.draft_id))
    return _view(updated)


def purge_expired_audio(ctx: Context) -> int:
    """Remove the audio of validated or discarded drafts older than the retention (every
    author's: it is housekeeping, audited ``dictation.audio.purge`` with the count)."""
    days = ctx.settings.care.dictation.audio_retention_days
    t = _table()
    limit = _now() - timedelta(days=days)
    with ctx.warehouse().engine.connect() as conn:
        expired = list(
            conn.execute(
                sa.select(t.c.draft_id).where(
                    t.c.status != "draft",
                    t.c.audio_deleted_at.is_(None),
                    t.c.updated_at <= limit,
                )
            ).scalars()
        )
    if not expired:
        return 0
    now = _now()
    with ctx.warehouse().begin() as conn:
        conn.execute(t.update().where(t.c.draft_id.in_(expired)).values(audio_deleted_at=now))
        audit.record(
            conn,
            ctx.actor,
            "dictation.audio.purge",
            "dictation",
            None,
            {"drafts": len(expired), "retention_days": days},
        )
    for draft_id in expired:
        _clear_audio(_folder(ctx, draft_id))
    return len(expired)

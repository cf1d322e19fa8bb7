"""Voice dictation (axis 2): an audio file → a draft note the clinician validates.

``transcribe`` checks the audio by its content, recognises it offline (:mod:`hopia.care
.dictation.asr`, the packaged Whisper base or the hospital's model), applies the French
dictation conventions, fills the chosen template and finds the coded facts with Hopia's NLP,
each fact keeping its characters and its seconds of audio. Nothing is written to the warehouse:
the draft is the clinician's until validated. One ``dictation.transcribe`` audit record per
draft (who, which template, which patient when one is named, the audio's sha256, the model; no
text).

The JSON written by ``hopia dictation transcribe --output`` is a stable contract
(:meth:`DraftNote.to_json`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from hopia.platform import audit
from hopia.platform.exceptions import InvalidRequestError, SourceError
from hopia.platform.files import sha256_file
from hopia.services.context import Context, Request

if TYPE_CHECKING:
    from hopia.care.dictation.asr import Transcriber
    from hopia.care.dictation.structure import Template

#: Largest audio file accepted (bytes): about 2 hours of 16-bit mono WAV at 16 kHz.
MAX_AUDIO_BYTES = 256 * 1024 * 1024

_AUDIO_KINDS = ("wav", "mp3", "ogg", "webm", "m4a", "flac")


def audio_kind(head: bytes) -> str | None:
    """The audio container named by a file's first bytes, or None: checked by content, never
    by the file's extension."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"  # Matroska / WebM (MediaRecorder's default in Chromium and Firefox)
    if head[4:8] == b"ftyp":
        return "m4a"  # ISO base media (m4a, mp4 audio; Safari's MediaRecorder)
    if head[:4] == b"fLaC":
        return "flac"
    return None


class TranscribeRequest(Request):
    audio: Path
    template: str = "crh"
    patient: str | None = Field(None, max_length=64)  # the patient's IPP, when one is named


@dataclass(frozen=True)
class DraftNote:
    """A dictation turned into a draft note: not in the record until a clinician validates it."""

    transcript: str
    template: str
    template_title: str
    sections: dict[str, str]
    facts: list[dict[str, Any]]
    asr: dict[str, Any]
    patient: str | None = None
    audio_sha256: str = ""
    audit_id: int | None = None
    segments: list[tuple[float, float, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``hopia dictation transcribe`` contract: ``transcript``, ``template``,
        ``sections`` (title → text), ``facts`` (label, text, start, end, codes, negation,
        hypothesis, audio_start, audio_end, and more), ``asr`` (model, version, rtf, …)."""
        return {
            "transcript": self.transcript,
            "template": self.template,
            "template_title": self.template_title,
            "sections": dict(self.sections),
            "facts": list(self.facts),
            "asr": dict(self.asr),
            "patient": self.patient,
            "audio_sha256": self.audio_sha256,
        }


_TRANSCRIBERS: dict[tuple[str, int, int, bool], Transcriber] = {}
_LOCK = threading.Lock()


def transcriber(ctx: Context) -> Transcriber:
    """The process-wide recogniser of the settings (loaded once: a model takes seconds)."""
    from hopia.care.dictation.asr import PACKAGED_NAME, Transcriber
    from hopia.care.dictation.vocabulary import hint

    settings = ctx.settings.care.dictation
    model_dir = prepare(ctx)
    key = (str(model_dir), settings.threads, settings.beam_size, settings.vocabulary_hint)
    with _LOCK:
        if key not in _TRANSCRIBERS:
            _TRANSCRIBERS[key] = Transcriber(
                Path(model_dir),
                threads=settings.threads,
                beam_size=settings.beam_size,
                hint=hint() if settings.vocabulary_hint else None,
                name=PACKAGED_NAME if settings.asr_model is None else Path(model_dir).name,
            )
        return _TRANSCRIBERS[key]


def templates() -> list[Template]:
    """The note templates a dictation can fill."""
    from hopia.care.dictation.structure import TEMPLATES

    return list(TEMPLATES.values())


def requirements() -> list[str]:
    """The pinned packages of the packaged Whisper base (``make asr`` installs them)."""
    from hopia.care.dictation.asr import requirements as asr_requirements

    return asr_requirements()


def prepare(ctx: Context) -> Path:
    """The recogniser's model folder: the hospital's (``care.dictation.asr_model``) or the
    packaged Whisper base, assembled once into the cache and sha256-checked."""
    from hopia.care.dictation.asr import packaged_model_dir

    configured = ctx.settings.care.dictation.asr_model
    if configured is not None:
        if not (configured / "model.bin").is_file():
            raise InvalidRequestError(
                f"{configured} : aucun modèle Whisper CTranslate2 (model.bin absent)",
                fields=("model",),
            )
        return configured
    return packaged_model_dir(ctx.settings.cache_dir)


def check_audio(path: Path) -> str:
    """The audio kind of ``path``, or a French :class:`SourceError` naming the file."""
    if not path.is_file():
        raise SourceError(path, "fichier audio introuvable")
    size = path.stat().st_size
    if size == 0:
        raise SourceError(path, "fichier audio vide")
    if size > MAX_AUDIO_BYTES:
        raise SourceError(
            path, f"fichier audio trop volumineux ({size} octets, au plus {MAX_AUDIO_BYTES})"
        )
    with path.open("rb") as fh:
        kind = audio_kind(fh.read(16))
    if kind is None:
        raise SourceError(
            path, f"ce n'est pas un fichier audio reconnu ({', '.join(_AUDIO_KINDS)})"
        )
    return kind


def transcribe(ctx: Context, request: TranscribeRequest) -> DraftNote:
    """The draft note of a dictated audio file (nothing is written but the audit record)."""
    from hopia.care.dictation.conventions import apply_conventions
    from hopia.care.dictation.structure import structure, template
    from hopia.data.nlp import extract_with_errors
    from hopia.services.nlp import pipeline

    tpl = template(request.template)
    if request.patient is not None and not request.patient.strip():
        raise InvalidRequestError("identifiant de patient vide", fields=("patient",))
    resource = f"ipp:{request.patient}" if request.patient else "dictation"
    ctx.authorize("dictation.transcribe", resource)
    kind = check_audio(request.audio)
    ctx.audit_key()  # the draft is audited: a missing key must stop us before the minutes of work
    digest = sha256_file(request.audio)
    recogniser = transcriber(ctx)
    heard = recogniser.transcribe(request.audio)
    dictated = apply_conventions(heard.words)
    found = next(iter(extract_with_errors([dictated.text], nlp=pipeline(ctx), batch_size=1)))
    note = structure(dictated, tpl, found.entities)
    asr = {
        "model": heard.model,
        "version": _faster_whisper_version(),
        "rtf": round(heard.rtf, 3),
        "duration": round(heard.duration, 2),
        "seconds": round(heard.seconds, 2),
        "format": kind,
        "dropped_loop_words": heard.dropped_loops,
        "nlp_errors": [e.to_json() for e in found.errors],
    }
    with ctx.warehouse().begin() as conn:
        entry = audit.record(
            conn,
            ctx.actor,
            "dictation.transcribe",
            resource,
            None,
            {
                "template": tpl.name,
                "audio_sha256": digest,
                "model": heard.model,
                "seconds_of_audio": round(heard.duration, 1),
                "facts": len(note.facts),
            },
        )
    return DraftNote(
        transcript=note.text,
        template=tpl.name,
        template_title=tpl.title,
        sections=note.sections,
        facts=[f.to_json() for f in note.facts],
        asr=asr,
        patient=request.patient,
        audio_sha256=digest,
        audit_id=entry.audit_id,
        segments=heard.segments,
    )


def _faster_whisper_version() -> str:
    import importlib.metadata

    return f"faster-whisper {importlib.metadata.version('faster-whisper')}"

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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from hopia.platform import audit
from hopia.platform.exceptions import InvalidRequestError, ModelError, SourceError
from hopia.platform.files import sha256_file
from hopia.services.context import Context, Request

if TYPE_CHECKING:
    from hopia.care.dictation.asr import Transcriber
    from hopia.care.dictation.conventions import Word
    from hopia.care.dictation.structure import StructuredNote, Template

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


def _structured(ctx: Context, words: list[Word], tpl: Template) -> tuple[StructuredNote, list[Any]]:
    """Conventions, then Hopia's NLP, then the template: the note and the NLP's pipe errors."""
    from hopia.care.dictation.conventions import apply_conventions
    from hopia.care.dictation.structure import structure
    from hopia.data.nlp import extract_with_errors
    from hopia.services.nlp import pipeline

    dictated = apply_conventions(words)
    found = next(iter(extract_with_errors([dictated.text], nlp=pipeline(ctx), batch_size=1)))
    return structure(dictated, tpl, found.entities), list(found.errors)


def transcribe(ctx: Context, request: TranscribeRequest) -> DraftNote:
    """The draft note of a dictated audio file (nothing is written but the audit record)."""
    from hopia.care.dictation.structure import template

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
    note, errors = _structured(ctx, heard.words, tpl)
    asr = {
        "model": heard.model,
        "version": _faster_whisper_version(),
        "rtf": round(heard.rtf, 3),
        "duration": round(heard.duration, 2),
        "seconds": round(heard.seconds, 2),
        "format": kind,
        "dropped_loop_words": heard.dropped_loops,
        "nlp_errors": [e.to_json() for e in errors],
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


# -- evaluation ----------------------------------------------------------------------------------


class EvaluateRequest(Request):
    sentences: Path | None = None  # spoken-form sentences, one per line (default: Hopia's set)
    recordings: Path | None = None  # a folder of real recordings, each with its .txt reference
    speeds: list[int] = Field(default_factory=lambda: [130, 170])  # espeak-ng words per minute
    noise_snr_db: float | None = Field(10.0, ge=-10, le=60)  # the first speed again, with noise
    limit: int | None = Field(None, ge=1)  # the first N sentences only
    json_out: Path | None = None


@dataclass(frozen=True)
class DictationEval:
    """Scores per condition (``espeak 130``, ``espeak 130 + bruit 10 dB``, ``enregistrements``)."""

    model: str
    hint: bool
    conditions: dict[str, dict[str, Any]]
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "vocabulary_hint": self.hint,
            "conditions": self.conditions,
            "errors": self.errors,
        }


def evaluate(
    ctx: Context,
    request: EvaluateRequest,
    *,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> DictationEval:
    """Word error rate and clinical recall (drugs, doses, conditions, labs) of the dictation on
    Hopia's sentences rendered by espeak-ng (at each speed, and with noise) and on a folder of
    real recordings (``name.wav`` + ``name.txt``, the text as it should read)."""
    import json
    import tempfile

    from hopia.care.dictation.conventions import Word
    from hopia.care.dictation.evaluate import SENTENCES, Tally, add_noise, fact_keys, speak
    from hopia.care.dictation.structure import template

    ctx.authorize("dictation.eval", "evaluation")
    source = request.sentences or SENTENCES
    if not source.is_file():
        raise InvalidRequestError(f"{source} : fichier introuvable", fields=("sentences",))
    sentences = [
        line.strip()
        for line in source.read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ][: request.limit]
    recordings: list[tuple[Path, Path]] = []
    if request.recordings is not None:
        if not request.recordings.is_dir():
            raise InvalidRequestError(
                f"{request.recordings} : dossier introuvable", fields=("recordings",)
            )
        for audio in sorted(request.recordings.iterdir()):
            reference = audio.with_suffix(".txt")
            if audio.suffix.lower() != ".txt" and reference.is_file():
                recordings.append((audio, reference))
    tpl = template("crh")
    recogniser = transcriber(ctx)
    conditions: dict[str, Tally] = {}
    errors: list[str] = []

    def score(name: str, audio: Path, reference: str) -> None:
        try:
            check_audio(audio)
            heard = recogniser.transcribe(audio)
        except (SourceError, ModelError) as exc:
            errors.append(str(exc))
            return
        ref_note, _ = _structured(ctx, [Word(w, 0.0, 0.0) for w in reference.split()], tpl)
        hyp_note, _ = _structured(ctx, heard.words, tpl)
        conditions.setdefault(name, Tally()).add(
            ref_note.text,
            hyp_note.text,
            fact_keys(f.to_json() for f in ref_note.facts),
            fact_keys(f.to_json() for f in hyp_note.facts),
            audio_seconds=heard.duration,
            asr_seconds=heard.seconds,
        )

    variants = [(f"espeak {v} mots/min", v, None) for v in request.speeds]
    if request.noise_snr_db is not None and request.speeds:
        variants.append(
            (
                f"espeak {request.speeds[0]} mots/min + bruit {request.noise_snr_db:g} dB",
                request.speeds[0],
                request.noise_snr_db,
            )
        )
    with tempfile.TemporaryDirectory(prefix="hopia-dictation-") as tmp:
        for name, speed, snr in variants:
            for k, sentence in enumerate(sentences):
                wav = speak(sentence, Path(tmp) / f"{k}-{speed}.wav", speed=speed)
                if snr is not None:
                    wav = add_noise(wav, Path(tmp) / f"{k}-{speed}-noise.wav", snr_db=snr, seed=k)
                score(name, wav, sentence)
                if on_progress is not None:
                    on_progress(name, k + 1, len(sentences))
    for k, (audio, reference) in enumerate(recordings):
        score("enregistrements", audio, reference.read_text("utf-8"))
        if on_progress is not None:
            on_progress("enregistrements", k + 1, len(recordings))
    result = DictationEval(
        model=recogniser.name,
        hint=recogniser.hint is not None,
        conditions={name: tally.scores() for name, tally in conditions.items()},
        errors=errors,
    )
    if request.json_out is not None:
        from hopia.platform.files import write_text_atomic

        text = json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n"
        write_text_atomic(request.json_out, text)
    return result


# -- validation ----------------------------------------------------------------------------------

#: LOINC document types of the templates (FHIR DocumentReference.type).
_DOCUMENT_TYPES = {
    "crh": ("18842-5", "Compte rendu d'hospitalisation"),
    "consultation": ("11488-4", "Compte rendu de consultation"),
    "operatoire": ("11504-8", "Compte rendu opératoire"),
    "ordonnance": ("57833-6", "Ordonnance"),
    "lettre_liaison": ("18842-5", "Lettre de liaison"),
}


class ValidateRequest(Request):
    draft: Path  # the JSON written by transcribe
    text: str | None = Field(None, max_length=1_000_000)  # the clinician's corrected text
    author: str = Field(min_length=1, max_length=100)


@dataclass(frozen=True)
class Validated:
    dictation_id: str
    document_path: Path
    run_id: int | None
    documents: int
    edited: bool
    note_id: int | None = None


@dataclass(frozen=True)
class NoteToValidate:
    """What a validation needs, whether the draft is a JSON file (the CLI) or a row kept on the
    server (:mod:`hopia.services.dictation_drafts`)."""

    ipp: str
    template: str
    transcript: str
    text: str
    author: str
    asr: dict[str, Any]
    audio_sha256: str
    draft_facts: int
    extra_edits: dict[str, Any] = field(default_factory=dict)


class _GrantedForValidation:
    """The policy the validation's ingest runs under: the caller was allowed
    ``dictation.validate`` on this patient (perimeter-scoped on the web); the ingest of that one
    note follows from it, whatever else their role may do (a clinician may not ingest files)."""

    def check(self, principal: Any, action: str, resource: str, conn: Any = None) -> None:
        from hopia.platform.exceptions import AccessDeniedError

        if action != "ingest.run":
            raise AccessDeniedError(
                f"action « {action} » hors de la validation d'une dictée",
                details={"action": action},
            )


def patient_resource(ctx: Context, ipp: str) -> tuple[str, int | None]:
    """The access policy's name of the patient of ``ipp``: ``person:<id>`` when the warehouse
    knows them (a perimeter rule can judge it), else ``ipp:<ipp>`` (no perimeter holds it)."""
    import sqlalchemy as sa

    from hopia.platform.warehouse import schema

    with ctx.warehouse().engine.connect() as conn:
        person = conn.execute(
            sa.select(schema.patient.c.person_id).where(schema.patient.c.ipp == ipp)
        ).scalar()
    return (f"person:{person}", int(person)) if person is not None else (f"ipp:{ipp}", None)


def validate(ctx: Context, request: ValidateRequest) -> Validated:
    """A clinician validates a draft: its (corrected) text becomes a FHIR DocumentReference of
    the patient, ingested through the normal pipeline (pseudonymisation, NLP, OMOP), and its
    provenance (author, audio sha256, recogniser, edits, time) is kept in
    ``hopia_id.dictation``. A draft is validated once."""
    import json

    try:
        draft = json.loads(request.draft.read_text("utf-8"))
        transcript, template_name = draft["transcript"], draft["template"]
        ipp, asr = draft.get("patient"), draft["asr"]
        audio_sha256 = draft.get("audio_sha256") or ""
    except FileNotFoundError:
        raise SourceError(request.draft, "brouillon introuvable") from None
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise SourceError(
            request.draft, f"ce n'est pas un brouillon de dictée ({type(exc).__name__})"
        ) from None
    if not ipp:
        raise InvalidRequestError(
            "ce brouillon n'est rattaché à aucun patient : dictez-le avec son IPP",
            fields=("patient",),
        )
    text = request.text if request.text is not None else transcript
    note = NoteToValidate(
        ipp=ipp,
        template=template_name,
        transcript=transcript,
        text=text,
        author=request.author,
        asr=asr,
        audio_sha256=audio_sha256,
        draft_facts=len(draft.get("facts") or []),
    )
    return validate_note(ctx, note)


def validate_note(ctx: Context, note: NoteToValidate) -> Validated:
    """The validation itself (see :func:`validate`): asks ``dictation.validate`` on the
    patient (``person:<id>``: a clinician's perimeter), ingests the note, records its
    provenance and the audit entry."""
    import base64
    import difflib
    import hashlib
    import json
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from hopia.data.sharing.export_fhir import SYSTEMS
    from hopia.platform.files import write_text_atomic
    from hopia.platform.warehouse import schema
    from hopia.services import ingest

    code, title = _DOCUMENT_TYPES.get(note.template, ("11506-3", "Note de suivi"))
    text = note.text
    if not text.strip():
        raise InvalidRequestError("le texte validé est vide", fields=("text",))
    resource, _ = patient_resource(ctx, note.ipp)
    ctx.authorize("dictation.validate", resource)
    ctx.secret(), ctx.vault_key(), ctx.audit_key()  # before anything is written
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    dictation_id = hashlib.sha256(
        json.dumps([note.ipp, note.audio_sha256, text], ensure_ascii=False).encode()
    ).hexdigest()
    with ctx.warehouse().engine.connect() as conn:
        known = conn.execute(
            sa.select(schema.dictation.c.validated_at).where(
                schema.dictation.c.dictation_id == dictation_id
            )
        ).first()
    if known is not None:
        raise InvalidRequestError(
            f"cette dictée a déjà été validée le {known.validated_at:%d/%m/%Y à %H:%M}",
            fields=("draft",),
        )
    transcript = note.transcript
    edits = {
        "text_changed": text != transcript,
        "similarity": round(difflib.SequenceMatcher(None, transcript, text).ratio(), 4),
        "draft_characters": len(transcript),
        "validated_characters": len(text),
        "draft_facts": note.draft_facts,
        **note.extra_edits,
    }
    resource_json = {
        "resourceType": "DocumentReference",
        "id": f"dictee-{dictation_id[:16]}",
        "masterIdentifier": {"system": "urn:hopia:dictation", "value": dictation_id},
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [{"system": SYSTEMS["LOINC"], "code": code, "display": title}]},
        "subject": {"identifier": {"system": "urn:hopia:ipp", "value": note.ipp}},
        "date": now.isoformat() + "Z",
        "author": [{"display": note.author}],
        "description": f"{title} dicté, validé par {note.author}",
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain; charset=utf-8",
                    "language": "fr",
                    "data": base64.b64encode(text.encode("utf-8")).decode("ascii"),
                    "title": title,
                }
            }
        ],
    }
    folder = ctx.settings.home / "dictation" / "validated"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{dictation_id}.json"
    write_text_atomic(path, json.dumps(resource_json, ensure_ascii=False, indent=1), private=True)
    ingesting = Context(
        ctx.settings,
        ctx.principal,
        policy=_GrantedForValidation(),
        _warehouse=ctx.warehouse(),
        _owns_warehouse=False,
        _migrated=True,
    )
    report = ingest.ingest(ingesting, ingest.IngestRequest.of(paths=(path,)))
    if report.errors:
        raise SourceError(path, "la note validée n'a pas pu être intégrée (voir hopia ingest)")
    with ctx.warehouse().begin() as conn:
        note_id = conn.execute(
            sa.select(schema.document.c.note_id).where(
                schema.document.c.external_id == dictation_id,
                schema.document.c.status == "done",
            )
        ).scalar()
        conn.execute(
            schema.dictation.insert().values(
                dictation_id=dictation_id,
                validated_at=now,
                author=note.author,
                ipp=note.ipp,
                template=note.template,
                audio_sha256=note.audio_sha256,
                asr_model=str(note.asr.get("model", "")),
                asr_version=str(note.asr.get("version", "")),
                edited=edits["text_changed"],
                edits=json.dumps(edits, ensure_ascii=False),
                run_id=report.run_id,
            )
        )
        audit.record(
            conn,
            ctx.actor,
            "dictation.validate",
            resource,
            None,
            {
                "dictation_id": dictation_id,
                "run_id": report.run_id,
                **{k: v for k, v in edits.items() if not isinstance(v, list | dict)},
            },
        )
    return Validated(
        dictation_id,
        path,
        report.run_id,
        report.added,
        edits["text_changed"],
        int(note_id) if note_id is not None else None,
    )

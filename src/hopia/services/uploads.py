"""Files handed over for an ingest job, stored safely before the job is submitted.

A front end (the web upload form, a script) stores each file with :func:`store_upload`, then
submits the ``ingest`` job under the same id (:func:`hopia.services.jobs.submit`). The rules:

- the access policy is asked first (``ingest.run``): only who may ingest may upload;
- files go under ``<home>/uploads/<job id>/documents/`` (a patient registry under
  ``…/patients/``, one per job), folders 0700 and files 0600, whatever the umask; the name is
  the uploaded one reduced to a plain file name (no folder, no hidden or control character);
- a file is checked by its content, not its name, with the ingest's own detection
  (:func:`hopia.data.ingest.readers.reader_for`): a format no reader handles, a binary file
  with a text name, an empty file is refused and nothing is kept; a file whose content names
  another format than its suffix gets that format's suffix (``notes.txt`` holding JSON Lines is
  kept as ``notes.txt.jsonl``); a registry must read whole as one (JSON Lines or CSV);
- a file is written whole or not at all (a temporary file, linked into place), never over
  another one;
- once its job succeeded without a bad document, the folder is removed (the documents are in
  the warehouse): copies of patient documents do not linger.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import unicodedata
import uuid
import zipfile
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import BaseModel, Field

from hopia.platform.config import Settings
from hopia.platform.exceptions import ConflictError, InvalidRequestError, SourceError
from hopia.platform.files import private_dir
from hopia.services.context import Context, Request

JOB_ID_PATTERN = r"^[0-9a-f]{32}$"
UploadRole = Literal["documents", "patients"]
_CHUNK = 1024 * 1024
_SNIFF_BYTES = 64 * 1024
_MAX_NAME_CHARS = 150
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


class UploadRequest(Request):
    filename: str = Field(min_length=1, max_length=1000)
    """The name the file was uploaded under (only its last part is kept)."""
    role: UploadRole = "documents"
    """``documents`` to ingest, or the ``patients`` registry loaded first."""
    job_id: str | None = Field(None, pattern=JOB_ID_PATTERN)
    """The job the file belongs to (given by the first upload); a new one when absent."""


class StoredUpload(BaseModel):
    job_id: str
    name: str
    """The stored file's name (what the ingest reports name)."""
    role: UploadRole
    format: str
    """The format its content was recognised as (``pdf``, ``jsonl``, ``registre``…)."""
    size: int


def new_job_id() -> str:
    return uuid.uuid4().hex


def uploads_root(settings: Settings) -> Path:
    return Path(settings.home) / "uploads"


def upload_dir(settings: Settings, job_id: str) -> Path:
    if not re.fullmatch(JOB_ID_PATTERN, job_id):
        raise InvalidRequestError(
            "identifiant de tâche invalide (32 caractères hexadécimaux)", fields=("job_id",)
        )
    return uploads_root(settings) / job_id


def store_upload(ctx: Context, request: UploadRequest, data: bytes | BinaryIO) -> StoredUpload:
    """Store one uploaded file for the ingest job ``request.job_id`` (a new id when None)."""
    ctx.authorize("ingest.run", "uploads")
    job_id = request.job_id or new_job_id()
    folder = upload_dir(ctx.settings, job_id)
    if request.job_id is not None and not folder.is_dir():
        raise InvalidRequestError(
            "aucun dépôt en cours sous cet identifiant de tâche", fields=("job_id",)
        )
    name = safe_name(request.filename)
    target = private_dir(
        private_dir(private_dir(uploads_root(ctx.settings)) / job_id) / request.role
    )
    if request.role == "patients" and any(target.iterdir()):
        raise ConflictError(
            "un registre des patients est déjà déposé pour cette tâche (un seul par tâche)",
            fields=("role",),
        )
    limit = ctx.settings.jobs.max_upload_bytes
    tmp = target / f".{uuid.uuid4().hex}.part{Path(name).suffix.lower()}"
    try:
        size = _write(tmp, data, limit, request.filename)
        fmt, name = _checked(tmp, name, request.role, request.filename)
        stored = _link_unique(tmp, target, name)
    except BaseException:
        if request.job_id is None:  # the upload this file began: nothing of it is left
            remove_upload(ctx.settings, job_id)
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return StoredUpload(job_id=job_id, name=stored.name, role=request.role, format=fmt, size=size)


def safe_name(filename: str) -> str:
    """A plain file name from an uploaded one: its last part, without control characters,
    separators or a leading dot (hidden files are not ingested), at most 150 characters
    (the suffix kept)."""
    last = re.split(r"[/\\]", unicodedata.normalize("NFC", filename))[-1]
    cleaned = _UNSAFE.sub("_", last).strip().lstrip(".").strip()
    if not cleaned or cleaned.startswith("~$"):
        cleaned = f"document{Path(cleaned).suffix}" if cleaned else "document"
    if len(cleaned) > _MAX_NAME_CHARS:
        suffix = Path(cleaned).suffix[:20]
        cleaned = cleaned[: _MAX_NAME_CHARS - len(suffix)] + suffix
    return cleaned


def remove_upload(settings: Settings, job_id: str) -> None:
    """Delete the job's uploaded files (once they are in the warehouse)."""
    shutil.rmtree(upload_dir(settings, job_id), ignore_errors=True)


def _write(tmp: Path, data: bytes | BinaryIO, limit: int, shown: str) -> int:
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    size = 0
    with os.fdopen(fd, "wb") as out:
        chunks = (
            [data] if isinstance(data, bytes | bytearray) else iter(lambda: data.read(_CHUNK), b"")
        )
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise InvalidRequestError(
                    f"{safe_name(shown)} : fichier trop volumineux (limite {limit} octets : "
                    "réglage jobs.max_upload_bytes)",
                    fields=("file",),
                )
            out.write(chunk)
    if size == 0:
        raise InvalidRequestError(f"{safe_name(shown)} : fichier vide", fields=("file",))
    return size


def _checked(tmp: Path, name: str, role: UploadRole, shown: str) -> tuple[str, str]:
    """The format of the file's content and the name to keep it under; a refusal when no
    reader (or, for a registry, the registry reader) accepts the content."""
    from hopia.data.ingest.readers import reader_for
    from hopia.data.records.patients import read_patients

    try:
        if role == "patients":
            if tmp.suffix not in (".csv", ".jsonl"):
                raise SourceError(tmp, "registre attendu en JSON Lines (.jsonl) ou CSV (.csv)")
            for _ in read_patients(tmp):  # whole: a bad record refuses the file now
                pass
            return "registre", name
        reader = reader_for(tmp)
    except SourceError as exc:
        raise InvalidRequestError(
            f"{safe_name(shown)} : fichier refusé ({_reason(exc, tmp)})", fields=("file",)
        ) from None
    problem = _content_problem(tmp, reader.format)
    if problem is not None:
        raise InvalidRequestError(
            f"{safe_name(shown)} : fichier refusé ({problem})", fields=("file",)
        )
    suffixes = tuple(s.lower() for s in reader.suffixes)
    if suffixes and Path(name).suffix.lower() not in suffixes:
        name = f"{name}{suffixes[0]}"  # the content decides: the suffix follows
    return reader.format, name


_TEXT_FORMATS = ("text", "jsonl", "hl7v2", "fhir")
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _content_problem(path: Path, fmt: str) -> str | None:
    """What the reader's choice leaves unchecked, cheaply: the reader of a text format is
    chosen by the suffix when the content says nothing, and the Word reader by the suffix of
    any ZIP. Reading the whole file (OCR, PDF text) is the ingest's work."""
    if fmt in _TEXT_FORMATS:
        with path.open("rb") as stream:
            head = stream.read(_SNIFF_BYTES)
        if b"\x00" in head and not head.startswith(_WIDE_BOMS):
            return "contenu binaire sous un nom de fichier texte"
    if fmt == "docx":
        try:
            with zipfile.ZipFile(path) as archive:
                if "word/document.xml" in archive.namelist():
                    return None
        except (zipfile.BadZipFile, OSError):
            pass
        return "pas un document Word : archive ZIP corrompue ou d'un autre type"
    return None


def _reason(exc: SourceError, tmp: Path) -> str:
    """The reader's reason without the temporary file's name (a record's place kept)."""
    where = exc.path.replace(str(tmp), "").lstrip("#")
    return f"{exc.reason} ({where})" if where else exc.reason


def _link_unique(tmp: Path, folder: Path, name: str) -> Path:
    stem, suffix = _split(name)
    for n in range(1, 1000):
        candidate = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
        try:
            os.link(tmp, candidate)  # never over an existing file
        except FileExistsError:
            continue
        return candidate
    raise ConflictError(f"{name} : trop de fichiers du même nom pour cette tâche", fields=("file",))


def _split(name: str) -> tuple[str, str]:
    path = Path(name)
    return (path.stem, path.suffix) if path.suffix else (name, "")

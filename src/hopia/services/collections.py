"""Knowledge collections: create, list those one may read, add and remove documents, share,
search; the passage a citation opens.

A collection belongs to a user or to a group (a role: every data steward, every clinician…)
and is readable by its owner and by the users and groups it is shared with; only its owner (or
a member of the owning group) adds, removes and shares. A collection one may not read answers
as unknown (``NotFoundError``, 404 on the web), as another user's job does: its name tells
nothing. The policy is asked first (``collection.read`` / ``collection.write``), the owner and
shares next. Collections hold reference documents (protocols, procedures, course material),
not patient records; every change is audited (ids, names and counts), searches too (the
collections and the number of passages, never the question's text, which may name a patient).
The local operator (CLI) reads and manages every collection of the installation.

Metadata live in the warehouse (``hopia_meta.collection``, ``collection_share``,
``collection_document``, migration 10); passages and vectors in the collection's index under
``<home>/knowledge/<collection_id>/`` (:mod:`hopia.assistant.knowledge.index`)."""

from __future__ import annotations

import secrets
import shutil
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field
from sqlalchemy import Connection, and_, insert, select
from sqlalchemy import delete as delete_rows

from hopia.platform import audit
from hopia.platform.exceptions import (
    AccessDeniedError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
)
from hopia.platform.warehouse import schema as s
from hopia.services.context import Context, Request

if TYPE_CHECKING:
    from hopia.assistant.knowledge.index import Hit, KnowledgeIndex

NAME_PATTERN = r"^[a-z0-9][a-z0-9_\-]{0,79}$"
FOLDER = "knowledge"
OPERATOR = "operator"  # the CLI's local operator (Principal.local)
Kind = Literal["user", "group"]


class CreateRequest(Request):
    name: str = Field(pattern=NAME_PATTERN)
    title: str = Field("", max_length=200)
    group: str | None = Field(None, min_length=1, max_length=100)
    """Owned by this group (one of the creator's roles) instead of the creator."""


class NamedRequest(Request):
    collection: str = Field(pattern=NAME_PATTERN)


class AddRequest(NamedRequest):
    filename: str = Field(min_length=1, max_length=255)


class RemoveRequest(NamedRequest):
    document_id: str = Field(pattern=r"^[0-9a-f]{16}$")


class ShareRequest(NamedRequest):
    user: str | None = Field(None, min_length=1, max_length=100)
    group: str | None = Field(None, min_length=1, max_length=100)


class SearchRequest(Request):
    collections: list[str] = Field(min_length=1, max_length=20)
    query: str = Field(min_length=1, max_length=2000)
    k: int = Field(5, ge=1, le=50)
    mode: Literal["hybrid", "bm25", "dense"] | None = None


class PassageRequest(NamedRequest):
    document_id: str = Field(pattern=r"^[0-9a-f]{16}$")
    start: int = Field(ge=0)
    end: int = Field(ge=0)


@dataclass(frozen=True)
class Grantee:
    kind: Kind
    name: str


@dataclass(frozen=True)
class CollectionInfo:
    id: str
    name: str
    title: str
    owner_kind: Kind
    owner: str
    created_by: str
    created_at: datetime
    shared_with: tuple[Grantee, ...]
    documents: int
    manageable: bool
    """Whether the caller may add, remove and share (owner or member of the owning group)."""


@dataclass(frozen=True)
class DocumentInfo:
    id: str
    name: str
    sha256: str
    format: str
    chars: int
    passages: int
    added_by: str
    added_at: datetime


@dataclass(frozen=True)
class AddedDocument:
    collection: str
    document: DocumentInfo
    status: Literal["added", "replaced", "unchanged"]
    audit_id: int | None


@dataclass(frozen=True)
class Passage:
    collection: str
    document_id: str
    document: str
    start: int
    end: int
    section: str
    page: int | None
    text: str
    score: float
    similarity: float


@dataclass(frozen=True)
class SearchResult:
    passages: list[Passage]
    audit_id: int


@dataclass(frozen=True)
class SourcePassage:
    """A document's text and the passage ``[start, end)`` a citation points at."""

    collection: str
    document_id: str
    document: str
    text: str
    start: int
    end: int


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# -- who may do what --------------------------------------------------------------------------


def _is_operator(ctx: Context) -> bool:
    return OPERATOR in ctx.principal.roles


def _shares(conn: Connection, collection_id: str) -> tuple[Grantee, ...]:
    t = s.collection_share
    rows = conn.execute(
        select(t.c.grantee_kind, t.c.grantee)
        .where(t.c.collection_id == collection_id)
        .order_by(t.c.grantee_kind, t.c.grantee)
    )
    return tuple(Grantee(r.grantee_kind, r.grantee) for r in rows)


def _owns(ctx: Context, row) -> bool:  # noqa: ANN001 - a row of hopia_meta.collection
    if _is_operator(ctx):
        return True
    if row.owner_kind == "user":
        return row.owner == ctx.principal.user
    return row.owner in ctx.principal.roles


def _reads(ctx: Context, row, shares: tuple[Grantee, ...]) -> bool:  # noqa: ANN001
    if _owns(ctx, row):
        return True
    return any(
        (g.kind == "user" and g.name == ctx.principal.user)
        or (g.kind == "group" and g.name in ctx.principal.roles)
        for g in shares
    )


def _unknown(name: str) -> NotFoundError:
    return NotFoundError(f"collection « {name} » introuvable", fields=("collection",))


def _row(conn: Connection, ctx: Context, name: str, *, manage: bool = False):  # noqa: ANN202
    """The collection ``name`` if the caller may read it (and manage it, with ``manage``)."""
    row = conn.execute(select(s.collection).where(s.collection.c.name == name)).first()
    if row is None or not _reads(ctx, row, _shares(conn, row.collection_id)):
        raise _unknown(name)
    if manage and not _owns(ctx, row):
        error = AccessDeniedError(
            f"seul le propriétaire de la collection « {name} » peut la modifier ou la partager",
            details={"action": "collection.write"},
        )
        ctx.audit_refusal("collection.write", f"collection:{name}", error)
        raise error
    return row


def _documents(conn: Connection, collection_id: str) -> list[DocumentInfo]:
    t = s.collection_document
    rows = conn.execute(
        select(t).where(t.c.collection_id == collection_id).order_by(t.c.name)
    ).all()
    return [
        DocumentInfo(
            r.document_id, r.name, r.sha256, r.format, r.chars, r.passages, r.added_by, r.added_at
        )
        for r in rows
    ]


def _info(ctx: Context, conn: Connection, row) -> CollectionInfo:  # noqa: ANN001
    shares = _shares(conn, row.collection_id)
    return CollectionInfo(
        row.collection_id,
        row.name,
        row.title,
        row.owner_kind,
        row.owner,
        row.created_by,
        row.created_at,
        shares,
        len(_documents(conn, row.collection_id)),
        _owns(ctx, row),
    )


# -- the index of a collection ----------------------------------------------------------------

_INDEXES: dict[tuple[Path, str], KnowledgeIndex] = {}
_INDEXES_LOCK = threading.Lock()


def index_of(ctx: Context, collection_id: str) -> KnowledgeIndex:
    """The collection's index, one per process and folder (it keeps the passages in memory
    between searches; it reloads when the documents change)."""
    from hopia.assistant.knowledge.index import KnowledgeIndex

    knowledge = ctx.settings.assistant.knowledge
    folder = Path(ctx.settings.home) / FOLDER / collection_id
    key = (folder.resolve(), knowledge.embedder)
    with _INDEXES_LOCK:
        if key not in _INDEXES:
            _INDEXES[key] = KnowledgeIndex(folder, knowledge.embedder, knowledge.threads)
        return _INDEXES[key]


# -- operations -------------------------------------------------------------------------------


def create(ctx: Context, request: CreateRequest) -> CollectionInfo:
    kind: Kind = "group" if request.group else "user"
    owner = request.group or ctx.principal.user
    target = f"collection:{request.name}"
    ctx.authorize("collection.write", target)
    if request.group and request.group not in ctx.principal.roles and not _is_operator(ctx):
        raise InvalidRequestError(
            f"vous n'êtes pas membre du groupe « {request.group} »", fields=("group",)
        )
    wh = ctx.warehouse()
    with wh.begin() as conn:
        exists = conn.execute(
            select(s.collection.c.collection_id).where(s.collection.c.name == request.name)
        ).first()
        if exists is not None:
            raise ConflictError(
                f"une collection nommée « {request.name} » existe déjà", fields=("name",)
            )
        values = {
            "collection_id": secrets.token_hex(8),
            "name": request.name,
            "title": request.title or request.name,
            "owner_kind": kind,
            "owner": owner,
            "created_by": ctx.actor,
            "created_at": _now(),
        }
        conn.execute(insert(s.collection).values(**values))
        audit.record(
            conn,
            ctx.actor,
            "collection.create",
            target,
            None,
            {"collection_id": values["collection_id"], "owner_kind": kind, "owner": owner},
        )
        row = conn.execute(
            select(s.collection).where(s.collection.c.collection_id == values["collection_id"])
        ).one()
        return _info(ctx, conn, row)


def list_visible(ctx: Context) -> list[CollectionInfo]:
    """The collections the caller may read, by name."""
    ctx.authorize("collection.read", "collections")
    wh = ctx.warehouse()
    with wh.engine.connect() as conn:
        rows = conn.execute(select(s.collection).order_by(s.collection.c.name)).all()
        return [_info(ctx, conn, r) for r in rows if _reads(ctx, r, _shares(conn, r.collection_id))]


def get(ctx: Context, request: NamedRequest) -> tuple[CollectionInfo, list[DocumentInfo]]:
    ctx.authorize("collection.read", f"collection:{request.collection}")
    with ctx.warehouse().engine.connect() as conn:
        row = _row(conn, ctx, request.collection)
        return _info(ctx, conn, row), _documents(conn, row.collection_id)


def add_document(ctx: Context, request: AddRequest, data: bytes) -> AddedDocument:
    """Read, cut and index one document (a file of the same name is replaced; the same file
    again changes nothing and is not audited)."""
    from hopia.assistant.knowledge.reading import format_of

    target = f"collection:{request.collection}"
    ctx.authorize("collection.write", target)
    knowledge = ctx.settings.assistant.knowledge
    if len(data) > knowledge.max_document_bytes:
        raise InvalidRequestError(
            f"document trop volumineux ({len(data)} octets, limite {knowledge.max_document_bytes})",
            fields=("file",),
        )
    name = Path(request.filename).name  # a name, never a path of the client
    format_of(name)  # an unsupported format is refused before anything else
    wh = ctx.warehouse()
    with wh.engine.connect() as conn:
        row = _row(conn, ctx, request.collection, manage=True)
    outcome = index_of(ctx, row.collection_id).add(
        name, data, size=knowledge.chunk_size, overlap=knowledge.chunk_overlap
    )
    d = outcome.document
    t = s.collection_document
    with wh.begin() as conn:
        stored = conn.execute(
            select(t).where(and_(t.c.collection_id == row.collection_id, t.c.document_id == d.id))
        ).first()
        if outcome.status == "unchanged" and stored is not None:
            return AddedDocument(
                request.collection, _documents_one(conn, row, d.id), "unchanged", None
            )
        conn.execute(
            delete_rows(t).where(
                and_(t.c.collection_id == row.collection_id, t.c.document_id == d.id)
            )
        )
        conn.execute(
            insert(t).values(
                collection_id=row.collection_id,
                document_id=d.id,
                name=d.name,
                sha256=d.sha256,
                format=d.format,
                chars=d.chars,
                passages=d.passages,
                added_by=ctx.actor,
                added_at=_now(),
            )
        )
        status = "replaced" if stored is not None else "added"
        entry = audit.record(
            conn,
            ctx.actor,
            "collection.add",
            target,
            None,
            {"document_id": d.id, "sha256": d.sha256, "passages": d.passages, "status": status},
        )
        return AddedDocument(
            request.collection, _documents_one(conn, row, d.id), status, entry.audit_id
        )


ADD_FOLDER = "collection"  # the document a collection_add job reads, under its upload folder


def check_add(ctx: Context, request: AddRequest, data: bytes) -> str:
    """What :func:`add_document` checks before reading anything, without adding: the policy's
    ``collection.write``, the size, the format, and that the caller manages the collection (a
    stranger's answers unknown, a reader's 403). Returns the document's file name."""
    from hopia.assistant.knowledge.reading import format_of

    ctx.authorize("collection.write", f"collection:{request.collection}")
    knowledge = ctx.settings.assistant.knowledge
    if not data:
        raise InvalidRequestError("document vide", fields=("file",))
    if len(data) > knowledge.max_document_bytes:
        raise InvalidRequestError(
            f"document trop volumineux ({len(data)} octets, limite {knowledge.max_document_bytes})",
            fields=("file",),
        )
    name = Path(request.filename).name
    format_of(name)
    with ctx.warehouse().engine.connect() as conn:
        _row(conn, ctx, request.collection, manage=True)
    return name


def _documents_one(conn: Connection, row, document_id: str) -> DocumentInfo:  # noqa: ANN001
    return next(d for d in _documents(conn, row.collection_id) if d.id == document_id)


def remove_document(ctx: Context, request: RemoveRequest) -> DocumentInfo:
    target = f"collection:{request.collection}"
    ctx.authorize("collection.write", target)
    wh = ctx.warehouse()
    t = s.collection_document
    with wh.begin() as conn:
        row = _row(conn, ctx, request.collection, manage=True)
        where = and_(t.c.collection_id == row.collection_id, t.c.document_id == request.document_id)
        found = [d for d in _documents(conn, row.collection_id) if d.id == request.document_id]
        if not found:
            raise NotFoundError(
                f"document {request.document_id} absent de la collection", fields=("document_id",)
            )
        conn.execute(delete_rows(t).where(where))
        audit.record(
            conn,
            ctx.actor,
            "collection.remove",
            target,
            None,
            {"document_id": request.document_id, "sha256": found[0].sha256},
        )
        index_of(ctx, row.collection_id).remove(request.document_id)
    return found[0]


@dataclass(frozen=True)
class DeletedCollection:
    name: str
    documents: int
    audit_id: int


def delete(ctx: Context, request: NamedRequest) -> DeletedCollection:
    """Delete a collection: its rows, shares and index folder (owner only), audited with the
    hashes of the documents it held."""
    target = f"collection:{request.collection}"
    ctx.authorize("collection.write", target)
    wh = ctx.warehouse()
    with wh.begin() as conn:
        row = _row(conn, ctx, request.collection, manage=True)
        documents = _documents(conn, row.collection_id)
        cid = row.collection_id
        conn.execute(
            delete_rows(s.collection_document).where(s.collection_document.c.collection_id == cid)
        )
        conn.execute(
            delete_rows(s.collection_share).where(s.collection_share.c.collection_id == cid)
        )
        conn.execute(delete_rows(s.collection).where(s.collection.c.collection_id == cid))
        entry = audit.record(
            conn,
            ctx.actor,
            "collection.delete",
            target,
            None,
            {"collection_id": cid, "documents": [d.sha256 for d in documents]},
        )
    folder = Path(ctx.settings.home) / FOLDER / cid
    with _INDEXES_LOCK:
        for key in [k for k in _INDEXES if k[0] == folder.resolve()]:
            del _INDEXES[key]
    shutil.rmtree(folder, ignore_errors=True)  # after the commit: the rows are the truth
    return DeletedCollection(request.collection, len(documents), entry.audit_id)


def share(ctx: Context, request: ShareRequest, *, revoke: bool = False) -> CollectionInfo:
    """Share the collection with a user or a group (``revoke``: stop sharing)."""
    if (request.user is None) == (request.group is None):
        raise InvalidRequestError("indiquez un utilisateur ou un groupe", fields=("user", "group"))
    target = f"collection:{request.collection}"
    ctx.authorize("collection.write", target)
    kind: Kind = "user" if request.user else "group"
    name = request.user or request.group or ""
    wh = ctx.warehouse()
    t = s.collection_share
    with wh.begin() as conn:
        row = _row(conn, ctx, request.collection, manage=True)
        where = and_(
            t.c.collection_id == row.collection_id, t.c.grantee_kind == kind, t.c.grantee == name
        )
        conn.execute(delete_rows(t).where(where))
        if not revoke:
            conn.execute(
                insert(t).values(
                    collection_id=row.collection_id,
                    grantee_kind=kind,
                    grantee=name,
                    granted_by=ctx.actor,
                    granted_at=_now(),
                )
            )
        audit.record(
            conn,
            ctx.actor,
            "collection.unshare" if revoke else "collection.share",
            target,
            None,
            {"grantee_kind": kind, "grantee": name},
        )
        return _info(ctx, conn, row)


def _readable(ctx: Context, names: list[str]) -> list:
    with ctx.warehouse().engine.connect() as conn:
        return [_row(conn, ctx, n) for n in dict.fromkeys(names)]


def retrieve(ctx: Context, request: SearchRequest) -> list[tuple[str, Hit]]:
    """The best passages of the collections named, merged by score, with their collection;
    the caller audits (``search`` and the ask service do)."""
    for name in request.collections:
        ctx.authorize("collection.read", f"collection:{name}")
    rows = _readable(ctx, request.collections)
    mode = request.mode or ctx.settings.assistant.knowledge.mode
    found: list[tuple[str, Hit]] = []
    for row in rows:
        found += [
            (row.name, h)
            for h in index_of(ctx, row.collection_id).search(request.query, request.k, mode)
        ]
    if len(rows) > 1:  # several rankings: fuse them as the two retrievers are fused
        from hopia.assistant.knowledge.fusion import rrf

        by_key = {(c, h.document_id, h.ordinal): (c, h) for c, h in found}
        rankings = [
            [(c, h.document_id, h.ordinal) for c, h in found if c == row.name] for row in rows
        ]
        found = [by_key[key] for key, _ in rrf(rankings)]
    return found[: request.k]


def search(ctx: Context, request: SearchRequest) -> SearchResult:
    hits = retrieve(ctx, request)
    with ctx.warehouse().begin() as conn:
        entry = audit.record(
            conn,
            ctx.actor,
            "collection.search",
            "collections:" + ",".join(request.collections),
            None,
            {"passages": len(hits), "mode": request.mode or "default"},
        )
    return SearchResult([passage_of(c, h) for c, h in hits], entry.audit_id)


def passage_of(collection: str, h: Hit) -> Passage:
    return Passage(
        collection,
        h.document_id,
        h.document,
        h.start,
        h.end,
        h.section,
        h.page,
        h.text,
        h.score,
        h.similarity,
    )


def source(ctx: Context, request: PassageRequest) -> SourcePassage:
    """The text of a document of a readable collection and the passage a citation names."""
    ctx.authorize("collection.read", f"collection:{request.collection}")
    with ctx.warehouse().engine.connect() as conn:
        row = _row(conn, ctx, request.collection)
    stored = index_of(ctx, row.collection_id).stored(request.document_id)
    if stored is None:
        raise NotFoundError(
            f"document {request.document_id} absent de la collection", fields=("document_id",)
        )
    text = stored["text"]
    if not request.start <= request.end <= len(text):
        raise InvalidRequestError("passage hors du document", fields=("start", "end"))
    return SourcePassage(
        request.collection, request.document_id, stored["name"], text, request.start, request.end
    )

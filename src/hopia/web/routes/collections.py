"""``/api/v1/collections``: knowledge collections (create, list, documents, shares, search,
the passage a citation opens) and ``/api/v1/assistant/ask``: cited answers. Adding a document
is a background job (``collection_add``: reading and indexing a long PDF takes minutes): 202
and the job, followed in ``/api/v1/jobs``.

A collection the caller may not read answers 404, as an unknown one (the service decides, from
the owner and the shares); one they may read but not manage answers 403 to a change."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from hopia.services import ask as ask_service
from hopia.services import collection_jobs, jobs
from hopia.services import collections as svc
from hopia.web.deps import ContextDep, RunnerDep
from hopia.web.roles import Allow
from hopia.web.routes.gateway import GatewayDep
from hopia.web.schemas.collections import (
    AnswerOut,
    AskIn,
    CollectionDetailOut,
    CollectionIn,
    CollectionOut,
    DeletedCollectionOut,
    DocumentOut,
    SearchIn,
    SearchOut,
    ShareIn,
    SourceOut,
)
from hopia.web.schemas.problem import PROBLEMS

DOCUMENTS = "/collections/documents"
router = APIRouter(
    responses=PROBLEMS,
    prefix="/collections",
    tags=["collections"],
    dependencies=[Allow("collection.read")],
)
assistant = APIRouter(
    responses=PROBLEMS,
    prefix="/assistant",
    tags=["assistant"],
    dependencies=[Allow("assistant.ask")],
)


def _out(info: svc.CollectionInfo) -> CollectionOut:
    return CollectionOut.model_validate(asdict(info))


@router.get("", summary="The collections you may read")
def list_collections(ctx: ContextDep) -> list[CollectionOut]:
    return [_out(c) for c in svc.list_visible(ctx)]


@router.post("", status_code=201, summary="Create a collection (yours, or your group's)")
def create_collection(body: CollectionIn, ctx: ContextDep) -> CollectionOut:
    return _out(svc.create(ctx, svc.CreateRequest.of(**body.model_dump())))


@router.post("/search", summary="The best passages of collections for a query (hybrid search)")
def search(body: SearchIn, ctx: ContextDep) -> SearchOut:
    result = svc.search(ctx, svc.SearchRequest.of(**body.model_dump()))
    return SearchOut.model_validate(asdict(result))


@router.post(
    "/documents",
    status_code=202,
    summary="Add (or replace) a document in a collection, as a job (follow it in /jobs): PDF, "
    "Word, HTML, Markdown, text",
)
def add_document(
    ctx: ContextDep,
    runner: RunnerDep,
    collection: Annotated[str, Form(description="The collection's name.")],
    file: Annotated[UploadFile, File(description="The document.")],
) -> jobs.JobView:
    limit = ctx.settings.assistant.knowledge.max_document_bytes
    data = file.file.read(limit + 1)
    request = svc.AddRequest.of(collection=collection, filename=file.filename or "document.txt")
    return collection_jobs.submit_add(ctx, request, data, runner)


@router.get("/{name}", summary="One collection and its documents")
def get_collection(name: str, ctx: ContextDep) -> CollectionDetailOut:
    info, documents = svc.get(ctx, svc.NamedRequest.of(collection=name))
    return CollectionDetailOut(
        collection=_out(info), documents=[DocumentOut.model_validate(asdict(d)) for d in documents]
    )


@router.delete("/{name}", summary="Delete a collection, its shares and its index (owner only)")
def delete_collection(name: str, ctx: ContextDep) -> DeletedCollectionOut:
    deleted = svc.delete(ctx, svc.NamedRequest.of(collection=name))
    return DeletedCollectionOut.model_validate(asdict(deleted))


@router.delete("/{name}/documents/{document_id}", summary="Remove a document from a collection")
def remove_document(name: str, document_id: str, ctx: ContextDep) -> DocumentOut:
    removed = svc.remove_document(
        ctx, svc.RemoveRequest.of(collection=name, document_id=document_id)
    )
    return DocumentOut.model_validate(asdict(removed))


@router.get(
    "/{name}/documents/{document_id}/text",
    summary="A document's text and the passage [start, end) a citation points at",
)
def document_text(
    name: str, document_id: str, ctx: ContextDep, start: int = 0, end: int = 0
) -> SourceOut:
    request = svc.PassageRequest.of(collection=name, document_id=document_id, start=start, end=end)
    return SourceOut.model_validate(asdict(svc.source(ctx, request)))


@router.post("/{name}/shares", summary="Share a collection with a user or a group")
def share(name: str, body: ShareIn, ctx: ContextDep) -> CollectionOut:
    return _out(svc.share(ctx, svc.ShareRequest.of(collection=name, **body.model_dump())))


@router.delete("/{name}/shares", summary="Stop sharing a collection with a user or a group")
def unshare(
    name: str, ctx: ContextDep, user: str | None = None, group: str | None = None
) -> CollectionOut:
    request = svc.ShareRequest.of(collection=name, user=user, group=group)
    return _out(svc.share(ctx, request, revoke=True))


@assistant.post("/ask", summary="A question over collections: an answer with its citations")
def ask(body: AskIn, ctx: ContextDep, gateway: GatewayDep) -> AnswerOut:
    # Through the application's gateway (its backends built once); with none configured the
    # answer returns the passages and says so.
    request = ask_service.AskRequest.of(**body.model_dump())
    answer = ask_service.ask(ctx, request, gateway=gateway)
    return AnswerOut.model_validate(asdict(answer))

"""Knowledge collections and cited answers as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CollectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(examples=["protocoles-cardio"])
    title: str = ""
    group: str | None = Field(None, description="Owned by this group (one of your roles).")


class GranteeIO(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["user", "group"]
    name: str


class ShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str | None = None
    group: str | None = None


class CollectionOut(BaseModel):
    id: str
    name: str
    title: str
    owner_kind: Literal["user", "group"]
    owner: str
    created_by: str
    created_at: datetime
    shared_with: list[GranteeIO]
    documents: int
    manageable: bool


class DocumentOut(BaseModel):
    id: str
    name: str
    sha256: str
    format: str
    chars: int
    passages: int
    added_by: str
    added_at: datetime


class DeletedCollectionOut(BaseModel):
    name: str
    documents: int
    audit_id: int


class CollectionDetailOut(BaseModel):
    collection: CollectionOut
    documents: list[DocumentOut]


class SearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    collections: list[str] = Field(examples=[["protocoles-cardio"]])
    query: str = Field(examples=["posologie chez l'enfant"])
    k: int = 5
    mode: Literal["hybrid", "bm25", "dense"] | None = None


class PassageOut(BaseModel):
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


class SearchOut(BaseModel):
    passages: list[PassageOut]
    audit_id: int


class SourceOut(BaseModel):
    collection: str
    document_id: str
    document: str
    text: str
    start: int
    end: int


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(examples=["Quelle est la posologie chez l'enfant ?"])
    collections: list[str] = Field(examples=[["protocoles-cardio"]])
    k: int | None = None


class CitationOut(BaseModel):
    n: int
    collection: str
    document_id: str
    document: str
    section: str
    page: int | None
    start: int
    end: int


class AnswerOut(BaseModel):
    text: str
    citations: list[CitationOut]
    sources: list[PassageOut]
    generated: bool
    model: str | None
    relevant: bool
    audit_id: int

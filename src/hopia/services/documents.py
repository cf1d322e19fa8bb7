"""Documents service: list, search and view the notes, in the space the user's role allows.

Two spaces (docs/architecture.md): ``research`` is ``omop.note`` (pseudonymised text, shifted
dates, NLP entities at their offsets); ``identified`` is ``hopia_id.document`` (the original
text, real dates; the same entities moved onto the original text through the PHI spans). The
rules, for every front end:

- the space asked (or the role's own: identified for a clinician, research otherwise) is an
  action of the policy, ``document.research`` or ``document.identified``, asked first; an
  identified read is judged against the user's perimeter (the patient's stays' care sites);
  outside it, only by breaking the glass: a reason (:data:`Purpose.BREAK_GLASS`), the role
  allowed by the installation, and the audit entry flagged;
- an identified list holds only the patients of the user's perimeter;
- every read is audited in the transaction that reads (``document.list``, ``document.view``):
  who, which notes and patients, the space, the reason when one was given; a view's perimeter
  check runs in that transaction too.
"""

from __future__ import annotations

import bisect
import json
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Select, and_, exists, func, select

from hopia.platform import audit
from hopia.platform.access import Purpose
from hopia.platform.exceptions import NotFoundError
from hopia.platform.identity.roles import BREAK_GLASS, PERIMETER_RESOURCE, may
from hopia.platform.warehouse import schema
from hopia.services.context import Context, Request

Space = Literal["research", "identified"]
SNIPPET_CHARS = 160
MAX_QUERY_WORDS = 8


class DocumentListRequest(Request):
    space: Space | None = None
    """None: the role's own space (identified for a clinician, research otherwise)."""
    query: str | None = Field(None, max_length=200)
    """Words that must all appear in the text (case-insensitive)."""
    person_id: int | None = None
    page: int = Field(1, ge=1, le=100_000)
    size: int = Field(50, ge=1, le=500)


class DocumentViewRequest(Request):
    note_id: int
    space: Space | None = None
    break_glass_reason: str | None = None
    """A reason to read an identified document outside one's perimeter (bris de glace)."""


class DocumentSummary(BaseModel):
    note_id: int
    person_id: int
    date: date | None
    type: str | None
    snippet: str


class DocumentPage(BaseModel):
    space: Space
    page: int
    size: int
    total: int
    items: list[DocumentSummary]


class Entity(BaseModel):
    start: int
    end: int
    label: str
    text: str
    concept_id: int | None = None
    is_fact: bool
    negation: bool = False
    hypothesis: bool = False
    family: bool = False
    history: bool = False
    reported_speech: bool = False
    codes: dict[str, Any] = {}


class DocumentView(BaseModel):
    note_id: int
    person_id: int
    space: Space
    date: date | None
    type: str | None
    text: str
    entities: list[Entity]
    break_glass: bool = False
    audit_id: int


def space_of(ctx: Context, asked: Space | None) -> Space:
    """The space asked, or the role's own."""
    if asked is not None:
        return asked
    return "identified" if may(ctx.principal, "document.identified") else "research"


def _note_date(space: Space) -> Any:
    note, doc = schema.CDM["note"], schema.document
    return doc.c.doc_date if space == "identified" else note.c.note_date


def _words(query: str | None) -> list[str]:
    return (query or "").split()[:MAX_QUERY_WORDS]


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _in_perimeter(person: Any, care_sites: frozenset[int]) -> Any:
    visit = schema.CDM["visit_occurrence"]
    return exists().where(visit.c.person_id == person, visit.c.care_site_id.in_(sorted(care_sites)))


def _listing(ctx: Context, space: Space, request: DocumentListRequest) -> Select:
    note, doc = schema.CDM["note"], schema.document
    text_col = doc.c.text if space == "identified" else note.c.note_text
    query = select(
        note.c.note_id,
        note.c.person_id,
        _note_date(space).label("date"),
        note.c.note_title.label("type"),
        text_col.label("text"),
    ).where(note.c.person_id > 0)
    if space == "identified":
        query = query.join(doc, and_(doc.c.note_id == note.c.note_id, doc.c.status == "done"))
        query = query.where(_in_perimeter(note.c.person_id, ctx.principal.care_sites))
    for word in _words(request.query):
        query = query.where(text_col.ilike(_like(word), escape="\\"))
    if request.person_id is not None:
        query = query.where(note.c.person_id == request.person_id)
    return query


def _snippet(text: str, words: list[str]) -> str:
    text = text or ""
    at = min((i for w in words if (i := text.casefold().find(w.casefold())) >= 0), default=0)
    start = max(0, at - SNIPPET_CHARS // 3)
    return " ".join(text[start : start + SNIPPET_CHARS].split())


def list_documents(ctx: Context, request: DocumentListRequest) -> DocumentPage:
    """One page of the notes the user may see, newest first, optionally matching words."""
    space = space_of(ctx, request.space)
    ctx.authorize(f"document.{space}", PERIMETER_RESOURCE if space == "identified" else space)
    query = _listing(ctx, space, request)
    words = _words(request.query)
    with ctx.warehouse().begin(reads_first=True) as conn:
        total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = conn.execute(
            query.order_by(_note_date(space).desc().nulls_last(), schema.CDM["note"].c.note_id)
            .limit(request.size)
            .offset((request.page - 1) * request.size)
        ).all()
        audit.record(
            conn,
            ctx.actor,
            "document.list",
            f"documents:{space}",
            None,
            {
                "space": space,
                "query_words": len(words),
                "page": request.page,
                "total": total,
                "notes": [r.note_id for r in rows],
                "persons": sorted({r.person_id for r in rows}),
            },
        )
    items = [
        DocumentSummary(
            note_id=r.note_id,
            person_id=r.person_id,
            date=r.date,
            type=r.type,
            snippet=_snippet(r.text, words),
        )
        for r in rows
    ]
    return DocumentPage(space=space, page=request.page, size=request.size, total=total, items=items)


def view_document(ctx: Context, request: DocumentViewRequest) -> DocumentView:
    """The text of a note with its entities and qualifiers, in the space allowed; audited."""
    space = space_of(ctx, request.space)
    note, doc = schema.CDM["note"], schema.document
    glass, reason = False, None
    action = f"document.{space}"
    # One transaction: the note's patient, the policy's check (the perimeter read on it), the
    # text and entities, and the audit entry; nothing is returned unless they all commit.
    with ctx.warehouse().begin(reads_first=True) as conn:
        person_id = conn.execute(
            select(note.c.person_id).where(note.c.note_id == request.note_id)
        ).scalar()
        if person_id is None:  # note ids are sequential: saying one is unknown reveals nothing
            raise NotFoundError(f"document {request.note_id} introuvable", fields=("note_id",))
        resource = f"person:{person_id}" if space == "identified" else f"note:{request.note_id}"
        if space == "identified" and request.break_glass_reason is not None:
            reason = ctx.check_reason(
                request.break_glass_reason,
                Purpose.BREAK_GLASS,
                action + BREAK_GLASS,
                resource,
                conn=conn,
            )
            ctx.authorize(action + BREAK_GLASS, resource, conn=conn)
            glass = True
        else:
            ctx.authorize(action, resource, conn=conn)
        if space == "identified":
            row = conn.execute(
                select(doc.c.document_id, doc.c.text, doc.c.doc_date, doc.c.doc_type).where(
                    doc.c.note_id == request.note_id, doc.c.status == "done"
                )
            ).first()
            if row is None:
                raise NotFoundError(
                    f"document {request.note_id} : aucun texte dans l'espace identifié",
                    fields=("note_id",),
                )
            text, when, kind = row.text or "", row.doc_date, row.doc_type
            moves = _phi_moves(conn, row.document_id)
        else:
            row = conn.execute(
                select(note.c.note_text, note.c.note_date, note.c.note_title).where(
                    note.c.note_id == request.note_id
                )
            ).one()
            text, when, kind, moves = row.note_text or "", row.note_date, row.note_title, None
        entities = _entities(conn, request.note_id, text, moves)
        entry = audit.record(
            conn,
            ctx.actor,
            "document.view",
            f"note:{request.note_id}",
            reason,
            {
                "space": space,
                "note_id": request.note_id,
                "person_id": person_id,
                "break_glass": glass,
                "entities": len(entities),
            },
        )
    return DocumentView(
        note_id=request.note_id,
        person_id=person_id,
        space=space,
        date=when,
        type=kind,
        text=text,
        entities=entities,
        break_glass=glass,
        audit_id=entry.audit_id,
    )


# -- entities ------------------------------------------------------------------------------------

# Offsets: the NLP ran on the pseudonymised text. A replaced identifier changed the length of
# the text after it; the PHI spans (original offsets, surrogate) give the way back.


class _Moves:
    """Pseudonymised offsets -> original offsets, from the document's PHI spans (original
    start, original end, length of the surrogate that replaced it), in text order."""

    def __init__(self, spans: list[tuple[int, int, int]]) -> None:
        self.starts: list[int] = []  # where each surrogate starts in the pseudonymised text
        self.rows: list[tuple[int, int, int, int]] = []  # (its end, shift after, orig start, end)
        shift = 0
        for start, end, surrogate_len in spans:
            p_start = start + shift
            shift += surrogate_len - (end - start)
            self.starts.append(p_start)
            self.rows.append((p_start + surrogate_len, shift, start, end))

    def original(self, offset: int, *, end: bool) -> int:
        """A start (``end`` False) or an exclusive end offset, moved to the original text; one
        that falls inside a surrogate widens to the whole original identifier."""
        find = bisect.bisect_left if end else bisect.bisect_right
        i = find(self.starts, offset) - 1
        if i < 0:
            return offset
        p_end, shift_after, o_start, o_end = self.rows[i]
        if offset < p_end or (end and offset == p_end):
            return o_end if end else o_start
        return offset - shift_after


def _phi_moves(conn: Any, document_id: int) -> _Moves:
    phi = schema.phi_span
    rows = conn.execute(
        select(phi.c.start_char, phi.c.end_char, phi.c.surrogate)
        .where(phi.c.document_id == document_id, phi.c.surrogate.is_not(None))
        .order_by(phi.c.start_char)
    ).all()
    return _Moves([(r.start_char, r.end_char, len(r.surrogate)) for r in rows])


def _entities(conn: Any, note_id: int, text: str, moves: _Moves | None) -> list[Entity]:
    nlp = schema.CDM["note_nlp"]
    rows = conn.execute(
        select(
            nlp.c.offset,
            nlp.c.lexical_variant,
            nlp.c.note_nlp_concept_id,
            nlp.c.term_exists,
            nlp.c.term_modifiers,
        )
        .where(nlp.c.note_id == note_id)
        .order_by(nlp.c.note_nlp_id)
    ).all()
    out = []
    for r in rows:
        try:
            start, end = (int(x) for x in (r.offset or "").split("-", 1))
            mods = json.loads(r.term_modifiers or "{}")
        except ValueError:
            continue  # a row of another system (an OMOP load): no offsets to show
        if moves is not None:
            start, end = moves.original(start, end=False), moves.original(end, end=True)
        if not 0 <= start < end <= len(text):
            continue
        out.append(
            Entity(
                start=start,
                end=end,
                label=str(mods.get("label") or ""),
                text=text[start:end],
                concept_id=r.note_nlp_concept_id or None,
                is_fact=r.term_exists == "Y",
                negation=bool(mods.get("negation")),
                hypothesis=bool(mods.get("hypothesis")),
                family=bool(mods.get("family")),
                history=bool(mods.get("history")),
                reported_speech=bool(mods.get("reported_speech")),
                codes={k: v for k, v in (mods.get("codes") or {}).items() if v},
            )
        )
    return out

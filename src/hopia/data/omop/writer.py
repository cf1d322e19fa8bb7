"""The one OMOP writer: person, visit_occurrence (stays, care sites), note, note_nlp, the
clinical facts (condition, drug, measurement, observation) and ``hopia_provenance``, with the
identifiers they get.

It takes research-space inputs only — a pseudonymised text and its mentions, a person id, dates
already shifted, a stay's keyed hash (:mod:`hopia.data.omop.research_ids`) — and writes them in
the caller's transaction. The ingest pipeline calls it once per batch; dictation (a note from a
recording) and a Spark executor build the same records and get the same rows. Producing those
inputs (reading, pseudonymisation, NLP) is the caller's business: nothing here sees an
identifier, and nothing here imports a stage above ``omop``.

Identifiers are allocated from the committed maximum of each table (:class:`IdAllocator`):
writers are serialised by :meth:`hopia.platform.warehouse.Warehouse.begin`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, select, update

from hopia.data.omop import concepts as c
from hopia.data.omop.mapping import (
    ID_COLUMN,
    Mention,
    NoteContext,
    coded_concept,
    fact_row,
    note_nlp_row,
    qualitative_result,
    target_table,
)
from hopia.platform.warehouse import Warehouse, schema

UNKNOWN_PERSON = 0  # note.person_id for a note whose patient is not identified
ER_TYPES = {"urgences", "passage aux urgences"}
OUTPATIENT_TYPES = {"consultation", "ordonnance", "biologie"}


@dataclass(frozen=True)
class PersonRecord:
    """A patient as the research space sees it."""

    person_id: int
    research_id: str  # person_source_value: research_ids.pseudonymous_id
    birth_date: date  # shifted
    sex: str | None  # "M" | "F" | None


@dataclass(frozen=True)
class StayRecord:
    """The hospital stay a note belongs to, when the source names one."""

    research_id: str  # visit_source_value: research_ids.pseudonymous_stay_id
    start: date | None  # admission, shifted; None: dated by its notes
    end: date | None  # discharge, shifted
    service: str | None  # the care unit in charge (a unit's name identifies no patient)


@dataclass(frozen=True)
class NoteRecord:
    """A pseudonymised note with its mentions and its person/visit context."""

    person_id: int  # UNKNOWN_PERSON when the patient is not identified
    note_date: date  # shifted
    doc_type: str | None
    text: str  # pseudonymised
    source_value: str  # note_source_value, e.g. "doc:" + the document hash's first 16 digits
    mentions: Sequence[Mention] = ()
    stay: StayRecord | None = None  # None: one visit per person, day and document type


@dataclass
class WrittenNotes:
    """What :meth:`OmopWriter.write_notes` wrote, in the order of its input."""

    note_ids: list[int]
    visit_ids: list[int | None]
    facts: Counter[str] = field(default_factory=Counter)  # rows per clinical table


class OmopWriter:
    """Writes research-space records into ``omop`` within the caller's transaction.

    Parameters
    ----------
    warehouse:
        The open warehouse (its dialect decides the bulk insert).
    system:
        Name and version of the NLP system, written to ``note_nlp.nlp_system`` and provenance.
    """

    def __init__(self, warehouse: Warehouse, system: str) -> None:
        self.wh = warehouse
        self.system = system
        self.concepts = c.ConceptResolver(warehouse)

    def ids(self, conn: Connection) -> IdAllocator:
        """An allocator for one transaction: share it with the caller's own rows (documents)."""
        return IdAllocator(self.wh, conn)

    def ensure_standard(self, conn: Connection) -> None:
        """The standard concepts Hopia references (genders, visits, types)."""
        self.concepts.ensure_standard(conn)

    def forget(self) -> None:
        """After a rolled-back transaction: the cached concept ids may not exist."""
        self.concepts.forget()

    # -- person -------------------------------------------------------------------------------

    def write_person(self, conn: Connection, person: PersonRecord) -> None:
        """Insert or update ``person``: updated in place, other columns may come from other
        sources (an OMOP load)."""
        table = schema.CDM["person"]
        row = person_row(person)
        has_row = conn.execute(
            select(table.c.person_id).where(table.c.person_id == person.person_id)
        ).first()
        if has_row:
            conn.execute(update(table).where(table.c.person_id == person.person_id).values(**row))
        else:
            conn.execute(table.insert().values(**row))

    # -- notes --------------------------------------------------------------------------------

    def write_notes(
        self,
        conn: Connection,
        notes: Sequence[NoteRecord],
        run_id: int,
        ids: IdAllocator | None = None,
    ) -> WrittenNotes:
        """Write notes, their visits, mentions, facts and provenance; one call per transaction.

        Every mention goes to ``note_nlp``; those that are facts (affirmed, about the patient)
        of an identified person also go to their clinical table, with a provenance row linking
        the fact to its note, its mention and the run ``run_id``."""
        self.ensure_standard(conn)
        codes = {cc for n in notes for m in n.mentions if (cc := coded_concept(m, n.note_date))}
        concept_ids = self.concepts.resolve(conn, codes)
        ids = ids or self.ids(conn)
        visits = _Visits.load(conn, {n.person_id for n in notes if n.person_id != UNKNOWN_PERSON})
        rows: dict[str, list[dict]] = {t: [] for t in (*ID_COLUMN, "note")}
        provenance: list[dict] = []
        written = WrittenNotes([], [])
        for n in notes:
            visit_id = self._visit(visits, ids, n) if n.person_id != UNKNOWN_PERSON else None
            note_id = ids.next("note")
            written.note_ids.append(note_id)
            written.visit_ids.append(visit_id)
            rows["note"].append(note_row(n, note_id, visit_id))
            ctx = NoteContext(note_id, n.person_id, visit_id, n.note_date)
            results: set[tuple[int, int]] = set()  # offsets of the test results written
            for m in n.mentions:
                code = coded_concept(m, n.note_date)
                concept_id = concept_ids[code] if code else 0
                nlp_id = ids.next("note_nlp")
                rows["note_nlp"].append(
                    note_nlp_row(m, ctx, nlp_id, concept_id, self.system, n.text)
                )
                table = fact_table(m, n.person_id != UNKNOWN_PERSON, results)
                if table:
                    row_id = ids.next(table)
                    rows[table].append(fact_row(table, m, ctx, row_id, concept_id))
                    provenance.append(
                        {
                            "table_name": table,
                            "row_id": row_id,
                            "note_id": note_id,
                            "note_nlp_id": nlp_id,
                            "run_id": run_id,
                            "system": self.system,
                        }
                    )
                    written.facts[table] += 1
        self.wh.insert_rows(conn, schema.CDM["visit_occurrence"], visits.new)
        for table, table_rows in rows.items():
            self.wh.insert_rows(conn, schema.CDM[table], table_rows)
        self.wh.insert_rows(conn, schema.provenance, provenance)
        return written

    def _visit(self, visits: _Visits, ids: IdAllocator, note: NoteRecord) -> int:
        """The note's visit: its stay when it has one, else one visit per person, day and
        document type."""
        source = (note.doc_type or "document")[:50]
        concept = visit_concept(source)
        if note.stay is not None:
            return self._stay(visits, ids, note, note.stay, concept)
        key = (note.person_id, note.note_date, source)
        if key in visits.known:
            return visits.known[key]
        visit_id = ids.next("visit_occurrence")
        visits.known[key] = visit_id
        visits.new.append(
            {
                "visit_occurrence_id": visit_id,
                "person_id": note.person_id,
                "visit_concept_id": concept,
                "visit_start_date": note.note_date,
                "visit_end_date": note.note_date,
                "visit_type_concept_id": c.EHR,
                "visit_source_value": source,
                "care_site_id": None,
            }
        )
        return visit_id

    def _stay(
        self, visits: _Visits, ids: IdAllocator, note: NoteRecord, stay: StayRecord, concept: int
    ) -> int:
        """One visit per stay, dated by its admission and discharge when the source gives them
        (else by its notes); a later note of the stay widens its dates and may raise its level
        (consultation < ER < inpatient)."""
        start, end = stay_dates(note.note_date, stay)
        site = visits.care_site(stay.service) if stay.service else None
        key = (note.person_id, stay.research_id)
        row = visits.stays.get(key)
        if row is not None:
            visits.widen(row, start, end, concept, site)
            return int(row["visit_occurrence_id"])
        row = {
            "visit_occurrence_id": ids.next("visit_occurrence"),
            "person_id": note.person_id,
            "visit_concept_id": concept,
            "visit_start_date": start,
            "visit_end_date": end,
            "visit_type_concept_id": c.EHR,
            "visit_source_value": stay.research_id,
            "care_site_id": site,
        }
        visits.stays[key] = row
        visits.new.append(row)
        return int(row["visit_occurrence_id"])


def fact_table(m: Mention, identified: bool, results: set[tuple[int, int]]) -> str | None:
    """The clinical table a note's mention goes to, or None: only the facts of an identified
    person; ``results``: the offsets of the note's test results so far (updated), since one
    test found by several pipes ("hémocultures": NER and terms) is one result."""
    table = target_table(m) if identified else None
    if table == "measurement" and qualitative_result(m) is not None:
        if (m.start, m.end) in results:
            table = None
        results.add((m.start, m.end))
    return table


def person_row(person: PersonRecord) -> dict[str, Any]:
    return {
        "person_id": person.person_id,
        "gender_concept_id": {"M": c.MALE, "F": c.FEMALE}.get(person.sex or "", c.UNKNOWN),
        "year_of_birth": person.birth_date.year,
        "month_of_birth": person.birth_date.month,
        "race_concept_id": 0,
        "ethnicity_concept_id": 0,
        "person_source_value": person.research_id,
        "gender_source_value": person.sex,
    }


def note_row(note: NoteRecord, note_id: int, visit_id: int | None) -> dict[str, Any]:
    return {
        "note_id": note_id,
        "person_id": note.person_id,
        "note_date": note.note_date,
        "note_type_concept_id": c.EHR,
        "note_class_concept_id": 0,
        "note_title": (note.doc_type or "")[:250] or None,
        "note_text": note.text,
        "encoding_concept_id": 0,
        "language_concept_id": 0,
        "visit_occurrence_id": visit_id,
        "note_source_value": note.source_value,
    }


def visit_concept(doc_type: str) -> int:
    """The visit concept a document type means (emergency, outpatient, else inpatient)."""
    kind = doc_type.lower()
    if kind in ER_TYPES:
        return c.ER_VISIT
    return c.OUTPATIENT_VISIT if kind in OUTPATIENT_TYPES else c.INPATIENT_VISIT


# How much care a visit concept means: a stay takes the level of its most intensive document,
# and a stay with both emergency and inpatient documents is OMOP's "ER and inpatient" visit.
_VISIT_LEVEL = {
    c.OUTPATIENT_VISIT: 0,
    c.ER_VISIT: 1,
    c.INPATIENT_VISIT: 2,
    c.ER_AND_INPATIENT_VISIT: 3,
}


def stay_concept(current: int, new: int) -> int:
    """The visit concept of a stay that had ``current`` and gets a document meaning ``new``."""
    if {current, new} == {c.ER_VISIT, c.INPATIENT_VISIT}:
        return c.ER_AND_INPATIENT_VISIT
    return max(current, new, key=lambda k: _VISIT_LEVEL.get(k, -1))


def stay_dates(day: date, stay: StayRecord) -> tuple[date, date]:
    """A stay's first dates from one of its notes (dated ``day``): its admission and discharge
    when the source gives them, else the note's day."""
    start = stay.start or min(day, stay.end or day)
    return start, stay.end or max(day, start)


def stay_changes(
    row: dict[str, Any], start: date, end: date, concept: int, site: Any
) -> dict[str, Any]:
    """What a further note of a stay changes in its row (``visit_start_date``,
    ``visit_end_date``, ``visit_concept_id``, ``care_site_id``): the dates widened to
    ``start``..``end``; ``concept`` (and the note's service, ``site``) taken when it means more
    care than the stay's so far; a service where the stay had none. ``site`` is whatever stands
    for the care site (its id here, its name in the Spark job), None without a service."""
    changes: dict[str, Any] = {}
    if start < row["visit_start_date"]:
        changes["visit_start_date"] = start
    if end > row["visit_end_date"]:
        changes["visit_end_date"] = end
    current = row["visit_concept_id"]
    combined = stay_concept(current, concept) if current in _VISIT_LEVEL else current
    if combined != current:
        changes["visit_concept_id"] = combined
        if site is not None and concept != c.ER_VISIT:  # the ward's service, not the ER's
            changes["care_site_id"] = site
    elif site is not None and row["care_site_id"] is None:
        changes["care_site_id"] = site
    return changes


@dataclass
class _Visits:
    """Visits of a batch's persons: those already in the warehouse, and the new ones.

    ``known`` finds the per-day visits by (person, day, document type), ``stays`` the stays by
    (person, pseudonymous stay id), as row dicts. A stay written by an earlier batch is updated
    at once in the batch's transaction (``conn``); a new one is updated in place before insert."""

    known: dict[tuple[int, date, str], int]
    conn: Connection
    new: list[dict] = field(default_factory=list)
    stays: dict[tuple[int, str], dict] = field(default_factory=dict)
    written: set[int] = field(default_factory=set)  # ids of the stays already in the warehouse
    sites: dict[str, int] = field(default_factory=dict)  # service -> care_site_id

    @classmethod
    def load(cls, conn: Connection, person_ids: set[int]) -> _Visits:
        v = schema.CDM["visit_occurrence"]
        rows = conn.execute(
            select(
                v.c.person_id,
                v.c.visit_start_date,
                v.c.visit_source_value,
                v.c.visit_occurrence_id,
                v.c.visit_end_date,
                v.c.visit_concept_id,
                v.c.care_site_id,
            ).where(v.c.person_id.in_(sorted(person_ids)))
        ).all()
        visits = cls({(r[0], r[1], r[2]): int(r[3]) for r in rows}, conn)
        for p, start, source, visit_id, end, concept, site in rows:
            # Every row is indexed; only "V" + hash sources are ever looked up as stays.
            visits.stays[(p, source)] = {
                "visit_occurrence_id": int(visit_id),
                "visit_start_date": start,
                "visit_end_date": end or start,
                "visit_concept_id": concept,
                "care_site_id": site,
            }
            visits.written.add(int(visit_id))
        return visits

    def widen(self, row: dict, start: date, end: date, concept: int, site: int | None) -> None:
        """Extend a stay to ``start``..``end``; take ``concept`` (and its document's service)
        when it means more care than the stay's so far (:func:`stay_changes`)."""
        changes = stay_changes(row, start, end, concept, site)
        if not changes:
            return
        row.update(changes)
        if row["visit_occurrence_id"] in self.written:
            v = schema.CDM["visit_occurrence"]
            self.conn.execute(
                update(v)
                .where(v.c.visit_occurrence_id == row["visit_occurrence_id"])
                .values(**changes)
            )

    def care_site(self, service: str) -> int:
        """``care_site_id`` of a service, created the first time it is seen."""
        if service not in self.sites:
            cs = schema.CDM["care_site"]
            source = service[:50]
            found = self.conn.execute(
                select(cs.c.care_site_id)
                .where(cs.c.care_site_source_value == source)
                .order_by(cs.c.care_site_id)
                .limit(1)
            ).scalar()
            if found is None:
                found = Warehouse.next_id(self.conn, cs, "care_site_id")
                self.conn.execute(
                    cs.insert().values(
                        care_site_id=found,
                        care_site_name=service[:255],
                        care_site_source_value=source,
                    )
                )
            self.sites[service] = int(found)
        return self.sites[service]


class IdAllocator:
    """Hands out the next identifiers of each table within one transaction: the first call for
    a table reads its committed maximum, the next ones count on from it."""

    TABLES: dict[str, tuple[str, str]] = {
        "note": ("note", "note_id"),
        "visit_occurrence": ("visit_occurrence", "visit_occurrence_id"),
        **{t: (t, col) for t, col in ID_COLUMN.items()},
    }

    def __init__(self, wh: Warehouse, conn: Connection) -> None:
        self.wh, self.conn = wh, conn
        self._next: dict[str, int] = {}

    def next(self, name: str) -> int:
        """The next id of table ``name`` (an OMOP table, or ``"document"``)."""
        if name not in self._next:
            table, column = self._table(name)
            self._next[name] = self.wh.next_id(self.conn, table, column)
        value = self._next[name]
        self._next[name] += 1
        return value

    def _table(self, name: str) -> tuple[Table, str]:
        if name == "document":  # hopia_id.document: the identified twin of each note
            return schema.document, "document_id"
        table, column = self.TABLES[name]
        return schema.CDM[table], column

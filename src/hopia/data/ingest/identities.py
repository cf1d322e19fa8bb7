"""Patients: the identified registry (``hopia_id.patient``) and their research-space ids.

- :meth:`Identities.upsert` records what a registry file or a document (HL7 PID, FHIR Patient)
  says about a patient, the last statement winning field by field; a patient gets its
  ``patient_id`` and its ``person_id`` at first sight, and its OMOP ``person`` row (pseudonymous
  id, shifted birth date) as soon as a birth date is known (OMOP requires ``year_of_birth``).
- :meth:`Identities.resolve` gives a document without a structured patient (PDF, DOCX, text,
  scan) the patient its header states, matched against the registry (IPP first, then name and
  birth date); a document with no patient at all is refused (see :data:`NO_IDENTITY`): it must
  never land as the unknown person 0.
- :meth:`Identities.for_documents` gives the pseudonymiser, for each patient of a batch, the most
  it knows: the registry merged with what the documents of this run said.
- :func:`note_record` turns a document's identified context (IPP, dates, stay number) into the
  research-space record the OMOP writer takes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Connection, select, update

from hopia.data.ingest.header import fold, with_header
from hopia.data.omop.mapping import Mention
from hopia.data.omop.research_ids import ResearchIds
from hopia.data.omop.writer import (
    UNKNOWN_PERSON,
    NoteRecord,
    OmopWriter,
    PersonRecord,
    StayRecord,
)
from hopia.data.records import PatientIdentity, RawDocument, StatedIdentity, merge_identity
from hopia.data.records.patients import read_patients
from hopia.platform.warehouse import Warehouse, schema

_FIELDS = tuple(PatientIdentity.__dataclass_fields__)

# The rule for a document that names no patient: it is an error row naming the file (quarantine:
# fixed at the source, then ingested again), never a note of the unknown person 0, whose facts
# would reach no cohort and whose text no identity would help pseudonymise.
NO_IDENTITY = "aucun patient identifiable (ni IPP, ni nom et date de naissance dans l'en-tête)"
NOT_IN_REGISTRY = (
    "patient de l'en-tête introuvable dans le registre (sans IPP, nom et date de naissance "
    "sans correspondance)"
)
AMBIGUOUS = "patient de l'en-tête ambigu : plusieurs patients du registre ont ce nom et cette date"
BIRTH_CONFLICT = "identité discordante : la date de naissance de l'en-tête diffère du registre"
NEW_IPP = "IPP de l'en-tête absent du registre : patient créé d'après l'en-tête"
NAME_CONFLICT = "nom de l'en-tête différent de celui du registre pour cet IPP"
NAME_REFUSED = (
    "identité discordante : le nom de l'en-tête diffère du registre pour cet IPP, et aucune date "
    "de naissance ne le confirme"
)
NO_DATE = "date du document introuvable : date d'ingestion utilisée"


@dataclass(frozen=True)
class Resolution:
    """A document with its patient resolved, or the reason it is refused; and warnings."""

    doc: RawDocument | None
    error: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)


class Identities:
    """The patient registry of one warehouse, and the identities seen during a run.

    Parameters
    ----------
    warehouse:
        The open warehouse.
    writer:
        Writes the OMOP ``person`` rows.
    research:
        The research ids and date shift of the installation's secret.
    """

    def __init__(self, warehouse: Warehouse, writer: OmopWriter, research: ResearchIds) -> None:
        self.wh = warehouse
        self.writer = writer
        self.research = research
        # Identities carried by documents of this run (HL7 PID, FHIR Patient), merged over the
        # registry, so that a batch never pseudonymises with less than what is already known.
        self._run: dict[str, PatientIdentity] = {}

    def load(self, path: Path, then: Callable[[Connection, int], None] | None = None) -> int:
        """Load a registry file (JSONL or CSV) in one transaction; the number of identities.
        ``then(conn, n)`` runs in that transaction (the caller's audit entry)."""
        identities = list(read_patients(path))
        with self.wh.begin() as conn:
            self.upsert(conn, identities)
            if then is not None:
                then(conn, len(identities))
        return len(identities)

    def resolve(self, doc: RawDocument) -> Resolution:
        """``doc`` attached to its patient: the structured one of its source, else the one its
        header states (:attr:`RawDocument.stated`) matched against the registry.

        - an IPP the registry knows: that patient (a birth date that disagrees refuses the
          document: a mistyped IPP must not file a letter under someone else);
        - an IPP the registry does not know: a new patient with what the header says, and a
          warning;
        - no IPP: the one registered patient with that name and birth date, else refused;
        - no identity at all: refused (:data:`NO_IDENTITY`).
        A document without a date gets a warning (the ingest day stands in for it)."""
        return resolve_stated(
            doc,
            lambda ipp: self._run.get(ipp) or self.known({ipp}).get(ipp),
            self._born_on,
        )

    def _born_on(self, birth: date | None) -> list[PatientIdentity]:
        if birth is None:
            return []
        t = schema.patient
        with self.wh.engine.connect() as conn:
            rows = conn.execute(select(t).where(t.c.birth_date == birth)).mappings().all()
        return [PatientIdentity(**{k: r[k] for k in _FIELDS}) for r in rows]

    def known(self, ipps: set[str]) -> dict[str, PatientIdentity]:
        """The registry's identities of ``ipps`` (committed state, outside any transaction)."""
        if not ipps:
            return {}
        t = schema.patient
        with self.wh.engine.connect() as conn:
            rows = conn.execute(select(t).where(t.c.ipp.in_(sorted(ipps)))).mappings().all()
        return {r["ipp"]: PatientIdentity(**{k: r[k] for k in _FIELDS}) for r in rows}

    def for_documents(self, docs: Sequence[RawDocument]) -> dict[str, PatientIdentity]:
        """The identity to pseudonymise each patient of ``docs`` with, by IPP: what the
        documents of this run say about them, merged over the registry."""
        registry = self.known({d.patient_ipp for d in docs if d.patient_ipp})
        for d in docs:
            if d.patient:
                ipp = d.patient.ipp
                base = self._run.get(ipp) or registry.get(ipp)
                self._run[ipp] = merge_identity(base, d.patient)
        out: dict[str, PatientIdentity] = {}
        for d in docs:
            ipp = d.patient_ipp
            if ipp and ipp not in out and (found := self._run.get(ipp) or registry.get(ipp)):
                out[ipp] = found
        return out

    def person_ids(self, conn: Connection, ipps: set[str]) -> dict[str, int]:
        """person_id of each IPP, registering the IPPs never seen before.

        A patient known only by IPP gets its person_id reserved at once, and its notes and facts
        use it; the ``person`` row itself is written when a birth date becomes known, which
        links everything already written."""
        if not ipps:
            return {}
        t = schema.patient
        query = select(t.c.ipp, t.c.person_id).where(t.c.ipp.in_(sorted(ipps)))
        known = dict(conn.execute(query).all())
        missing = [PatientIdentity(ipp=ipp) for ipp in sorted(ipps) if ipp not in known]
        if missing:
            self.upsert(conn, missing)
            known.update(conn.execute(query).all())
        return {ipp: int(pid) for ipp, pid in known.items()}

    def upsert(self, conn: Connection, identities: Iterable[PatientIdentity]) -> None:
        """Record identities in the caller's transaction; the last one of an IPP wins, and a
        field it leaves empty keeps its registered value."""
        latest = {i.ipp: i for i in identities}
        if not latest:
            return
        t, person = schema.patient, schema.CDM["person"]
        self.writer.ensure_standard(conn)
        existing = {
            r.ipp: r
            for r in conn.execute(
                select(t.c.ipp, t.c.patient_id, t.c.person_id).where(t.c.ipp.in_(sorted(latest)))
            )
        }
        now = datetime.now()
        next_patient = self.wh.next_id(conn, t, "patient_id")
        next_person = max(
            self.wh.next_id(conn, t, "person_id"), self.wh.next_id(conn, person, "person_id")
        )
        for ipp, ident in latest.items():
            values = {k: getattr(ident, k) for k in _FIELDS}
            if ipp in existing:
                known = {k: v for k, v in values.items() if v is not None and k != "ipp"}
                if not known:
                    continue  # an IPP alone says nothing new
                conn.execute(update(t).where(t.c.ipp == ipp).values(**known, updated_at=now))
                person_id = existing[ipp].person_id
                birth = conn.execute(select(t.c.birth_date, t.c.sex).where(t.c.ipp == ipp)).one()
                birth_date, sex = birth.birth_date, birth.sex
            else:
                person_id = next_person
                next_person += 1
                conn.execute(
                    t.insert().values(
                        **values, patient_id=next_patient, person_id=person_id, updated_at=now
                    )
                )
                next_patient += 1
                birth_date, sex = ident.birth_date, ident.sex
            if birth_date is not None:
                self.writer.write_person(conn, self.person_record(person_id, ipp, birth_date, sex))

    def person_record(
        self, person_id: int, ipp: str, birth_date: date, sex: str | None
    ) -> PersonRecord:
        """The research-space person: pseudonymous id, birth date shifted like the notes."""
        return PersonRecord(
            person_id=person_id,
            research_id=self.research.person(ipp),
            birth_date=self.research.shift(birth_date, ipp),
            sex=sex,
        )


def resolve_stated(
    doc: RawDocument,
    registered: Callable[[str], PatientIdentity | None],
    born_on: Callable[[date | None], list[PatientIdentity]],
) -> Resolution:
    """:meth:`Identities.resolve` against any registry: ``registered(ipp)`` the registry's
    identity of an IPP (None: unknown), ``born_on(day)`` its identities born that day. The local
    ingest looks them up in the warehouse, the Spark job in the registry it joined onto the
    document (:mod:`hopia.data.ingest.spark`): the same rules either way."""
    doc = with_header(doc)  # readers without a header of their own (JSONL): read it here
    warnings: list[str] = [] if doc.doc_date else [NO_DATE]
    if doc.patient_ipp:
        return Resolution(doc, warnings=tuple(warnings))
    stated = doc.stated
    if stated is None:
        return Resolution(None, NO_IDENTITY)
    if stated.ipp:
        found_ipp = registered(stated.ipp)
        if found_ipp is None:
            warnings.append(NEW_IPP)
            return Resolution(replace(doc, patient=_identity(stated)), None, tuple(warnings))
        if stated.birth_date and found_ipp.birth_date not in (None, stated.birth_date):
            return Resolution(None, BIRTH_CONFLICT)
        if stated.names and not _same_names(stated, found_ipp):
            # Another name under this IPP: a misread or mistyped IPP (an OCR'd header) would
            # file the letter under someone else. Only a matching birth date vouches for it.
            if stated.birth_date is None or found_ipp.birth_date != stated.birth_date:
                return Resolution(None, NAME_REFUSED)
            warnings.append(NAME_CONFLICT)
        return Resolution(replace(doc, ipp=stated.ipp), None, tuple(warnings))
    found = [p for p in born_on(stated.birth_date) if _same_names(stated, p)]
    if len(found) != 1:
        return Resolution(None, AMBIGUOUS if found else NOT_IN_REGISTRY)
    return Resolution(replace(doc, ipp=found[0].ipp), None, tuple(warnings))


def _same_names(stated: StatedIdentity, registered: PatientIdentity) -> bool:
    """The registered family name, and given name when registered, among the header's name
    words (order and case vary between documents; a married name may stand beside it)."""
    words = f" {fold(' '.join(stated.names))} "
    family = fold(registered.family_name or "")
    given = fold(registered.given_name or "").split()
    if not family or f" {family} " not in words:
        return False
    return not given or f" {given[0]} " in words


def _identity(stated: StatedIdentity) -> PatientIdentity:
    """A registry entry from a header: the IPP, and the rest only where the header is clear."""
    assert stated.ipp is not None
    return PatientIdentity(
        ipp=stated.ipp,
        family_name=stated.family_name,
        given_name=stated.given_name,
        birth_date=stated.birth_date,
        sex=stated.sex,
    )


def note_record(
    doc: RawDocument,
    *,
    content_hash: str,
    person_id: int,
    text: str,
    mentions: Sequence[Mention],
    research: ResearchIds,
    today: date,
) -> NoteRecord:
    """A document's note for the research space: dates shifted by its patient's offset (by its
    own hash when it has no patient), its stay number replaced by the stay's keyed hash.

    ``person_id`` is :data:`~hopia.data.omop.writer.UNKNOWN_PERSON` for a document without a
    patient; ``text`` and ``mentions`` are the pseudonymised text and what NLP found in it."""
    ipp = doc.patient_ipp
    note_date = research.shift(doc.doc_date or today, ipp or content_hash)
    stay = None
    if doc.visit_id and ipp and person_id != UNKNOWN_PERSON:
        stay = StayRecord(
            research_id=research.stay(doc.visit_id),
            start=research.shift(doc.visit_start, ipp) if doc.visit_start else None,
            end=research.shift(doc.visit_end, ipp) if doc.visit_end else None,
            service=doc.service,
        )
    return NoteRecord(
        person_id=person_id,
        note_date=note_date,
        doc_type=doc.doc_type,
        text=text,
        source_value=f"doc:{content_hash[:16]}",
        mentions=mentions,
        stay=stay,
    )

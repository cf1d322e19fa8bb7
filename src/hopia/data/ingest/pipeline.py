"""The ingest pipeline: read -> pseudonymise -> NLP -> write, one transaction per batch.

- Idempotent: a document is identified by the sha256 of its patient, date, type and text;
  one already in the warehouse is counted as a duplicate and skipped.
- Transactional: the computing (pseudonymisation, NLP) happens before the batch transaction, and
  everything a batch writes (identities, documents, notes, mentions, facts, provenance) commits
  together. A crash leaves whole batches only; a rerun finishes the rest with exact counts.
- Bad input never stops the batch: an unreadable file or record becomes a ``document`` row with
  status ``error`` and its reason (one per source, updated on rerun), and is reported.
- Two spaces: the original text and identities go to ``hopia_id``; ``omop`` only receives
  pseudonymised text, pseudonymous person ids and dates shifted by the patient's secret offset.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import signal
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, select, update

from hopia.data.ingest.readers import iter_paths, read_path
from hopia.data.ingest.worker import Analysis, ModelWorker
from hopia.data.omop import concepts as c
from hopia.data.omop.mapping import (
    ID_COLUMN,
    Mention,
    NoteContext,
    coded_concept,
    fact_row,
    note_nlp_row,
    target_table,
)
from hopia.data.pseudo.pseudonymiser import PseudoResult
from hopia.data.pseudo.vault import Vault
from hopia.data.records import PatientIdentity, RawDocument, ReadFailure, merge_identity
from hopia.data.records.patients import read_patients
from hopia.platform.exceptions import IngestError
from hopia.platform.warehouse import Warehouse, schema
from hopia.platform.warehouse.schema import IPP_MAX

NER_SHARE_STEP = 0.1  # how fast the clinical NER's share moves between the two processes
log = logging.getLogger(__name__)

UNKNOWN_PERSON = 0  # note.person_id for a document whose patient is not identified
ER_TYPES = {"urgences", "passage aux urgences"}
OUTPATIENT_TYPES = {"consultation", "ordonnance", "biologie"}

# (pseudonymised texts, the clinical NER's spans in them or None each) -> mentions per text
ExtractFn = Callable[
    [Sequence[str], Sequence[list[tuple[int, int, str]] | None]], Iterable[list[Mention]]
]


@dataclass
class IngestReport:
    added: int = 0
    duplicates: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    patients: int = 0
    entities: Counter[str] = field(default_factory=Counter)
    qualifiers: Counter[str] = field(default_factory=Counter)
    facts: Counter[str] = field(default_factory=Counter)
    characters: int = 0
    seconds: float = 0.0

    @property
    def docs_per_second(self) -> float:
        return self.added / self.seconds if self.seconds else 0.0


@dataclass
class _Prepared:
    doc: RawDocument
    content_hash: str
    patient_key: str | None
    pseudo_text: str = ""
    phi: list[Any] = field(default_factory=list)
    surrogates: list[str] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    model_spans: list[Any] | None = None  # PHI model output, when computed in the worker
    # Clinical NER output, when computed in the worker: (start, end, group) in the original
    # text, then in the pseudonymised one.
    ner_spans: list[tuple[int, int, str]] | None = None


@dataclass
class _Batch:
    todo: list[_Prepared]  # documents not yet in the warehouse
    model: Future | None  # the worker's Analysis of ``todo`` (PHI model, clinical NER)
    size: int  # documents read, for the progress bar


def content_hash(doc: RawDocument) -> str:
    key = "\x1f".join(
        [
            doc.patient_ipp or "",
            doc.doc_date.isoformat() if doc.doc_date else "",
            doc.doc_type or "",
        ]
    )
    return hashlib.sha256(f"{key}\x1e{doc.text}".encode()).hexdigest()


def _error_hash(source_ref: str) -> str:
    return hashlib.sha256(f"error\x1e{source_ref}".encode()).hexdigest()


class IngestPipeline:
    """Runs documents through pseudonymisation and NLP into the warehouse.

    Parameters
    ----------
    warehouse:
        The open warehouse.
    pseudonymiser:
        A ``hopia.data.pseudo.Pseudonymiser``.
    extract:
        Turns a batch of (pseudonymised) texts into mentions, e.g. ``hopia.data.nlp.extract``;
        its second argument carries the clinical NER's spans when the worker computed them.
    system:
        Name and version of the NLP system, written to ``note_nlp.nlp_system`` and provenance.
    batch_size:
        Documents per NLP batch and per transaction.
    vault:
        Where surrogates and date offsets are kept, encrypted, for re-identification.
    model_worker:
        Runs the pseudonymiser's statistical model and/or the clinical NER in another process,
        one batch ahead.
    """

    def __init__(
        self,
        warehouse: Warehouse,
        pseudonymiser: Any,
        extract: ExtractFn,
        system: str,
        secret: bytes,
        batch_size: int = 32,
        vault: Vault | None = None,
        model_worker: ModelWorker | None = None,
    ) -> None:
        self.wh = warehouse
        self.pseudonymiser = pseudonymiser
        self.extract = extract
        self.system = system
        self.secret = secret
        self.batch_size = batch_size
        self.vault = vault
        self.model_worker = model_worker
        self.concepts = c.ConceptResolver(warehouse)
        self._crash_after = _fault_injection()
        self._batches = 0
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hopia-writer")
        self._inflight: tuple[Future, list[_Prepared], IngestReport] | None = None
        self._ner_share = 1.0  # of each batch's clinical NER done by the worker, see _balance
        # Identities carried by documents of this run (HL7 PID, FHIR Patient), merged over the
        # registry, so that a batch never pseudonymises with less than what is already known.
        self._run_identities: dict[str, PatientIdentity] = {}

    # -- public API ---------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the writer thread and the model worker process."""
        self._wait()
        self._writer.shutdown(wait=True)
        if self.model_worker is not None:
            self.model_worker.close()

    def __enter__(self) -> IngestPipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load_patients(self, path: Path) -> int:
        """Load a patient registry (JSONL or CSV) into the identified space, in one transaction."""
        identities = list(read_patients(path))
        with self.wh.begin() as conn:
            self._upsert_identities(conn, identities)
        return len(identities)

    def run(
        self, paths: Sequence[Path], on_progress: Callable[[int], None] | None = None
    ) -> IngestReport:
        report = IngestReport()
        started = datetime.now()
        run_id = self._start_run(started, paths)
        pending: list[_Prepared] = []
        seen: set[str] = set()
        # Batches whose PHI model runs in the worker while the previous one goes through NLP.
        ahead: deque[_Batch] = deque()
        try:
            for item in self._stream(paths, report, run_id):
                digest = content_hash(item)
                if digest in seen:
                    report.duplicates += 1
                    continue
                seen.add(digest)
                pending.append(_Prepared(item, digest, item.patient_ipp))
                if len(pending) >= self.batch_size:
                    ahead.append(self._start(pending, report))
                    pending = []
                    if len(ahead) > 1:
                        self._flush(ahead.popleft(), report, run_id, on_progress)
            if pending:
                ahead.append(self._start(pending, report))
            while ahead:
                self._flush(ahead.popleft(), report, run_id, on_progress)
            self._wait()
        except BaseException:
            # Keep what was committed on the record; the original error is the one to show.
            with contextlib.suppress(Exception):
                self._wait()
            with contextlib.suppress(Exception):
                self._finish_run(run_id, report, status="failed")
            raise
        report.seconds = (datetime.now() - started).total_seconds()
        self._finish_run(run_id, report)
        return report

    # -- reading ------------------------------------------------------------------------------

    def _stream(
        self, paths: Sequence[Path], report: IngestReport, run_id: int
    ) -> Iterator[RawDocument]:
        for path in iter_paths(paths):
            try:
                for item in read_path(path):
                    reason = item.reason if isinstance(item, ReadFailure) else _refusal(item)
                    if reason is None:
                        yield item
                        continue
                    self._record_error(
                        item.source_ref, item.source_path, item.format, reason, run_id, report
                    )
            except IngestError as exc:
                self._record_error(str(path), str(path), "inconnu", exc.reason, run_id, report)
            except (RecursionError, MemoryError, ValueError, OSError, LookupError) as exc:
                # A reader bug or a pathological file (deep nesting...) fails this file only.
                reason = f"fichier illisible ({type(exc).__name__})"
                self._record_error(str(path), str(path), "inconnu", reason, run_id, report)

    def _record_error(
        self,
        source_ref: str,
        source_path: str,
        fmt: str,
        reason: str,
        run_id: int,
        report: IngestReport,
    ) -> None:
        report.errors.append((source_ref, reason))
        self._wait()  # one writer at a time: ids are allocated from the committed maximum
        digest = _error_hash(source_ref)
        doc = schema.document
        with self.wh.begin() as conn:
            conn.execute(delete(doc).where(doc.c.content_hash == digest))
            conn.execute(
                doc.insert().values(
                    document_id=self.wh.next_id(conn, doc, "document_id"),
                    content_hash=digest,
                    source_path=source_path,
                    source_ref=source_ref,
                    format=fmt[:20],
                    status="error",
                    error=reason,
                    run_id=run_id,
                    ingested_at=datetime.now(),
                )
            )

    # -- batches ------------------------------------------------------------------------------

    def _start(self, batch: list[_Prepared], report: IngestReport) -> _Batch:
        """Drop what the warehouse already has, and start the PHI model on the rest."""
        with self.wh.engine.connect() as conn:
            done = self._present(conn, [p.content_hash for p in batch])
        todo = [p for p in batch if p.content_hash not in done]
        report.duplicates += len(batch) - len(todo)
        model = None
        if todo and self.model_worker is not None:
            ner_count = round(self._ner_share * len(todo))
            try:
                model = self.model_worker.submit([p.doc.text for p in todo], ner_count)
            except BrokenProcessPool:  # died since the last batch
                self._lose_worker()
        return _Batch(todo, model, len(batch))

    def _flush(
        self,
        batch: _Batch,
        report: IngestReport,
        run_id: int,
        on_progress: Callable[[int], None] | None,
    ) -> None:
        analysis = self._analysis(batch)
        if analysis is not None:
            for i, p in enumerate(batch.todo):
                if analysis.phi is not None:
                    p.model_spans = analysis.phi[i]
                if analysis.clinical_ner is not None:
                    p.ner_spans = analysis.clinical_ner[i]
        todo = self._compute(batch.todo, report, run_id) if batch.todo else []
        if todo:
            self._wait()
            # Write this batch while the next one is computed: the insert work runs in DuckDB
            # or PostgreSQL without the GIL, on the second core.
            self._inflight = (self._writer.submit(self._commit, todo, run_id), todo, report)
        if on_progress:
            on_progress(batch.size)

    def _analysis(self, batch: _Batch) -> Analysis | None:
        """The worker's results for ``batch``; None when it has none or the worker died.

        A worker that died (killed by the system for memory, say) is not restarted: the rest
        of the run computes the PHI model and the clinical NER in this process, slower but
        complete (the pseudonymiser and the NLP pipe run them when given nothing)."""
        if batch.model is None:
            return None
        self._balance(worker_was_done=batch.model.done())
        try:
            return batch.model.result()
        except BrokenProcessPool:
            self._lose_worker()
            return None

    def _lose_worker(self) -> None:
        if self.model_worker is not None:
            log.warning("processus des modèles arrêté : la suite tourne dans ce processus")
            self.model_worker.close(wait=False)
            self.model_worker = None

    def _balance(self, worker_was_done: bool) -> None:
        """Share the clinical NER between the worker and this process so that neither waits.

        The worker runs it on ``_ner_share`` of each batch, this process on the rest (the pipe
        runs its model when no spans are given). A worker that finished before it was needed
        had idle time: give it more; one that made this process wait: give it less."""
        if self.model_worker is None or not self.model_worker.clinical_ner:
            return
        step = NER_SHARE_STEP if worker_was_done else -NER_SHARE_STEP
        self._ner_share = min(1.0, max(0.0, self._ner_share + step))

    def _commit(self, todo: list[_Prepared], run_id: int) -> tuple[Counter[str], set[str]]:
        """Write one batch in one transaction (runs in the writer thread).

        The duplicate check is repeated under the writer lock: another process may have
        committed the same documents since this batch was read."""
        try:
            with self.wh.begin() as conn:
                present = self._present(conn, [p.content_hash for p in todo])
                fresh = [p for p in todo if p.content_hash not in present]
                facts = self._write(conn, fresh, run_id) if fresh else Counter()
                self._maybe_crash()
        except BaseException:
            self.concepts.forget()
            raise
        return facts, present

    @staticmethod
    def _present(conn: Connection, hashes: list[str]) -> set[str]:
        doc = schema.document
        found = conn.execute(select(doc.c.content_hash).where(doc.c.content_hash.in_(hashes)))
        return set(found.scalars())

    def _wait(self) -> None:
        """Wait for the batch being written; count it, or re-raise its error."""
        if self._inflight is None:
            return
        future, todo, report = self._inflight
        self._inflight = None
        facts, present = future.result()
        report.facts.update(facts)
        report.duplicates += len(present)
        todo = [p for p in todo if p.content_hash not in present]
        report.added += len(todo)
        for p in todo:
            report.characters += len(p.doc.text)
            for m in p.mentions:
                report.entities[m.label] += 1
                report.qualifiers[_qualifier(m)] += 1

    def _compute(
        self, batch: list[_Prepared], report: IngestReport, run_id: int
    ) -> list[_Prepared]:
        """Pseudonymise then run NLP on the pseudonymised text, outside any transaction.

        Returns the documents that went through; one that makes a stage fail is recorded as an
        error and left out, the others go on.
        """
        registry = self._identities({p.patient_key for p in batch if p.patient_key})
        for p in batch:  # what documents say about their patient, merged over the registry
            if p.doc.patient:
                ipp = p.doc.patient.ipp
                base = self._run_identities.get(ipp) or registry.get(ipp)
                self._run_identities[ipp] = merge_identity(base, p.doc.patient)
        done: list[_Prepared] = []
        for p in batch:
            key = p.patient_key or p.content_hash
            identity = self._run_identities.get(key) or registry.get(key)
            try:
                result = self.pseudonymiser.pseudonymise(
                    p.doc.text,
                    identity=identity,
                    patient_key=key,
                    staff=p.doc.staff,
                    model_spans=p.model_spans,
                )
            except Exception as exc:  # one document must not stop the batch
                reason = f"pseudonymisation impossible ({type(exc).__name__})"
                self._record_error(
                    p.doc.source_ref, p.doc.source_path, p.doc.format, reason, run_id, report
                )
                continue
            p.pseudo_text, p.phi, p.surrogates = result.pseudo_text, result.spans, result.surrogates
            if p.ner_spans is not None:
                p.ner_spans = result.to_pseudo_offsets(p.ner_spans)
            done.append(p)
        try:
            texts, ner = [p.pseudo_text for p in done], [p.ner_spans for p in done]
            mentions = list(self.extract(texts, ner))
        except Exception:  # find the failing document, keep the others
            mentions = []
            for p in list(done):
                try:
                    mentions.extend(self.extract([p.pseudo_text], [p.ner_spans]))
                except Exception as exc:
                    reason = f"analyse TAL impossible ({type(exc).__name__})"
                    self._record_error(
                        p.doc.source_ref, p.doc.source_path, p.doc.format, reason, run_id, report
                    )
                    done.remove(p)
        for p, found in zip(done, mentions, strict=True):
            p.mentions = _without_ner_on_surrogates(
                found, PseudoResult(p.pseudo_text, p.phi, p.surrogates)
            )
        return done

    def _write(self, conn: Connection, batch: list[_Prepared], run_id: int) -> Counter[str]:
        self._upsert_identities(conn, [p.doc.patient for p in batch if p.doc.patient])
        persons = self._person_ids(conn, {p.patient_key for p in batch if p.patient_key})
        self.concepts.ensure_standard(conn)
        codes = {cc for p in batch for m in p.mentions if (cc := coded_concept(m))}
        concept_ids = self.concepts.resolve(conn, codes)
        ids = _IdAllocator(self.wh, conn)
        visits = _Visits.load(conn, set(persons.values()))
        rows: dict[str, list[dict]] = {t: [] for t in (*ID_COLUMN, "note", "document", "phi_span")}
        provenance: list[dict] = []
        facts: Counter[str] = Counter()
        now = datetime.now()
        for p in batch:
            person_id = persons.get(p.patient_key or "", UNKNOWN_PERSON)
            shift_key = p.patient_key or p.content_hash
            doc_date = p.doc.doc_date or now.date()
            note_date = self.pseudonymiser.shift_date(doc_date, shift_key)
            visit_id = (
                self._visit(visits, ids, person_id, note_date, p.doc)
                if person_id != UNKNOWN_PERSON
                else None
            )
            note_id, document_id = ids.next("note"), ids.next("document")
            rows["document"].append(
                {
                    "document_id": document_id,
                    "content_hash": p.content_hash,
                    "source_path": p.doc.source_path,
                    "source_ref": p.doc.source_ref,
                    "format": p.doc.format,
                    "status": "done",
                    "external_id": p.doc.external_id,
                    "ipp": p.patient_key,
                    "doc_date": p.doc.doc_date,
                    "doc_type": (p.doc.doc_type or "")[:100] or None,
                    "text": p.doc.text,
                    "note_id": note_id,
                    "run_id": run_id,
                    "ingested_at": now,
                }
            )
            rows["note"].append(
                {
                    "note_id": note_id,
                    "person_id": person_id,
                    "note_date": note_date,
                    "note_type_concept_id": c.EHR,
                    "note_class_concept_id": 0,
                    "note_title": (p.doc.doc_type or "")[:250] or None,
                    "note_text": p.pseudo_text,
                    "encoding_concept_id": 0,
                    "language_concept_id": 0,
                    "visit_occurrence_id": visit_id,
                    "note_source_value": f"doc:{p.content_hash[:16]}",
                }
            )
            rows["phi_span"].extend(
                {
                    "document_id": document_id,
                    "start_char": s.start,
                    "end_char": s.end,
                    "label": s.label,
                    "source": s.source,
                    "surrogate": surrogate,
                }
                for s, surrogate in zip(p.phi, p.surrogates, strict=True)
            )
            ctx = NoteContext(note_id, person_id, visit_id, note_date)
            for m in p.mentions:
                code = coded_concept(m)
                concept_id = concept_ids[code] if code else 0
                nlp_id = ids.next("note_nlp")
                rows["note_nlp"].append(
                    note_nlp_row(m, ctx, nlp_id, concept_id, self.system, p.pseudo_text)
                )
                table = target_table(m) if person_id != UNKNOWN_PERSON else None
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
                    facts[table] += 1
        # Errors previously recorded for these sources are resolved now.
        refs = [p.doc.source_ref for p in batch] + [p.doc.source_path for p in batch]
        conn.execute(
            delete(schema.document).where(
                schema.document.c.status == "error",
                schema.document.c.source_ref.in_(refs),
                # errors of this run concern other records of the same file: they stay
                schema.document.c.run_id != run_id,
            )
        )
        self.wh.insert_rows(conn, schema.CDM["visit_occurrence"], visits.new)
        self.wh.insert_rows(conn, schema.document, rows.pop("document"))
        self.wh.insert_rows(conn, schema.phi_span, rows.pop("phi_span"))
        if self.vault is not None:  # surrogate -> original, encrypted, same transaction
            results = [
                (p.patient_key or p.content_hash, PseudoResult(p.pseudo_text, p.phi, p.surrogates))
                for p in batch
            ]
            self.vault.store_many(conn, results, self.pseudonymiser.date_offset_days)
        for table, table_rows in rows.items():
            self.wh.insert_rows(conn, schema.CDM[table], table_rows)
        self.wh.insert_rows(conn, schema.provenance, provenance)
        return facts

    def _maybe_crash(self) -> None:
        """Fault injection for the crash-and-resume test: die inside the open transaction."""
        self._batches += 1
        if self._crash_after and self._batches >= self._crash_after:
            os.kill(os.getpid(), signal.SIGKILL)

    # -- identities, persons, visits ----------------------------------------------------------

    def _identities(self, ipps: set[str]) -> dict[str, PatientIdentity]:
        if not ipps:
            return {}
        t = schema.patient
        with self.wh.engine.connect() as conn:
            rows = conn.execute(select(t).where(t.c.ipp.in_(sorted(ipps)))).mappings().all()
        fields = PatientIdentity.__dataclass_fields__
        return {r["ipp"]: PatientIdentity(**{k: r[k] for k in fields}) for r in rows}

    def _person_ids(self, conn: Connection, ipps: set[str]) -> dict[str, int]:
        """person_id of each IPP, registering the IPPs never seen before.

        A patient known only by IPP gets its person_id reserved at once, and its notes and facts
        use it; the ``person`` row itself is written when a birth date becomes known (OMOP
        requires year_of_birth), which links everything already written."""
        if not ipps:
            return {}
        t = schema.patient
        known = dict(
            conn.execute(select(t.c.ipp, t.c.person_id).where(t.c.ipp.in_(sorted(ipps)))).all()
        )
        missing = [PatientIdentity(ipp=ipp) for ipp in sorted(ipps) if ipp not in known]
        if missing:
            self._upsert_identities(conn, missing)
            known.update(
                conn.execute(select(t.c.ipp, t.c.person_id).where(t.c.ipp.in_(sorted(ipps)))).all()
            )
        return {ipp: int(pid) for ipp, pid in known.items()}

    def _upsert_identities(self, conn: Connection, identities: list[PatientIdentity]) -> None:
        if not identities:
            return
        t, person = schema.patient, schema.CDM["person"]
        self.concepts.ensure_standard(conn)
        latest = {i.ipp: i for i in identities}  # the last statement about a patient wins
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
            values = {k: getattr(ident, k) for k in PatientIdentity.__dataclass_fields__}
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
            if birth_date is None:
                continue
            row = self._person_row(person_id, ipp, birth_date, sex)
            has_row = conn.execute(
                select(person.c.person_id).where(person.c.person_id == person_id)
            ).first()
            if has_row:  # update in place: other columns may come from other sources
                conn.execute(update(person).where(person.c.person_id == person_id).values(**row))
            else:
                conn.execute(person.insert().values(**row))

    def _person_row(self, person_id: int, ipp: str, birth_date: date, sex: str | None) -> dict:
        shifted = self.pseudonymiser.shift_date(birth_date, ipp)
        return {
            "person_id": person_id,
            "gender_concept_id": {"M": c.MALE, "F": c.FEMALE}.get(sex or "", c.UNKNOWN),
            "year_of_birth": shifted.year,
            "month_of_birth": shifted.month,
            "race_concept_id": 0,
            "ethnicity_concept_id": 0,
            "person_source_value": self.pseudonymous_id(ipp),
            "gender_source_value": sex,
        }

    def pseudonymous_id(self, ipp: str) -> str:
        """Stable research identifier for a patient; not reversible without the secret."""
        return "P" + hmac.new(self.secret, ipp.encode(), hashlib.sha256).hexdigest()[:15]

    def pseudonymous_stay_id(self, visit_id: str) -> str:
        """Research identifier of a stay (``visit_source_value``): the NDA is an identifier and
        never reaches ``omop``; keyed apart from patient ids."""
        message = f"visit\x1f{visit_id}".encode()
        return "V" + hmac.new(self.secret, message, hashlib.sha256).hexdigest()[:15]

    def _visit(
        self, visits: _Visits, ids: _IdAllocator, person_id: int, day: date, doc: RawDocument
    ) -> int:
        """The document's visit: its stay when the source gives a stay number (``visit_id``),
        else one visit per patient, day (``day``: the shifted note date) and document type."""
        source = (doc.doc_type or "document")[:50]
        concept = _visit_concept(source)
        if doc.visit_id:
            return self._stay(visits, ids, person_id, day, doc, concept)
        key = (person_id, day, source)
        if key in visits.known:
            return visits.known[key]
        visit_id = ids.next("visit_occurrence")
        visits.known[key] = visit_id
        visits.new.append(
            {
                "visit_occurrence_id": visit_id,
                "person_id": person_id,
                "visit_concept_id": concept,
                "visit_start_date": day,
                "visit_end_date": day,
                "visit_type_concept_id": c.EHR,
                "visit_source_value": source,
                "care_site_id": None,
            }
        )
        return visit_id

    def _stay(
        self,
        visits: _Visits,
        ids: _IdAllocator,
        person_id: int,
        day: date,
        doc: RawDocument,
        concept: int,
    ) -> int:
        """One visit per stay, dated by the stay's admission and discharge when the source gives
        them (else by its documents), shifted like the note dates; a later document of the stay
        widens its dates and may raise its level (consultation < ER < inpatient)."""
        # _write shifts the note date with the patient key, the IPP of any document with a person.
        shift_key = doc.patient_ipp or ""
        start = (
            self.pseudonymiser.shift_date(doc.visit_start, shift_key) if doc.visit_start else None
        )
        end = self.pseudonymiser.shift_date(doc.visit_end, shift_key) if doc.visit_end else None
        start = start or min(day, end or day)
        end = end or max(day, start)
        site = visits.care_site(doc.service) if doc.service else None
        key = (person_id, self.pseudonymous_stay_id(doc.visit_id or ""))
        row = visits.stays.get(key)
        if row is not None:
            visits.widen(row, start, end, concept, site)
            return int(row["visit_occurrence_id"])
        row = {
            "visit_occurrence_id": ids.next("visit_occurrence"),
            "person_id": person_id,
            "visit_concept_id": concept,
            "visit_start_date": start,
            "visit_end_date": end,
            "visit_type_concept_id": c.EHR,
            "visit_source_value": key[1],
            "care_site_id": site,
        }
        visits.stays[key] = row
        visits.new.append(row)
        return int(row["visit_occurrence_id"])

    # -- runs ---------------------------------------------------------------------------------

    def _start_run(self, started: datetime, paths: Sequence[Path]) -> int:
        with self.wh.begin() as conn:
            run_id = self.wh.next_id(conn, schema.run, "run_id")
            conn.execute(
                schema.run.insert().values(
                    run_id=run_id,
                    command=f"ingest ({len(paths)} chemin(s))",
                    system=self.system,
                    started_at=started,
                    status="running",
                )
            )
        return run_id

    def _finish_run(self, run_id: int, report: IngestReport, status: str = "done") -> None:
        summary = f"added={report.added} duplicates={report.duplicates} errors={len(report.errors)}"
        with self.wh.begin() as conn:
            conn.execute(
                update(schema.run)
                .where(schema.run.c.run_id == run_id)
                .values(finished_at=datetime.now(), status=status, summary=summary)
            )


# How much care a visit concept means: a stay takes the level of its most intensive document,
# and a stay with both emergency and inpatient documents is OMOP's "ER and inpatient" visit.
_VISIT_LEVEL = {
    c.OUTPATIENT_VISIT: 0,
    c.ER_VISIT: 1,
    c.INPATIENT_VISIT: 2,
    c.ER_AND_INPATIENT_VISIT: 3,
}


def _stay_concept(current: int, new: int) -> int:
    """The visit concept of a stay that had ``current`` and gets a document meaning ``new``."""
    if {current, new} == {c.ER_VISIT, c.INPATIENT_VISIT}:
        return c.ER_AND_INPATIENT_VISIT
    return max(current, new, key=lambda k: _VISIT_LEVEL.get(k, -1))


def _visit_concept(doc_type: str) -> int:
    kind = doc_type.lower()
    if kind in ER_TYPES:
        return c.ER_VISIT
    return c.OUTPATIENT_VISIT if kind in OUTPATIENT_TYPES else c.INPATIENT_VISIT


@dataclass
class _Visits:
    """Visits of a batch's patients: those already in the warehouse, and the new ones.

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
        when it means more care than the stay's so far."""
        changes: dict[str, Any] = {}
        if start < row["visit_start_date"]:
            changes["visit_start_date"] = start
        if end > row["visit_end_date"]:
            changes["visit_end_date"] = end
        current = row["visit_concept_id"]
        combined = _stay_concept(current, concept) if current in _VISIT_LEVEL else current
        if combined != current:
            changes["visit_concept_id"] = combined
            if site is not None and concept != c.ER_VISIT:  # the ward's service, not the ER's
                changes["care_site_id"] = site
        elif site is not None and row["care_site_id"] is None:
            changes["care_site_id"] = site
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
        """``care_site_id`` of a service, created the first time it is seen (a unit's name is
        not an identifier of the patient)."""
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


class _IdAllocator:
    """Hands out the next identifiers of each table within one transaction."""

    TABLES = {
        "note": (lambda: schema.CDM["note"], "note_id"),
        "document": (lambda: schema.document, "document_id"),
        "visit_occurrence": (lambda: schema.CDM["visit_occurrence"], "visit_occurrence_id"),
        **{t: (lambda t=t: schema.CDM[t], col) for t, col in ID_COLUMN.items()},
    }

    def __init__(self, wh: Warehouse, conn: Connection) -> None:
        self.wh, self.conn = wh, conn
        self._next: dict[str, int] = {}

    def next(self, name: str) -> int:
        if name not in self._next:
            table, column = self.TABLES[name]
            self._next[name] = self.wh.next_id(self.conn, table(), column)
        value = self._next[name]
        self._next[name] += 1
        return value


def _refusal(doc: RawDocument) -> str | None:
    """Why a document read correctly still cannot be stored, or None."""
    if doc.patient_ipp and len(doc.patient_ipp) > IPP_MAX:
        return f"IPP trop long ({len(doc.patient_ipp)} caractères, {IPP_MAX} au plus)"
    if not _is_unicode(doc.text):
        return "texte invalide (caractères hors Unicode)"
    if not doc.text.strip():
        return "document vide"
    return None


def _is_unicode(text: str) -> bool:
    """False for lone surrogates (e.g. JSON "\\ud800"), which no database can store."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _fault_injection() -> int:
    """Batch count after which the crash-and-resume test kills the process, mid-transaction.
    Honoured only under pytest, so a stray variable can never kill a production ingest."""
    if "PYTEST_CURRENT_TEST" not in os.environ:
        return 0
    value = os.environ.get("HOPIA_FAULT_KILL_IN_BATCH", "")
    return int(value) if value.isdigit() else 0


def _without_ner_on_surrogates(mentions: list[Mention], result: PseudoResult) -> list[Mention]:
    """The clinical NER's mentions that touch a surrogate removed (a town or a name the model
    took for a disorder): what the worker's path does by construction (``to_pseudo_offsets``),
    so a document gets the same treatment whichever process ran its NER."""
    replaced = [(s.start, s.end) for s in result.pseudo_spans()]
    if not replaced:
        return mentions
    return [
        m
        for m in mentions
        if m.pipe != "clinical_ner" or not any(a < m.end and m.start < b for a, b in replaced)
    ]


def _qualifier(m: Mention) -> str:
    if m.negation:
        return "negated"
    if m.hypothesis:
        return "hypothetical"
    if m.family:
        return "family"
    return "affirmed"

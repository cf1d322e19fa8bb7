"""The ingest pipeline: read -> pseudonymise -> NLP -> write, one transaction per batch.

- Idempotent: a document is identified by the sha256 of its patient, date, type and text;
  one already in the warehouse is counted as a duplicate and skipped.
- Transactional: the computing (pseudonymisation, NLP) happens before the batch transaction, and
  everything a batch writes (identities, documents, notes, mentions, facts, provenance) commits
  together. A crash leaves whole batches only; a rerun finishes the rest with exact counts.
- Bad input never stops the batch: an unreadable file or record becomes a ``document`` row with
  status ``error`` and its reason (one per source, updated on rerun), and is reported. A file
  over ``max_file_bytes`` or a document over ``max_document_chars`` is one such error. A file
  name that is not valid UTF-8 is stored and reported in its printable form
  (:func:`hopia.platform.pathnames.printable`), the same on every rerun.
- Two spaces: the original text and identities go to ``hopia_id``; ``omop`` only receives
  pseudonymised text, pseudonymous person ids and dates shifted by the patient's secret offset.

This module composes the parts, each in its own module: :mod:`.batches` (look-ahead, writer
thread, models worker), :mod:`.analysis` (pseudonymisation and NLP of a batch),
:mod:`.identities` (patients and their research ids), :mod:`.runs` (runs and error rows) and
:class:`hopia.data.omop.writer.OmopWriter` (everything written to ``omop``).
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from hopia.data.ingest.analysis import (
    Analyser,
    ExtractFn,
    NerFn,
    Prepared,
    apply,
    qualifier,
    refusal,
)
from hopia.data.ingest.batches import BackgroundWriter, CrashPoint, Lookahead, ModelShare
from hopia.data.ingest.identities import Identities, note_record
from hopia.data.ingest.ocr import doubts as ocr_doubts
from hopia.data.ingest.readers import iter_paths, read_path
from hopia.data.ingest.runs import ErrorRecord, IngestReport, Runs
from hopia.data.ingest.worker import Analysis, ModelWorker
from hopia.data.omop.research_ids import ResearchIds
from hopia.data.omop.writer import UNKNOWN_PERSON, OmopWriter
from hopia.data.pseudo.vault import Vault
from hopia.data.records import RawDocument, ReadFailure
from hopia.platform.exceptions import SourceError
from hopia.platform.pathnames import is_printable, printable
from hopia.platform.warehouse import Warehouse, schema

#: ``hopia_provenance.table_name`` of a note on which an NLP pipe failed (``row_id`` is the
#: note's id, ``system`` ends with the pipe and the error class).
PIPE_ERROR_TABLE = "nlp_pipe_error"

__all__ = ["IngestPipeline", "IngestReport"]


@dataclass
class _Batch:
    todo: list[Prepared]  # documents not yet in the warehouse
    model: Future[Analysis] | None  # the worker's analysis of ``todo`` (PHI model, NER)
    size: int  # documents read, for the progress bar


def _cpu_now() -> float:
    """CPU seconds of this process (every thread: the writer's too) and of the children it has
    waited for (Tesseract's OCR); the models worker is counted apart (it is not waited for
    until the pipeline closes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


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
    secret:
        The pseudonymisation secret, keying the research ids.
    batch_size:
        Documents per NLP batch and per transaction.
    vault:
        Where surrogates and date offsets are kept, encrypted, for re-identification.
    model_worker:
        Runs the pseudonymiser's statistical model and/or the clinical NER in another process,
        one batch ahead.
    clinical_ner:
        The clinical NER on original texts, for the documents the worker leaves to this process
        (see :class:`~hopia.data.ingest.analysis.Analyser`).
    max_document_chars:
        Longest document text accepted (``data.ingest.max_document_chars``); a longer one is
        one error naming the file and the limit, the run goes on.
    max_file_bytes:
        Largest file read whole (``data.ingest.max_file_bytes``); streamed formats (JSON
        Lines) are bounded per record instead.
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
        clinical_ner: NerFn | None = None,
        max_document_chars: int | None = None,
        max_file_bytes: int | None = None,
    ) -> None:
        self.wh = warehouse
        self.pseudonymiser = pseudonymiser
        self.system = system
        self.batch_size = batch_size
        self.vault = vault
        self.research = ResearchIds(secret, pseudonymiser.shift_date)
        self.omop = OmopWriter(warehouse, system)
        self.identities = Identities(warehouse, self.omop, self.research)
        self.analyser = Analyser(pseudonymiser, extract, clinical_ner)
        self.runs = Runs(warehouse, system)
        self.models = ModelShare(model_worker)
        self.writer = BackgroundWriter()
        self._crash = CrashPoint()
        # Doubts about a document read (header identity, date, OCR), by source: counted when
        # the document is added, not for a duplicate or a document already stored.
        self._doubts: dict[str, tuple[str, ...]] = {}
        self.max_document_chars = max_document_chars
        self.max_file_bytes = max_file_bytes

    @property
    def model_worker(self) -> ModelWorker | None:
        """The models worker, None when there is none or it died."""
        return self.models.worker

    # -- public API ---------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the writer thread and the model worker process."""
        try:
            self.writer.close()
        finally:
            self.models.close()

    def __enter__(self) -> IngestPipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load_patients(self, path: Path) -> int:
        """Load a patient registry (JSONL or CSV) into the identified space, in one transaction."""
        return self.identities.load(path)

    def run(
        self,
        paths: Sequence[Path],
        on_progress: Callable[[int], None] | None = None,
        *,
        report: IngestReport | None = None,
        on_finish: Callable[[Connection, IngestReport, str], None] | None = None,
        patients: Path | None = None,
        on_patients: Callable[[Connection, int], None] | None = None,
    ) -> IngestReport:
        """Ingest every file under ``paths``.

        ``report``: filled in as the run goes (a caller may keep it to see the counts of a run
        that failed); ``on_finish(conn, report, status)`` runs in the transaction that closes
        the run, ``status`` ``"done"`` or ``"failed"`` (the service's audit entry).
        ``patients``: a registry loaded first, under the same lease, in one transaction with
        ``on_patients(conn, n)`` (its audit entry): a refused run writes no identity."""
        report = report if report is not None else IngestReport()
        # One ingest at a time on a warehouse: a second one is refused, naming this one.
        with self.wh.exclusive("ingestion") as lease:
            self.runs.close_dead()  # runs left "running" by a killed process
            if patients is not None:
                report.patients = self.identities.load(patients, on_patients)
            started = datetime.now()
            cpu_started = _cpu_now() - self.models.cpu_seconds()
            run_id = report.run_id = self.runs.start(paths, started)
            lease.describe(run_id)
            return self._run(paths, run_id, started, cpu_started, report, on_progress, on_finish)

    def _run(
        self,
        paths: Sequence[Path],
        run_id: int,
        started: datetime,
        cpu_started: float,
        report: IngestReport,
        on_progress: Callable[[int], None] | None,
        on_finish: Callable[[Connection, IngestReport, str], None] | None,
    ) -> IngestReport:
        seen: set[str] = set()
        ahead: Lookahead[Prepared, _Batch] = Lookahead(
            self.batch_size,
            lambda batch: self._start(batch, report),
            lambda batch: self._flush(batch, report, run_id, on_progress),
        )
        try:
            for item in self._stream(paths, report, run_id):
                p = Prepared.of(item)
                if p.content_hash in seen:
                    report.duplicates += 1
                    continue
                seen.add(p.content_hash)
                ahead.add(p)
            ahead.drain()
            self.writer.wait()
        except BaseException:
            # Keep what was committed on the record; the original error is the one to show.
            with contextlib.suppress(Exception):
                self.writer.wait()
            with contextlib.suppress(Exception):
                self._finish(run_id, report, "failed", on_finish)
            raise
        report.seconds = (datetime.now() - started).total_seconds()
        report.cpu_seconds = _cpu_now() + self.models.cpu_seconds() - cpu_started
        self._finish(run_id, report, "done", on_finish)
        return report

    def _finish(
        self,
        run_id: int,
        report: IngestReport,
        status: str,
        on_finish: Callable[[Connection, IngestReport, str], None] | None,
    ) -> None:
        then = None if on_finish is None else (lambda conn: on_finish(conn, report, status))
        self.runs.finish(run_id, report, status, then)

    # -- reading ------------------------------------------------------------------------------

    def _stream(
        self, paths: Sequence[Path], report: IngestReport, run_id: int
    ) -> Iterator[RawDocument]:
        for path in iter_paths(paths):
            shown = printable(path)  # what is stored and printed; ``path`` opens the file
            try:
                for item in read_path(path, max_file_bytes=self.max_file_bytes):
                    item = _printable_source(item)
                    if isinstance(item, ReadFailure):
                        reason: str | None = item.reason
                    else:
                        reason = self._too_long(item) or refusal(item)
                    if reason is None:
                        resolved = self.identities.resolve(item)  # never a silent person 0
                        doubts = (*resolved.warnings, *ocr_doubts(item))
                        if doubts:
                            self._doubts[item.source_ref] = doubts
                        if resolved.doc is not None:
                            yield resolved.doc
                            continue
                        reason = resolved.error
                    error = ErrorRecord(item.source_ref, item.source_path, item.format, reason)
                    self._record_error(error, run_id, report)
            except SourceError as exc:
                error = ErrorRecord(shown, shown, "inconnu", exc.reason)
                self._record_error(error, run_id, report)
            except (RecursionError, MemoryError, ValueError, OSError, LookupError) as exc:
                # A reader bug or a pathological file (deep nesting...) fails this file only.
                reason = f"fichier illisible ({type(exc).__name__})"
                self._record_error(ErrorRecord(shown, shown, "inconnu", reason), run_id, report)

    def _too_long(self, doc: RawDocument) -> str | None:
        """Why ``doc`` is over the document limit, or None. Checked before any analysis: the
        NLP's time and memory grow faster than the text (1.2 MB: 342 s, 1.7 GB)."""
        limit = self.max_document_chars
        if limit is None or len(doc.text) <= limit:
            return None
        return (
            f"document trop long ({_count_fr(len(doc.text))} caractères, limite "
            f"{_count_fr(limit)} : réglage data.ingest.max_document_chars)"
        )

    def _record_error(self, error: ErrorRecord, run_id: int, report: IngestReport) -> None:
        report.errors.append((error.source_ref, error.reason))
        self.writer.wait()  # one writer at a time: ids are allocated from the committed maximum
        self.runs.record_error(error, run_id)

    # -- batches ------------------------------------------------------------------------------

    def _start(self, batch: list[Prepared], report: IngestReport) -> _Batch:
        """Drop what the warehouse already has, and start the models worker on the rest."""
        with self.wh.engine.connect() as conn:
            done = _present(conn, [p.content_hash for p in batch])
        todo = [p for p in batch if p.content_hash not in done]
        report.duplicates += len(batch) - len(todo)
        return _Batch(todo, self.models.submit([p.doc.text for p in todo]), len(batch))

    def _flush(
        self,
        batch: _Batch,
        report: IngestReport,
        run_id: int,
        on_progress: Callable[[int], None] | None,
    ) -> None:
        """Compute a batch, then hand it to the writer thread (which first finishes the
        previous one): this batch is written while the next one is computed."""
        apply(self.models.collect(batch.model), batch.todo)
        todo = []
        if batch.todo:

            def failed(p: Prepared, reason: str) -> None:
                error = ErrorRecord(p.doc.source_ref, p.doc.source_path, p.doc.format, reason)
                self._record_error(error, run_id, report)

            identities = self.identities.for_documents([p.doc for p in batch.todo])
            todo = self.analyser.analyse(batch.todo, identities, failed)
        if todo:
            self.writer.submit(
                lambda: self._commit(todo, run_id),
                lambda done: _count(report, todo, *done, doubts=self._doubts),
            )
        if on_progress:
            on_progress(batch.size)

    def _commit(self, todo: list[Prepared], run_id: int) -> tuple[Counter[str], set[str]]:
        """Write one batch in one transaction (runs in the writer thread).

        The duplicate check is repeated under the writer lock: another process may have
        committed the same documents since this batch was read."""
        try:
            with self.wh.begin() as conn:
                present = _present(conn, [p.content_hash for p in todo])
                fresh = [p for p in todo if p.content_hash not in present]
                facts = self._write(conn, fresh, run_id) if fresh else Counter()
                self._crash.reached()
        except BaseException:
            self.omop.forget()
            raise
        return facts, present

    def _write(self, conn: Connection, batch: list[Prepared], run_id: int) -> Counter[str]:
        """Identities, notes and everything OMOP, then the identified documents, their PHI
        spans and the vault, all in the batch's transaction."""
        self.identities.upsert(conn, [p.doc.patient for p in batch if p.doc.patient])
        persons = self.identities.person_ids(conn, {p.patient_key for p in batch if p.patient_key})
        ids = self.omop.ids(conn)
        now = datetime.now()
        notes = [
            note_record(
                p.doc,
                content_hash=p.content_hash,
                person_id=persons.get(p.patient_key or "", UNKNOWN_PERSON),
                text=p.pseudo_text,
                mentions=p.mentions,
                research=self.research,
                today=now.date(),
            )
            for p in batch
        ]
        written = self.omop.write_notes(conn, notes, run_id, ids)
        # An NLP pipe that failed on a note: on the record with the note's provenance (which
        # pipe, which error class; no text), the note and its other mentions kept.
        failures = [
            {
                "table_name": PIPE_ERROR_TABLE,
                "row_id": note_id,
                "note_id": note_id,
                "note_nlp_id": None,
                "run_id": run_id,
                "system": f"{self.system} / {e}"[:250],
            }
            for p, note_id in zip(batch, written.note_ids, strict=True)
            for e in p.pipe_errors
        ]
        if failures:
            self.wh.insert_rows(conn, schema.provenance, failures)
        documents: list[dict] = []
        spans: list[dict] = []
        for p, note_id in zip(batch, written.note_ids, strict=True):
            document_id = ids.next("document")
            documents.append(document_row(p, document_id, note_id, run_id, now))
            spans.extend(
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
        # Errors previously recorded for these sources are resolved now (after the document
        # ids above: they count from the committed maximum, error rows included).
        refs = [p.doc.source_ref for p in batch] + [p.doc.source_path for p in batch]
        self.runs.resolve_errors(conn, refs, run_id)
        self.wh.insert_rows(conn, schema.document, documents)
        self.wh.insert_rows(conn, schema.phi_span, spans)
        ocr = [
            {
                "document_id": d["document_id"],
                "page": o.page,
                "confidence": o.confidence,
                "low": o.low,
            }
            for d, p in zip(documents, batch, strict=True)
            for o in p.doc.ocr
        ]
        self.wh.insert_rows(conn, schema.document_ocr, ocr)
        if self.vault is not None:  # surrogate -> original, encrypted, same transaction
            results = [(p.patient_key or p.content_hash, p.pseudo) for p in batch]
            self.vault.store_many(conn, results, self.pseudonymiser.date_offset_days)
        return written.facts


def _printable_source(item: RawDocument | ReadFailure) -> RawDocument | ReadFailure:
    """``item`` with its file name in printable form (see :mod:`hopia.platform.pathnames`)."""
    if is_printable(item.source_ref) and is_printable(item.source_path):
        return item
    return replace(
        item, source_path=printable(item.source_path), source_ref=printable(item.source_ref)
    )


def _count_fr(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")  # French thousands separator (narrow no-break space)


def _present(conn: Connection, hashes: list[str]) -> set[str]:
    doc = schema.document
    found = conn.execute(select(doc.c.content_hash).where(doc.c.content_hash.in_(hashes)))
    return set(found.scalars())


def _count(
    report: IngestReport,
    todo: list[Prepared],
    facts: Counter[str],
    present: set[str],
    *,
    doubts: dict[str, tuple[str, ...]],
) -> None:
    """Count a committed batch (in the main thread); ``present``: documents another process
    committed meanwhile; ``doubts``: the warnings of the documents read, by source."""
    report.facts.update(facts)
    report.duplicates += len(present)
    for p in todo:
        warnings = doubts.pop(p.doc.source_ref, ())
        if p.content_hash in present:
            continue
        report.warnings.extend((p.doc.source_ref, w) for w in warnings)
        report.added += 1
        report.characters += len(p.doc.text)
        for e in p.pipe_errors:
            report.pipe_errors[e.pipe] += 1
        for m in p.mentions:
            report.entities[m.label] += 1
            report.qualifiers[qualifier(m)] += 1


def document_row(
    p: Prepared, document_id: int, note_id: int, run_id: int, now: datetime
) -> dict[str, Any]:
    return {
        "document_id": document_id,
        "content_hash": p.content_hash,
        "source_path": p.doc.source_path,
        "source_ref": p.doc.source_ref,
        "format": p.doc.format,
        "status": "done",
        # stored, but some NLP pipe failed on it (its other facts are there)
        "error": "; ".join(f"TAL : {e.pipe} en échec ({e.error})" for e in p.pipe_errors) or None,
        "external_id": p.doc.external_id,
        "ipp": p.patient_key,
        "doc_date": p.doc.doc_date,
        "doc_type": (p.doc.doc_type or "")[:100] or None,
        "text": p.doc.text,
        "note_id": note_id,
        "run_id": run_id,
        "ingested_at": now,
    }

"""One partition of documents through the local ingest's computing, as rows to write.

Pure Python over pandas frames, no Spark here: :mod:`.job` hands each partition to
:func:`analyse_partition` with ``mapInPandas``. A document goes through the same steps as in
:class:`hopia.data.ingest.pipeline.IngestPipeline`: read (the JSONL contract's checks), its
patient resolved, refused or too long, content hash, pseudonymisation then NLP
(:class:`~hopia.data.ingest.analysis.Analyser`), and the rows the local ingest writes, built by
the same functions (:func:`~hopia.data.ingest.identities.note_record`,
:func:`~hopia.data.omop.writer.note_row`, :func:`~hopia.data.omop.mapping.note_nlp_row`,
:func:`~hopia.data.omop.mapping.fact_row`, :func:`~hopia.data.ingest.pipeline.document_row`).

What differs is what a warehouse allocates: identifiers and concept ids. The rows carry natural
keys instead, and the loader into a warehouse allocates the ids:

- ``note_id``, ``note_nlp_id``, the facts' ids, ``document_id``: None; a note is keyed by its
  ``note_source_value`` (``doc:`` + the content hash's first 16 digits), a mention by
  (``note_source_value``, ``mention_index``: its rank in the note), an identified row by its
  ``content_hash``;
- ``person_id``: None, with ``person_source_value`` (the patient's pseudonymous id);
- ``visit_occurrence_id``: None, with ``visit_source_value`` (the stay's keyed hash, or the
  document type of a per-day visit, as the local ingest writes them) and ``visit_key``
  (``stay:`` + the stay's hash, or ``day:`` + the shifted day + ``:`` + the document type);
- a concept id of a coded mention: :data:`PENDING_CONCEPT`, with ``concept_vocabulary`` and
  ``concept_code`` (0 stays 0: a mention without a code);
- ``hopia_provenance``: a fact's (or a failed NLP pipe's) row with ``note_source_value`` and
  ``mention_index`` in place of the ids.

Visits and patients are not rows here but statements (:data:`VISIT_STATEMENT`,
:data:`IDENTITY_STATEMENT`, with the document's rank in the input), which :mod:`.state` folds
into whole-state rows. A document that fails anywhere becomes an error row
(``hopia_id.document`` with status ``error`` and the French reason), never a failed task.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from hopia.data.ingest.analysis import Prepared, refusal
from hopia.data.ingest.header import with_header
from hopia.data.ingest.identities import note_record, resolve_stated
from hopia.data.ingest.jsonl import record_document
from hopia.data.ingest.pipeline import PIPE_ERROR_TABLE, document_row
from hopia.data.ingest.runs import error_hash
from hopia.data.ingest.spark.components import Components, JobConfig, components
from hopia.data.omop import concepts as omop_concepts
from hopia.data.omop.mapping import NoteContext, coded_concept, fact_row, note_nlp_row
from hopia.data.omop.writer import fact_table, note_row, stay_dates, visit_concept
from hopia.data.records import PatientIdentity, RawDocument, merge_identity
from hopia.data.records.patients import patient_identity

#: The concept id of a coded mention before the loader resolves (vocabulary, code).
PENDING_CONCEPT = -1
#: Input columns of the JSONL contract (README, "input lines").
INPUT_FIELDS = (
    "id",
    "text",
    "patient_id",
    "date",
    "type",
    "visit_id",
    "visit_start",
    "visit_end",
    "service",
)
#: Registry columns a job may join onto each document (``registry_<field>``): the patient's
#: identity the pseudonymiser looks for in the text, as the local ingest takes it from
#: ``hopia_id.patient``.
REGISTRY_FIELDS = tuple(f for f in PatientIdentity.__dataclass_fields__ if f != "ipp")
RESEARCH_TABLES = (
    "note",
    "note_nlp",
    "condition_occurrence",
    "drug_exposure",
    "measurement",
    "observation",
)
#: Research-space tables written as the analysis yields them (one row per note, mention, fact).
ROW_TABLES = (*RESEARCH_TABLES, "hopia_provenance")
IDENTIFIED_TABLES = ("document", "phi_span")
#: What the analysis says about visits and patients, folded by :mod:`.state` into whole-state
#: rows (``visit_occurrence``; ``patient`` and ``person``).
VISIT_STATEMENT, IDENTITY_STATEMENT = "_visit", "_identity"
#: Columns of the long frame :func:`analyse_partition` yields.
OUTPUT_COLUMNS = ("table", "month", "content_hash", "row")
#: The format recorded for documents read from a table.
FORMAT = "parquet"


@dataclass
class _Read:
    """A row of the input, read: its document (None when refused) and why it was refused."""

    source_ref: str
    source_path: str
    doc: RawDocument | None
    reason: str | None = None
    identity: PatientIdentity | None = None


def read_row(record: dict[str, Any], source: str, max_document_chars: int | None) -> _Read:
    """A row of the input as the local ingest reads a JSONL line: checked, refused when empty or
    too long, its patient resolved against the registry joined onto the row
    (:func:`hopia.data.ingest.identities.resolve_stated`: the local ingest's rules; the
    ``registry_<field>`` columns hold the registry's identity of the row's IPP, stated or
    given, and ``registry_candidates`` the registry's patients born on the header's birth date
    when it names no IPP)."""
    ref = f"{source}#{record.get('id')}"
    fields = {k: _as_json_value(record.get(k)) for k in INPUT_FIELDS}
    try:
        doc = record_document({k: v for k, v in fields.items() if v is not None}, source, ref)
    except ValueError as exc:
        return _Read(ref, source, None, str(exc))
    reason = _too_long(doc, max_document_chars) or refusal(doc)
    if reason is not None:
        return _Read(ref, source, None, reason)
    joined = _registered(record, record.get("_ipp"))
    candidates = _candidates(record)
    resolution = resolve_stated(
        doc,
        lambda ipp: joined if joined is not None and joined.ipp == ipp else None,
        lambda day: [p for p in candidates if p.birth_date == day] if day else [],
    )
    if resolution.doc is None:
        return _Read(ref, source, None, resolution.error)
    doc = resolution.doc
    ipp = doc.patient_ipp
    registered = joined if joined is not None and joined.ipp == ipp else None
    if registered is None:
        registered = next((p for p in candidates if p.ipp == ipp), None)
    identity = registered
    if doc.patient is not None:
        identity = merge_identity(registered, doc.patient)
    return _Read(ref, source, doc, identity=identity)


def lookup_keys(frames: Iterable[pd.DataFrame], source: str) -> Iterator[pd.DataFrame]:
    """The first, cheap pass: each input row with what to look its patient up by in the
    registry: ``_ipp`` (the row's IPP, or the one its header states) and ``_birth`` (the
    header's birth date, ISO, when it names no IPP). Nulls where the row does not read."""
    for frame in frames:
        ipps: list[str | None] = []
        births: list[str | None] = []
        for record in frame.to_dict("records"):
            ipp = birth = None
            try:
                fields = {k: _as_json_value(record.get(k)) for k in INPUT_FIELDS}
                ref = f"{source}#{record.get('id')}"
                doc = with_header(
                    record_document({k: v for k, v in fields.items() if v is not None}, source, ref)
                )
                stated = doc.stated
                if doc.patient_ipp:
                    ipp = doc.patient_ipp
                elif stated is not None and stated.ipp:
                    ipp = stated.ipp
                elif stated is not None and stated.birth_date:
                    birth = stated.birth_date.isoformat()
            except Exception:  # noqa: BLE001 - the analysis pass reports it as an error row
                pass
            ipps.append(ipp)
            births.append(birth)
        yield frame.assign(_ipp=ipps, _birth=births)


def content_hashes(frames: Iterable[pd.DataFrame], source: str, config: JobConfig) -> Iterator:
    """The first, cheap pass: each input row with its ``content_hash`` (an error row's hash for
    a row that is refused), so that the job drops duplicates before any NLP."""
    from hopia.data.ingest.analysis import content_hash

    for frame in frames:
        hashes = []
        for record in frame.to_dict("records"):
            try:
                read = read_row(record, source, config.max_document_chars)
                digest = (
                    content_hash(read.doc) if read.doc is not None else error_hash(read.source_ref)
                )
            except Exception:  # noqa: BLE001 - the second pass reports it as an error row
                digest = error_hash(f"{source}#{record.get('id')}")
            hashes.append(digest)
        yield frame.assign(content_hash=hashes)


def analyse_partition(
    frames: Iterable[pd.DataFrame], source: str, config: JobConfig
) -> Iterator[pd.DataFrame]:
    """The rows of every table for the documents of one partition, as a long frame
    (:data:`OUTPUT_COLUMNS`: table name, partition month, content hash, the row as JSON)."""
    parts = components(config)
    for frame in frames:
        out: list[tuple[str, str, str, str]] = []
        records = frame.to_dict("records")
        for start in range(0, len(records), max(1, config.batch_size)):
            batch = records[start : start + max(1, config.batch_size)]
            out.extend(_batch(batch, source, config, parts))
        yield pd.DataFrame(out, columns=list(OUTPUT_COLUMNS))


def _batch(
    records: list[dict[str, Any]], source: str, config: JobConfig, parts: Components
) -> list[tuple[str, str, str, str]]:
    out: list[tuple[str, str, str, str]] = []
    todo: list[Prepared] = []
    identities: dict[str, PatientIdentity] = {}
    seqs: dict[int, int] = {}  # each document's rank in the input: the folds' order
    for record in records:
        try:
            read = read_row(record, source, config.max_document_chars)
        except Exception as exc:  # noqa: BLE001 - one row must not fail the task
            ref = f"{source}#{record.get('id')}"
            read = _Read(ref, source, None, f"lecture impossible ({type(exc).__name__})")
        if read.doc is None:
            out.append(_error(read.source_ref, read.source_path, read.reason or "", config))
            continue
        p = Prepared.of(read.doc)
        if read.identity is not None and p.patient_key:
            identities[p.patient_key] = read.identity
        seqs[id(p)] = int(record.get("_seq") or 0)
        todo.append(p)

    def failed(p: Prepared, reason: str) -> None:
        out.append(_error(p.doc.source_ref, p.doc.source_path, reason, config))

    try:
        done = parts.analyser.analyse(todo, identities, failed)
    except Exception as exc:  # noqa: BLE001 - the analyser keeps per-document failures itself
        for p in todo:
            failed(p, f"analyse impossible ({type(exc).__name__})")
        return out
    now = datetime.now()
    for p in done:
        try:
            out.extend(_rows(p, parts, config, now, seqs[id(p)]))
        except Exception as exc:  # noqa: BLE001 - one document must not fail the task
            failed(p, f"écriture impossible ({type(exc).__name__})")
    return out


def _rows(
    p: Prepared, parts: Components, config: JobConfig, now: datetime, seq: int
) -> list[tuple[str, str, str, str]]:
    """The rows of one analysed document (see the module docstring for the keys), and what it
    says about its visit and its patient (statements, folded by :mod:`.state`)."""
    assert p.patient_key is not None  # read_row refuses a document without a patient
    research = parts.research
    note = note_record(
        p.doc,
        content_hash=p.content_hash,
        person_id=1,  # any identified person: the loader sets the id
        text=p.pseudo_text,
        mentions=p.mentions,
        research=research,
        today=config.today,
    )
    person = research.person(p.patient_key)
    keys = {"note_source_value": note.source_value, "person_source_value": person}
    source = (note.doc_type or "document")[:50]
    if note.stay is not None:
        visit, visit_key = note.stay.research_id, f"stay:{note.stay.research_id}"
        start, end = stay_dates(note.note_date, note.stay)
        site = note.stay.service[:255] if note.stay.service else None
    else:
        visit, visit_key = source, f"day:{note.note_date.isoformat()}:{source}"
        start = end = note.note_date
        site = None
    on_visit = {"visit_source_value": visit, "visit_key": visit_key}
    month = note.note_date.strftime("%Y-%m")
    h = p.content_hash
    rows: list[tuple[str, str, str, str]] = []
    note_values = note_row(note, 0, None) | {"note_id": None, "person_id": None}
    rows.append(("note", month, h, _json(note_values | keys | on_visit)))
    statement = {
        "person_source_value": person,
        "visit_key": visit_key,
        "visit_source_value": visit,
        "visit_start_date": start,
        "visit_end_date": end,
        "visit_concept_id": visit_concept(source),
        "visit_type_concept_id": omop_concepts.EHR,
        "care_site_id": site,
        "_seq": seq,
    }
    rows.append((VISIT_STATEMENT, "", h, _json(statement)))
    ctx = NoteContext(0, 0, None, note.note_date)
    results: set[tuple[int, int]] = set()
    for index, m in enumerate(note.mentions):
        code = coded_concept(m, note.note_date)
        concept = PENDING_CONCEPT if code else 0
        extra = keys | {
            "mention_index": index,
            "concept_vocabulary": code[0] if code else None,
            "concept_code": code[1] if code else None,
        }
        nlp = note_nlp_row(m, ctx, 0, concept, parts.system, note.text)
        nlp |= {"note_nlp_id": None, "note_id": None}
        rows.append(("note_nlp", month, h, _json(nlp | extra)))
        table = fact_table(m, True, results)
        if table:
            fact = fact_row(table, m, ctx, 0, concept) | {"person_id": None}
            fact[_id_column(table)] = None
            rows.append((table, month, h, _json(fact | extra | on_visit)))
            rows.append(
                ("hopia_provenance", month, h, _json(_provenance(table, parts.system, keys, index)))
            )
    for e in p.pipe_errors:  # as the local ingest records a failed pipe: no text
        system = f"{parts.system} / {e}"[:250]
        rows.append(
            ("hopia_provenance", month, h, _json(_provenance(PIPE_ERROR_TABLE, system, keys, None)))
        )
    doc_month = (p.doc.doc_date or config.today).strftime("%Y-%m")
    document = document_row(p, 0, 0, 0, now) | {"document_id": None, "note_id": None}
    document |= {"run_id": None, "format": FORMAT, "note_source_value": note.source_value}
    rows.append(("document", doc_month, h, _json(document)))
    for s, surrogate in zip(p.phi, p.surrogates, strict=True):
        span = {
            "content_hash": h,
            "start_char": s.start,
            "end_char": s.end,
            "label": s.label,
            "source": s.source,
            "surrogate": surrogate,
        }
        rows.append(("phi_span", doc_month, h, _json(span)))
    # What the document says about its patient: its own identity (a header's new IPP), else its
    # IPP alone (registered if new, as the local ingest's person_ids does).
    said = p.doc.patient if p.doc.patient is not None else PatientIdentity(ipp=p.patient_key)
    identity = {k: getattr(said, k) for k in PatientIdentity.__dataclass_fields__}
    rows.append((IDENTITY_STATEMENT, "", h, _json(identity | {"_seq": seq})))
    return rows


def _provenance(table: str, system: str, keys: dict[str, str], index: int | None) -> dict[str, Any]:
    """A ``hopia_provenance`` row: the ids the loader's (the fact's, the note's, the
    mention's, the run's), the natural keys instead."""
    return {
        "table_name": table,
        "row_id": None,
        "note_id": None,
        "note_nlp_id": None,
        "run_id": None,
        "system": system,
        "note_source_value": keys["note_source_value"],
        "mention_index": index,
    }


def _error(source_ref: str, source_path: str, reason: str, config: JobConfig) -> tuple:
    """An error row of ``hopia_id.document``, as :meth:`hopia.data.ingest.runs.Runs.record_error`
    writes it (one per source)."""
    digest = error_hash(source_ref)
    row = {
        "document_id": None,
        "content_hash": digest,
        "source_path": source_path,
        "source_ref": source_ref,
        "format": FORMAT,
        "status": "error",
        "error": reason,
        "ingested_at": datetime.now(),
    }
    return ("document", config.today.strftime("%Y-%m"), digest, _json(row))


def _id_column(table: str) -> str:
    from hopia.data.omop.mapping import ID_COLUMN

    return ID_COLUMN[table]


def _too_long(doc: RawDocument, limit: int | None) -> str | None:
    if limit is None or len(doc.text) <= limit:
        return None
    return f"document trop long ({len(doc.text)} caractères, limite {limit})"


def _registered(record: dict[str, Any], ipp: str | None) -> PatientIdentity | None:
    """The registry's identity joined onto the row (``registry_<field>`` columns), checked as
    a registry file's records are; None when the row has none."""
    if not ipp:
        return None
    values = {f: _as_json_value(record.get(f"registry_{f}")) for f in REGISTRY_FIELDS}
    if all(v is None for v in values.values()):
        return None
    return patient_identity({"ipp": ipp, **values}, "registre joint")


def _candidates(record: dict[str, Any]) -> list[PatientIdentity]:
    """The registry's patients born on the header's birth date (``registry_candidates``)."""
    found = record.get("registry_candidates")
    if found is None or (isinstance(found, float) and found != found):
        return []
    out = []
    for item in found:
        values = {k: _as_json_value(v) for k, v in dict(item).items()}
        out.append(patient_identity(values, "registre joint"))
    return out


def _plain(value: Any) -> Any:
    """A pandas cell as a Python value: None for missing, a date for a timestamp."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value


def _as_json_value(value: Any) -> Any:
    """An input cell as the JSONL contract has it: dates as ISO strings, missing as None."""
    value = _plain(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _json(row: dict[str, Any]) -> str:
    return json.dumps(row, default=_iso, ensure_ascii=False)


def _iso(value: Any) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)

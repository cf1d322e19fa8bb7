"""Runs and error records: what an ingest leaves on the record besides the data.

- A run is one ``omop.hopia_run`` row, ``running`` from its start, ``done`` or ``failed`` at the
  end with its counts; every document, fact and provenance row of the run points to it. Its
  command names the process (id and host) that runs it.
- A run whose process died (killed, machine lost) cannot close itself: the next ingest, which
  holds the warehouse's job lease (:meth:`hopia.platform.warehouse.Warehouse.exclusive`) and so
  knows that no other ingest is alive, marks every run still ``running`` as ``failed``
  (:meth:`Runs.close_dead`); before that, whoever reads the runs sees it failed
  (:func:`hopia.platform.warehouse.runs.list_runs`).
- An input that cannot be stored (unreadable file, bad record, a stage that failed on it) is one
  ``hopia_id.document`` row with status ``error`` and its reason (in French, for the people who
  run ingest), one per source: a rerun replaces it, and the first run that ingests the source
  deletes it.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, delete, select, update

from hopia.platform.warehouse import Warehouse, schema
from hopia.platform.warehouse.runs import DEAD_SUMMARY

__all__ = ["DEAD_SUMMARY", "ErrorRecord", "IngestReport", "Runs", "error_hash"]


@dataclass
class IngestReport:
    """Counts of one run, for the person who ran it (and the audit log: counts only)."""

    added: int = 0
    duplicates: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    # Stored with a doubt to check: header identity not in the registry, no document date,
    # low OCR confidence (source, reason).
    warnings: list[tuple[str, str]] = field(default_factory=list)
    # documents stored without one NLP pipe's output, by pipe (the pipe failed on them)
    pipe_errors: Counter[str] = field(default_factory=Counter)
    patients: int = 0  # identities loaded from a registry file before the run
    entities: Counter[str] = field(default_factory=Counter)
    qualifiers: Counter[str] = field(default_factory=Counter)
    facts: Counter[str] = field(default_factory=Counter)
    characters: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process and the models worker, for the run's work only
    run_id: int | None = None

    @property
    def docs_per_second(self) -> float:
        return self.added / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        text = f"added={self.added} duplicates={self.duplicates} errors={len(self.errors)}"
        if self.pipe_errors:  # e.g. " pipe_errors=posology:2,labs:1"
            text += " pipe_errors=" + ",".join(
                f"{k}:{v}" for k, v in sorted(self.pipe_errors.items())
            )
        return text


@dataclass(frozen=True)
class ErrorRecord:
    """An input that could not be stored, and why."""

    source_ref: str  # the file, or file#locator for one record of it
    source_path: str
    format: str
    reason: str


def error_hash(source_ref: str) -> str:
    """``content_hash`` of a source's error row: one per source, whatever the run."""
    return hashlib.sha256(f"error\x1e{source_ref}".encode()).hexdigest()


class Runs:
    """Starts and finishes runs; records and resolves error rows."""

    def __init__(self, warehouse: Warehouse, system: str) -> None:
        self.wh = warehouse
        self.system = system

    def start(self, paths: Sequence[object], started: datetime) -> int:
        """Open a run; its id."""
        with self.wh.begin() as conn:
            run_id = self.wh.next_id(conn, schema.run, "run_id")
            conn.execute(
                schema.run.insert().values(
                    run_id=run_id,
                    command=(
                        f"ingest ({len(paths)} chemin(s), processus {os.getpid()} "
                        f"sur {socket.gethostname()})"
                    )[:250],
                    system=self.system,
                    started_at=started,
                    status="running",
                )
            )
        return run_id

    def close_dead(self) -> list[int]:
        """Mark ``failed`` every run still ``running``; their ids. Only call it while holding
        the warehouse's job lease: then none of them has a live process."""
        run = schema.run
        with self.wh.begin() as conn:
            dead = list(
                conn.execute(select(run.c.run_id).where(run.c.status == "running")).scalars()
            )
            if dead:
                conn.execute(
                    update(run)
                    .where(run.c.run_id.in_(dead))
                    .values(finished_at=datetime.now(), status="failed", summary=DEAD_SUMMARY)
                )
        return dead

    def finish(
        self,
        run_id: int,
        report: IngestReport,
        status: str = "done",
        then: Callable[[Connection], None] | None = None,
    ) -> None:
        """Close the run with its counts; ``then`` runs in the same transaction (the service's
        audit entry, so that the closed run and its entry commit together)."""
        with self.wh.begin() as conn:
            conn.execute(
                update(schema.run)
                .where(schema.run.c.run_id == run_id)
                .values(finished_at=datetime.now(), status=status, summary=report.summary())
            )
            if then is not None:
                then(conn)

    def record_error(self, error: ErrorRecord, run_id: int) -> None:
        """Replace the source's error row by this one, in a transaction of its own. The caller
        waits for any batch being written first: ids come from the committed maximum."""
        digest = error_hash(error.source_ref)
        doc = schema.document
        with self.wh.begin() as conn:
            conn.execute(delete(doc).where(doc.c.content_hash == digest))
            conn.execute(
                doc.insert().values(
                    document_id=self.wh.next_id(conn, doc, "document_id"),
                    content_hash=digest,
                    source_path=error.source_path,
                    source_ref=error.source_ref,
                    format=error.format[:20],
                    status="error",
                    error=error.reason,
                    run_id=run_id,
                    ingested_at=datetime.now(),
                )
            )

    @staticmethod
    def resolve_errors(conn: Connection, refs: Sequence[str], run_id: int) -> None:
        """Delete the error rows of earlier runs for sources ingested now (``refs``: their
        source refs and paths). Errors of this run concern other records of the same file:
        they stay."""
        doc = schema.document
        conn.execute(
            delete(doc).where(
                doc.c.status == "error", doc.c.source_ref.in_(refs), doc.c.run_id != run_id
            )
        )

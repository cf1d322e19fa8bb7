"""What a job is, as the store keeps it and every front end reads it."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


STATUS_FR: dict[JobStatus, str] = {
    JobStatus.QUEUED: "en attente",
    JobStatus.RUNNING: "en cours",
    JobStatus.SUCCEEDED: "terminée",
    JobStatus.FAILED: "échouée",
    JobStatus.CANCELLED: "annulée",
}

# Machine codes of the failures the jobs layer itself records (a service's own errors keep
# their HopiaError code).
INTERRUPTED = "interrupted"
CANCELLED = "cancelled"
INTERNAL = "internal_error"


def utcnow() -> datetime:
    """Job times: UTC, naive in the warehouse (as the audit log's)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class WorkerId:
    """The process that runs a job: its host and process id (a dead one on this host is seen
    at once; elsewhere the heartbeat tells)."""

    host: str
    pid: int

    @classmethod
    def mine(cls) -> WorkerId:
        return cls(socket.gethostname()[:255], os.getpid())

    def __str__(self) -> str:
        return f"processus {self.pid} sur {self.host}"


@dataclass(frozen=True)
class JobRecord:
    """One row of ``hopia_meta.job``, decoded."""

    job_id: str
    kind: str
    owner: str
    actor: str
    roles: tuple[str, ...]
    parameters: dict[str, Any]
    status: JobStatus
    progress_done: int
    progress_total: int | None
    progress_label: str | None
    result: dict[str, Any] | None
    error_code: str | None
    error_message: str | None
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    worker: WorkerId | None

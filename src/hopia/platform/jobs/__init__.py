"""Background jobs: the store (``hopia_meta.job``), the executor and the runners.

Front-end agnostic: a job kind is a handler the services register (:mod:`hopia.services.jobs`);
the platform keeps the states, the heartbeat, the crash detection and the queue.
"""

from hopia.platform.jobs.model import STATUS_FR, JobRecord, JobStatus, WorkerId
from hopia.platform.jobs.runner import EmbeddedRunner, JobControl, JobExecutor
from hopia.platform.jobs.store import JobStore

__all__ = [
    "STATUS_FR",
    "EmbeddedRunner",
    "JobControl",
    "JobExecutor",
    "JobRecord",
    "JobStatus",
    "JobStore",
    "WorkerId",
]

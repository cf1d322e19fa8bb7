"""Audit service: check the tamper-evident log (``hopia audit verify``).

Writing entries is not a service of its own: each service writes its entry in the same
transaction as the access it records (:func:`hopia.platform.audit.record`).
"""

from __future__ import annotations

from hopia.platform import audit
from hopia.services.context import Context, Request


class VerifyRequest(Request):
    expected_head: str | None = None
    """A head hash noted earlier, outside the warehouse: also proves no entry was removed from
    the end since."""


def verify(ctx: Context, request: VerifyRequest) -> audit.VerifyResult:
    """Walk the hash chain; the result says where it breaks, if it does. Reading the log is
    itself allowed by the policy (``audit.verify``) but not recorded: it holds no patient data."""
    ctx.authorize("audit.verify", "audit_log")
    with ctx.warehouse().engine.connect() as conn:
        return audit.verify(conn, request.expected_head)

"""Audit service: check the tamper-evident log (``hopia audit verify``).

Writing entries is not a service of its own: each service writes its entry in the same
transaction as the access it records (:func:`hopia.platform.audit.record`).
"""

from __future__ import annotations

from hopia.platform import audit
from hopia.services.context import Context, Request
from hopia.services.warehouse import existing_warehouse


class VerifyRequest(Request):
    expected_head: str | None = None
    """A head hash noted earlier, outside the warehouse: also proves no entry was removed from
    the end since (the head checkpoint beside the keys already does, on every check)."""


def verify(ctx: Context, request: VerifyRequest) -> audit.VerifyResult:
    """Walk the keyed chain and compare its head with the checkpoint kept outside the
    warehouse; the result says where it breaks, if it does: an entry changed, removed or
    inserted, the last entries (or all) deleted, the log rewritten, the checkpoint missing or
    forged. Reading the log is allowed by the policy (``audit.verify``) but not recorded: it
    holds no patient data."""
    ctx.authorize("audit.verify", "audit_log")
    with existing_warehouse(ctx).engine.connect() as conn:
        return audit.verify(conn, request.expected_head)

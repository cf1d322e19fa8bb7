"""Re-identification service: a pseudonymised note with its original values restored.

The rules, for every front end: a reason of at least ten characters, checked before anything is
opened; the access policy asked next (``pseudo.reidentify``); the read and its audit entry
committed in one transaction by the vault (:meth:`hopia.data.pseudo.vault.Vault.reidentify_note`).
"""

from __future__ import annotations

from hopia.data.pseudo.vault import ReidentifiedResult, Vault
from hopia.platform.access import Purpose, check_reason
from hopia.services.context import Context, Request


class ReidentifyNoteRequest(Request):
    note_id: int
    reason: str | None = None


def reidentify_note(ctx: Context, request: ReidentifyNoteRequest) -> ReidentifiedResult:
    """The note ``note_id`` of ``omop.note`` with its originals restored, audited."""
    reason = check_reason(request.reason, Purpose.REIDENTIFY)
    ctx.authorize("pseudo.reidentify", f"note:{request.note_id}")
    vault = Vault(ctx.warehouse(), ctx.vault_key())
    return vault.reidentify_note(request.note_id, reason=reason, actor=ctx.actor)

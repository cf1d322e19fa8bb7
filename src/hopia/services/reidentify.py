"""Re-identification service: a pseudonymised note with its original values restored.

The rules, for every front end: a reason that says why (:func:`hopia.platform.access.check_reason`),
checked before anything is read; the access policy asked next (``pseudo.reidentify``); a refusal
of either is audited (``access.refused``); the read and its audit entry committed in one
transaction by the vault (:meth:`hopia.data.pseudo.vault.Vault.reidentify_note`).
"""

from __future__ import annotations

from hopia.data.pseudo.vault import ReidentifiedResult, Vault
from hopia.platform.access import Purpose
from hopia.platform.keys import staged_vault_key_file
from hopia.services.context import Context, Request
from hopia.services.warehouse import existing_warehouse


class ReidentifyNoteRequest(Request):
    note_id: int
    reason: str | None = None


def reidentify_note(ctx: Context, request: ReidentifyNoteRequest) -> ReidentifiedResult:
    """The note ``note_id`` of ``omop.note`` with its originals restored, audited."""
    resource = f"note:{request.note_id}"
    reason = ctx.check_reason(request.reason, Purpose.REIDENTIFY, "pseudo.reidentify", resource)
    ctx.authorize("pseudo.reidentify", resource)
    vault = Vault(
        existing_warehouse(ctx),
        ctx.vault_key(),
        staged_key_file=staged_vault_key_file(ctx.settings),  # an interrupted rotation's key
    )
    return vault.reidentify_note(request.note_id, reason=reason, actor=ctx.actor)

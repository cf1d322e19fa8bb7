"""Re-identification service: the reason and the policy come before anything is opened.

The restored text and its audit entry are tested end to end in tests/cli/test_pseudo_vault_cli.py
(ingest, then ``hopia pseudo reidentify``), which goes through this service."""

from __future__ import annotations

from pathlib import Path

import pytest

from hopia.platform.config import Settings
from hopia.platform.exceptions import AccessDeniedError, ReasonRequiredError, VaultError
from hopia.services.context import Context
from hopia.services.reidentify import ReidentifyNoteRequest, reidentify_note
from tests.services.contexts import researcher


def test_no_reason_no_access_nothing_opened(tmp_path: Path) -> None:
    ctx = Context.local(Settings(home=tmp_path / "h"))
    with pytest.raises(ReasonRequiredError):
        reidentify_note(ctx, ReidentifyNoteRequest.of(note_id=1, reason="pour voir"))
    assert ctx._warehouse is None and not (tmp_path / "h").exists()


def test_the_policy_refuses_before_anything_is_opened(tmp_path: Path) -> None:
    ctx = researcher(Settings(home=tmp_path / "h"), "cohort.")
    with pytest.raises(AccessDeniedError, match="reidentify"):
        reidentify_note(ctx, ReidentifyNoteRequest.of(note_id=1, reason="demande du DIM n° 12"))
    assert ctx._warehouse is None


def test_an_unknown_note_is_an_error_and_is_not_audited(tmp_path: Path) -> None:
    with Context.local(Settings(home=tmp_path / "h")) as ctx:
        ctx.warehouse()  # an existing warehouse (a read never creates one)
        with pytest.raises(VaultError, match="note 99 introuvable"):
            reidentify_note(ctx, ReidentifyNoteRequest.of(note_id=99, reason="demande du DIM 12"))
        with ctx.warehouse().engine.connect() as conn:
            from hopia.platform.warehouse import schema

            assert conn.execute(schema.audit_log.select()).first() is None

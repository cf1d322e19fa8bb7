"""Vault key rotation (``hopia pseudo rotate-vault-key``) end to end: real ingest, vault,
re-identification and audit chain, on DuckDB and PostgreSQL.

The key file case stages the new key, re-encrypts, keeps the old key and renames the new one
into place; a crash after the commit is named at the next read. The configured case
(``HOPIA_VAULT_KEY``) needs the new key in a file and leaves the installation's files alone."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from hopia.cli.pseudo_vault import rotate_vault_key as rotate_command
from hopia.data.pseudo.vault import Vault
from hopia.platform import audit
from hopia.platform.access import Principal
from hopia.platform.config import get_settings
from hopia.platform.exceptions import (
    AccessDeniedError,
    ConfigError,
    InvalidRequestError,
    ReasonRequiredError,
    VaultError,
)
from hopia.platform.identity.roles import SpacePolicy
from hopia.platform.keys import (
    STAGED_VAULT_FILE,
    VAULT_FILE,
    decode_vault_key,
    new_vault_key_text,
)
from hopia.platform.warehouse import open_warehouse, schema
from hopia.services import vault as vault_service
from hopia.services.audit import VerifyRequest, verify
from hopia.services.context import Context
from hopia.services.ingest import build_pipeline
from hopia.services.reidentify import ReidentifyNoteRequest, reidentify_note
from hopia.services.setup import init
from hopia.services.vault import RotateVaultKeyRequest, rotate_vault_key
from tests.conftest import ENGINES, TEST_VAULT_KEY
from tests.data.ingest.test_pipeline import NOTES, write_corpus
from tests.platform.pg import postgres_url
from tests.services.contexts import researcher

pytestmark = pytest.mark.slow

REASON = "Rotation annuelle de la clé, procédure sécurité 2026-04"
READ_REASON = "Demande du DIM, dossier 2024-117"
VAULT_TABLES = (schema.vault_key, schema.vault_patient, schema.vault_entry)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "duckdb":
        yield "duckdb"
        return
    with postgres_url() as url:
        monkeypatch.setenv("HOPIA_WAREHOUSE_URL", url)
        get_settings.cache_clear()
        yield "postgres"
        get_settings.cache_clear()


@pytest.fixture
def key_file_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """The vault key in ``<home>/vault.key`` (made by ``hopia init``), not configured."""
    monkeypatch.delenv("HOPIA_VAULT_KEY")
    get_settings.cache_clear()


def ingest_notes() -> dict[str, int]:
    """``hopia init``, then two synthetic notes with PHI ingested (the vault filled)."""
    with Context.local(get_settings()) as ctx:
        init(ctx)
    folder = get_settings().home.parent / "in"
    patients, docs = write_corpus(folder, [NOTES[0], NOTES[2]])
    wh = open_warehouse(get_settings())
    pipeline = build_pipeline(get_settings(), wh)
    pipeline.load_patients(patients)
    assert pipeline.run([docs]).added == 2
    with wh.engine.connect() as conn:
        doc = schema.document
        notes = dict(conn.execute(select(doc.c.external_id, doc.c.note_id)).all())
    wh.close()
    return notes


def read_note(note_id: int) -> str:
    get_settings.cache_clear()  # a new command: the settings and keys read anew
    with Context.local(get_settings()) as ctx:
        result = reidentify_note(ctx, ReidentifyNoteRequest.of(note_id=note_id, reason=READ_REASON))
    assert result.text is not None
    return result.text


def rotate(**values: object) -> vault_service.RotateVaultKeyResult:
    get_settings.cache_clear()
    with Context.local(get_settings()) as ctx:
        return rotate_vault_key(ctx, RotateVaultKeyRequest.of(**values))


def vault_cells() -> list[tuple]:
    wh = open_warehouse(get_settings())
    with wh.engine.connect() as conn:
        cells = [tuple(row) for t in VAULT_TABLES for row in conn.execute(select(t))]
    wh.close()
    return sorted(cells, key=repr)


def audit_rows() -> list:
    wh = open_warehouse(get_settings())
    with wh.engine.connect() as conn:
        rows = conn.execute(select(schema.audit_log).order_by(schema.audit_log.c.audit_id)).all()
    wh.close()
    return rows


def chain_verifies() -> bool:
    with Context.local(get_settings()) as ctx:
        return verify(ctx, VerifyRequest.of()).ok


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def private_key_file(path: Path, text: str) -> Path:
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path


def test_rotation_reencrypts_keeps_the_old_key_and_audits(
    engine: str, key_file_mode: None, in_process_models: None
) -> None:
    notes = ingest_notes()
    home = get_settings().home
    key_file = home / VAULT_FILE
    old_text = key_file.read_text().strip()
    before = {n: read_note(note_id) for n, note_id in notes.items()}
    assert before["n1"] == NOTES[0][4] and "Odile LEMAIRE" in before["n1"]
    entries_before = len([r for r in vault_cells() if len(r) == 6])

    result = rotate(reason=REASON)

    new_text = key_file.read_text().strip()
    assert new_text != old_text and len(decode_vault_key(new_text, "test")) == 32
    assert result.mode == "file" and result.key_file == key_file
    assert result.entries == entries_before > 0 and result.patients == 2
    assert result.old_key_file is not None and result.old_key_file.parent == home
    assert (
        result.old_key_file.name.startswith("vault.key.") and result.old_key_file.suffix == ".old"
    )
    assert result.old_key_file.read_text().strip() == old_text  # kept, for the old backups
    assert mode(result.old_key_file) == 0o600 and mode(key_file) == 0o600
    assert not (home / STAGED_VAULT_FILE).exists()
    # The new key file restores the same originals; the old key no longer opens the vault.
    assert {n: read_note(note_id) for n, note_id in notes.items()} == before
    wh = open_warehouse(get_settings())
    try:
        with pytest.raises(VaultError, match="clé du coffre incorrecte"):
            Vault(wh, decode_vault_key(old_text, "test")).check_key()
        with pytest.raises(VaultError, match="clé du coffre incorrecte"):
            Vault(wh, decode_vault_key(old_text, "test")).reidentify(["x"], reason=READ_REASON)
    finally:
        wh.close()
    # One audit entry for the rotation, key ids and counts, never a key; the chain verifies.
    rows = [r for r in audit_rows() if r.action == "vault.rotate"]
    assert len(rows) == 1 and rows[0].audit_id == result.audit_id and rows[0].reason == REASON
    details = rows[0].details if isinstance(rows[0].details, dict) else json.loads(rows[0].details)
    assert details["old_key_id"] == result.old_key_id != result.new_key_id == details["new_key_id"]
    assert details["entries"] == result.entries and details["patients"] == 2
    assert details["old_key_kept_as"] == result.old_key_file.name
    dumped = json.dumps([tuple(map(str, r)) for r in audit_rows()])
    assert old_text not in dumped and new_text not in dumped
    assert chain_verifies()


def test_a_missing_reason_or_a_wrong_role_changes_nothing(
    key_file_mode: None, in_process_models: None
) -> None:
    ingest_notes()
    home = get_settings().home
    key_text, cells = (home / VAULT_FILE).read_text(), vault_cells()
    for reason in (None, "", "pour voir"):
        with pytest.raises(ReasonRequiredError, match="renouveler la clé du coffre"):
            rotate(reason=reason)
    web_admin = Context(
        get_settings(), Principal("root", frozenset({"admin"})), SpacePolicy(lambda *_: ())
    )
    steward = researcher(get_settings(), "pseudo.", "audit.")
    for ctx in (web_admin, steward):
        with ctx, pytest.raises(AccessDeniedError, match="vault.rotate_key"):
            rotate_vault_key(ctx, RotateVaultKeyRequest.of(reason=REASON))
    assert (home / VAULT_FILE).read_text() == key_text and vault_cells() == cells
    assert not (home / STAGED_VAULT_FILE).exists()
    assert sorted(p.name for p in home.glob("vault.key*")) == [VAULT_FILE]
    refused = [r.action for r in audit_rows()]
    assert "vault.rotate" not in refused and refused.count("access.refused") == 5
    assert chain_verifies()


def test_a_crash_after_the_commit_names_the_staged_key(
    engine: str, key_file_mode: None, in_process_models: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = ingest_notes()
    home = get_settings().home
    key_file, staged = home / VAULT_FILE, home / STAGED_VAULT_FILE
    old_text, original = key_file.read_text(), read_note(notes["n1"])

    def crash(*_: object) -> None:
        raise OSError("processus interrompu")

    with monkeypatch.context() as patched:
        patched.setattr(vault_service, "_install_key", crash)
        with pytest.raises(OSError, match="interrompu"):
            rotate(reason=REASON)
    # The database is committed under the new key, the key file still holds the old one.
    assert key_file.read_text() == old_text and staged.exists() and mode(staged) == 0o600
    with pytest.raises(VaultError) as read_error:
        read_note(notes["n1"])
    message = read_error.value.message
    assert "rotation de la clé du coffre interrompue" in message
    assert f"mv {staged} {key_file}" in message
    # Running the rotation again neither rotates nor touches the staged key.
    staged_text = staged.read_text()
    with pytest.raises(VaultError, match="rotation de la clé du coffre interrompue"):
        rotate(reason=REASON)
    assert staged.read_text() == staged_text
    # The operator follows the message: the old key kept, the staged one in place.
    os.replace(key_file, home / "vault.key.avant-rotation.old")
    os.replace(staged, key_file)
    assert read_note(notes["n1"]) == original
    assert chain_verifies()


def test_an_error_after_the_commit_keeps_the_staged_key(
    key_file_mode: None, in_process_models: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit checkpoint is written after the commit: if that fails (a full disk), the vault
    is already under the new key, which must stay staged, never be removed."""
    notes = ingest_notes()
    home = get_settings().home
    staged, original = home / STAGED_VAULT_FILE, read_note(notes["n1"])

    def full_disk(*_: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(audit, "write_checkpoint", full_disk)
        with pytest.raises(OSError, match="No space left"):
            rotate(reason=REASON)
    assert staged.exists()
    with pytest.raises(VaultError, match="rotation de la clé du coffre interrompue"):
        read_note(notes["n1"])
    os.replace(staged, home / VAULT_FILE)
    assert read_note(notes["n1"]) == original


def test_a_staged_key_left_before_the_commit_is_replaced(
    key_file_mode: None, in_process_models: None
) -> None:
    """A rotation that died before its commit left a staged key the vault does not use: the
    current key still opens the vault, so the next rotation writes its own."""
    notes = ingest_notes()
    home = get_settings().home
    original = read_note(notes["n3"])
    stale_text = new_vault_key_text()
    stale = private_key_file(home / STAGED_VAULT_FILE, stale_text)
    assert read_note(notes["n3"]) == original  # the stale file does not get in the way
    result = rotate(reason=REASON)
    assert not stale.exists() and read_note(notes["n3"]) == original
    assert (home / VAULT_FILE).read_text() != stale_text
    assert result.new_key_id != result.old_key_id


@pytest.mark.skipif(os.name != "posix", reason="the rotation lock is a POSIX flock")
def test_one_rotation_at_a_time(key_file_mode: None) -> None:
    import fcntl

    home = get_settings().home
    home.mkdir(mode=0o700)
    with (home / f".{STAGED_VAULT_FILE}.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another rotation, in another process
        with pytest.raises(VaultError, match="une autre rotation"):
            rotate(reason=REASON)
    assert not (home / STAGED_VAULT_FILE).exists()


def test_a_configured_key_needs_the_new_key_in_a_file(
    engine: str, in_process_models: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    notes = ingest_notes()
    home = get_settings().home
    original, cells = read_note(notes["n1"]), vault_cells()
    with pytest.raises(InvalidRequestError, match="HOPIA_VAULT_KEY") as missing:
        rotate(reason=REASON)
    assert missing.value.fields == ("new_key_file",) and vault_cells() == cells
    new_text = new_vault_key_text()
    new_file = private_key_file(tmp_path / "nouvelle.key", new_text)
    new_file.chmod(0o644)  # a key file others may read is refused
    with pytest.raises(ConfigError, match="chmod 600"):
        rotate(reason=REASON, new_key_file=new_file)
    new_file.chmod(0o600)
    same = private_key_file(tmp_path / "meme.key", TEST_VAULT_KEY)
    with pytest.raises(VaultError, match="identique"):
        rotate(reason=REASON, new_key_file=same)
    assert vault_cells() == cells

    result = rotate(reason=REASON, new_key_file=new_file)
    assert result.mode == "configured" and result.new_key_file == new_file
    assert result.key_file is None and result.old_key_file is None
    assert not list(home.glob("vault.key*"))  # the installation's files are left alone
    with pytest.raises(VaultError, match="HOPIA_VAULT_KEY doit recevoir la nouvelle"):
        read_note(notes["n1"])  # services not yet given the new key
    monkeypatch.setenv("HOPIA_VAULT_KEY", new_text)
    assert read_note(notes["n1"]) == original
    assert chain_verifies()


def test_the_command_prints_what_to_keep_and_never_the_key(
    key_file_mode: None, in_process_models: None
) -> None:
    ingest_notes()
    home = get_settings().home
    app = typer.Typer()
    app.command("rotate-vault-key")(rotate_command)
    app.command("other")(lambda: None)  # two commands: the name is a sub-command
    refused = CliRunner().invoke(app, ["rotate-vault-key"])
    assert refused.exit_code == 2 and "--reason" in refused.stderr
    get_settings.cache_clear()
    done = CliRunner().invoke(app, ["rotate-vault-key", "--reason", REASON])
    assert done.exit_code == 0, done.output
    out = " ".join(done.stdout.split())
    assert "rechiffrée(s)" in out and "Ancienne clé conservée" in out
    assert "Sauvegardez dès maintenant la nouvelle clé à part de l'entrepôt" in out
    old_files = list(home.glob("vault.key.*.old"))
    assert len(old_files) == 1
    assert old_files[0].read_text().strip() not in done.output
    assert (home / VAULT_FILE).read_text().strip() not in done.output

"""Vault key rotation: re-encrypt the key vault under a new key, audited, crash-safe.

The rules, for every front end (``hopia pseudo rotate-vault-key``): a reason
(:func:`hopia.platform.access.check_reason`) and the access policy (``vault.rotate_key``: the
local operator who runs ``hopia init``; no web role has it), both checked before anything is
read, a refusal audited (``access.refused``). The vault is re-encrypted in one transaction with
its audit entry (:meth:`hopia.data.pseudo.vault.Vault.rotation`: counts and key ids, never a
key), written with the installation's audit key.

Where the new key goes:

- **key file** (``<home>/vault.key``): the new key is written first to a private staged file
  (``<home>/vault.key.staged``, mode 0600, fsynced), then the vault is re-encrypted, then the old
  key is kept as ``vault.key.<UTC timestamp>.old`` (0600, for the backups made under it) and the
  staged file is renamed over ``vault.key``. A crash between the commit and the rename leaves
  ``vault.key`` with the old key and the new one staged: the next command that reads the vault
  refuses the old key and names the staged file to put in place.
- **configured key** (``HOPIA_VAULT_KEY``, from a secret store): the operator gives the new key
  in a private file; the vault is re-encrypted, and the operator then updates
  ``HOPIA_VAULT_KEY`` with that file's content before restarting the services. No file of the
  installation is touched and the key is never printed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from hopia.data.pseudo.vault import Vault
from hopia.platform import keys
from hopia.platform.access import Purpose
from hopia.platform.exceptions import InvalidRequestError, VaultError
from hopia.platform.files import atomic_file
from hopia.platform.warehouse import Warehouse
from hopia.services.context import Context, Request
from hopia.services.warehouse import existing_warehouse

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

ACTION = "vault.rotate_key"
RESOURCE = "vault"


class RotateVaultKeyRequest(Request):
    reason: str | None = None
    new_key_file: Path | None = None
    """A private file (0600) holding the new key (base64 of 32 bytes); required when the key is
    configured by ``HOPIA_VAULT_KEY``. Without it, a random key is made."""


@dataclass(frozen=True)
class RotateVaultKeyResult:
    patients: int
    entries: int  # values re-encrypted
    old_key_id: str  # fingerprints, safe to print
    new_key_id: str
    mode: Literal["file", "configured"]
    audit_id: int
    key_file: Path | None = None  # file mode: the vault key file, now holding the new key
    old_key_file: Path | None = None  # file mode: where the old key is kept
    new_key_file: Path | None = None  # configured mode: the file to put into HOPIA_VAULT_KEY


def rotate_vault_key(ctx: Context, request: RotateVaultKeyRequest) -> RotateVaultKeyResult:
    """Re-encrypt the vault under a new key and put the key in place (see the module)."""
    reason = ctx.check_reason(request.reason, Purpose.KEY_ROTATION, ACTION, RESOURCE)
    ctx.authorize(ACTION, RESOURCE)
    configured = bool(ctx.settings.vault_key)
    if configured and request.new_key_file is None:
        raise InvalidRequestError(
            "la clé du coffre est configurée par HOPIA_VAULT_KEY (coffre de secrets) : donnez "
            "la nouvelle clé dans un fichier privé, qui servira ensuite à mettre "
            "HOPIA_VAULT_KEY à jour",
            fields=("new_key_file",),
        )
    staged = keys.staged_vault_key_file(ctx.settings)
    with contextlib.nullcontext() if staged is None else _rotation_lock(staged):
        return _rotate(ctx, request, reason, staged)


def _rotate(
    ctx: Context, request: RotateVaultKeyRequest, reason: str, staged: Path | None
) -> RotateVaultKeyResult:
    old_key = ctx.vault_key()
    if request.new_key_file is not None:
        new_text, new_key = keys.read_vault_key_file(request.new_key_file)
    else:
        new_text = keys.new_vault_key_text()
        new_key = keys.decode_vault_key(new_text, "nouvelle clé du coffre")
    if new_text.strip().encode() in (ctx.secret(), ctx.audit_key()):
        raise InvalidRequestError(
            "la nouvelle clé du coffre doit différer du secret de pseudonymisation et de la clé "
            "d'audit",
            fields=("new_key_file",),
        )
    vault = Vault(existing_warehouse(ctx), old_key, staged_key_file=staged)
    # The current key must open the vault before anything is written: after a rotation
    # interrupted past its commit, this names the staged key to put in place (and keeps it).
    vault.check_key()
    if new_key == old_key:
        raise VaultError("la nouvelle clé du coffre est identique à l'actuelle")
    if staged is None:  # configured: the operator updates HOPIA_VAULT_KEY
        rotation = vault.rotation(
            new_key, actor=ctx.actor, reason=reason, details={"mode": "configured"}
        )
        return RotateVaultKeyResult(
            rotation.patients,
            rotation.entries,
            rotation.old_key_id,
            rotation.new_key_id,
            "configured",
            rotation.audit.audit_id,
            new_key_file=request.new_key_file,
        )
    key_file = staged.with_name(keys.VAULT_FILE)
    old_file = _old_key_path(key_file)
    # A staged file left by a rotation that did not commit (the current key opened the vault)
    # is replaced.
    _write_private(staged, new_text)
    try:
        rotation = vault.rotation(
            new_key,
            actor=ctx.actor,
            reason=reason,
            details={"mode": "file", "old_key_kept_as": old_file.name},
        )
    except BaseException:
        # Removed only when the old key is known to be still the vault's: an error after the
        # commit (the audit checkpoint written then) must leave the new key where it is.
        if _still_the_key(vault.wh, old_key):
            staged.unlink(missing_ok=True)
        raise
    _write_private(old_file, key_file.read_text())
    _install_key(staged, key_file)
    return RotateVaultKeyResult(
        rotation.patients,
        rotation.entries,
        rotation.old_key_id,
        rotation.new_key_id,
        "file",
        rotation.audit.audit_id,
        key_file=key_file,
        old_key_file=old_file,
    )


@contextlib.contextmanager
def _rotation_lock(staged: Path) -> Iterator[None]:
    """One rotation at a time on this home: two would stage their keys in the same file."""
    if fcntl is None or not staged.parent.is_dir():  # no home: reading the key will say so
        yield  # (Windows: one operator at a time is assumed)
        return
    fd = os.open(staged.with_name(f".{staged.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise VaultError(
                "une autre rotation de la clé du coffre est en cours sur ce dossier Hopia : "
                "attendez qu'elle finisse"
            ) from None
        yield
    finally:
        os.close(fd)  # releases the lock


def _still_the_key(wh: Warehouse, key: bytes) -> bool:
    try:
        Vault(wh, key).check_key()
    except Exception:  # noqa: BLE001 - unknown: keep the staged key
        return False
    return True


def _old_key_path(key_file: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = key_file.with_name(f"{key_file.name}.{stamp}.old")
    n = 1
    while path.exists():  # two rotations in one second: keep both old keys
        path = key_file.with_name(f"{key_file.name}.{stamp}-{n}.old")
        n += 1
    return path


def _write_private(path: Path, text: str) -> None:
    """``path`` written whole, mode 0600, fsynced with its folder."""
    with atomic_file(path, private=True) as fh:
        fh.write(text if text.endswith("\n") else text + "\n")
    _fsync_dir(path.parent)


def _install_key(staged: Path, key_file: Path) -> None:
    """The staged key renamed over the key file (atomic: readers see the old or the new)."""
    os.replace(staged, key_file)
    _fsync_dir(key_file.parent)


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):  # some file systems refuse to fsync a folder
            os.fsync(fd)
    finally:
        os.close(fd)

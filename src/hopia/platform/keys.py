"""Key material: the pseudonymisation secret, the re-identification vault key and the audit key.

Each comes from the configuration (``HOPIA_SECRET_KEY``, ``HOPIA_VAULT_KEY``,
``HOPIA_AUDIT_KEY``, for a server whose keys live in a secret store) or from a file under
``<home>`` (``secret.key``, ``vault.key``, ``audit.key``), mode 0600 in a 0700 folder. The
files are created by one explicit step, :func:`init_keys` (``hopia init``; ``hopia demo`` for
its own demo home), and never again once the warehouse holds data: a secret made anew would give
new patients research ids that match nobody's, a new vault key would leave the vault unreadable.
Reading a key never creates one, so a command run against the wrong home, or after a key was
lost, stops with a clear message instead of silently making keys that do not match the data.

Every key file must be readable by its owner only: one that the group or others may read is
refused (it may already have leaked; the message says how to fix the mode).
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from hopia.platform.config import Settings
from hopia.platform.exceptions import ConfigError, KeysMissingError
from hopia.platform.files import atomic_file, private_dir

SECRET_FILE = "secret.key"
VAULT_FILE = "vault.key"
AUDIT_FILE = "audit.key"
STAGED_VAULT_FILE = "vault.key.staged"
"""A new vault key written by a rotation (``hopia pseudo rotate-vault-key``) before the vault is
re-encrypted, moved over ``vault.key`` once it is: if this file is left behind, a rotation was
interrupted (:meth:`hopia.data.pseudo.vault.Vault` names it when the key does not match)."""
MIN_SECRET_CHARS = 16


@dataclass(frozen=True)
class KeyStatus:
    """Where each key comes from after :func:`init_keys`: ``"configured"``, ``"created"`` or
    ``"present"`` (a file already there)."""

    secret: str
    vault: str
    home: Path
    audit: str = "present"

    @property
    def created(self) -> bool:
        return "created" in (self.secret, self.vault, self.audit)


def init_keys(settings: Settings, *, data_exists: bool = False) -> KeyStatus:
    """Create the key files that are neither configured nor present (mode 0600, in a 0700
    home), and check the ones that are. Idempotent: a second call creates nothing, and an
    existing key is never replaced.

    ``data_exists``: the warehouse already holds data. Then a missing secret or vault key is
    an error (:class:`KeysMissingError`), not a new key: it must be restored from the backup.
    The audit key alone may be created then: warehouses from before the keyed audit chain have
    none (``hopia init`` anchors their chain, see :mod:`hopia.platform.audit`).
    """
    home = settings.home
    wanted = {
        SECRET_FILE: (settings.secret_key, "secret de pseudonymisation"),
        VAULT_FILE: (settings.vault_key, "clé du coffre"),
    }
    if data_exists:
        for name, (configured, what) in wanted.items():
            if not configured and not (home / name).exists():
                raise KeysMissingError(
                    f"{what} absent ({home / name}) alors que l'entrepôt contient déjà des "
                    "données : une nouvelle clé ne correspondrait pas aux données existantes. "
                    "Restaurez ce fichier depuis la sauvegarde des clés (ou configurez la clé) ; "
                    "aucune clé n'a été créée",
                    details={"path": str(home / name)},
                )
    secret = _init_file(settings.secret_key, home / SECRET_FILE, lambda: secrets.token_hex(32))
    vault = _init_file(settings.vault_key, home / VAULT_FILE, new_vault_key_text)
    audit = _init_file(settings.audit_key, home / AUDIT_FILE, lambda: secrets.token_hex(32))
    # Read them back: a bad configured value or an unsafe file fails here, at set-up.
    load_secret(settings)
    load_vault_key(settings)
    load_audit_key(settings)
    return KeyStatus(secret, vault, home, audit)


def _init_file(configured: str | None, path: Path, make: object) -> str:
    if configured:
        return "configured"
    private_dir(path.parent)
    if path.exists():
        return "present"
    # Written whole in a private temporary file, then linked into place: a crash, or a reader
    # meanwhile, never sees an empty key file; link() refuses to replace one another process
    # created first (keep theirs).
    with atomic_file(path.with_name(f".{path.name}.new"), private=True) as fh:
        fh.write(make())  # type: ignore[operator]
    staged = path.with_name(f".{path.name}.new")
    try:
        os.link(staged, path)
    except FileExistsError:
        return "present"
    finally:
        staged.unlink(missing_ok=True)
    return "created"


def load_secret(settings: Settings) -> bytes:
    """The pseudonymisation secret: configured, or read from ``<home>/secret.key``."""
    if settings.secret_key:
        if len(settings.secret_key) < MIN_SECRET_CHARS:
            raise ConfigError(
                f"HOPIA_SECRET_KEY est trop court ({MIN_SECRET_CHARS} caractères minimum)."
            )
        return settings.secret_key.encode()
    path = settings.home / SECRET_FILE
    return _read_key_file(path, "secret de pseudonymisation").encode()


def load_vault_key(settings: Settings) -> bytes:
    """The vault key (32 bytes): configured, or read from ``<home>/vault.key``.

    Separate from the pseudonymisation secret: whoever holds the secret can make surrogates,
    only whoever holds this key can read the originals back.
    """
    if settings.vault_key:
        if settings.secret_key and settings.vault_key.strip() == settings.secret_key.strip():
            raise ConfigError("HOPIA_VAULT_KEY doit différer de HOPIA_SECRET_KEY.")
        return _decode_vault_key(settings.vault_key, "HOPIA_VAULT_KEY")
    path = settings.home / VAULT_FILE
    return _decode_vault_key(_read_key_file(path, "clé du coffre"), str(path))


def new_vault_key_text() -> str:
    """A new random vault key as it is written in a key file: 32 bytes, base64."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def staged_vault_key_file(settings: Settings) -> Path | None:
    """Where a rotation stages the new vault key (``<home>/vault.key.staged``), or None when the
    key is configured (``HOPIA_VAULT_KEY``: the secret store holds it, no file is staged)."""
    return None if settings.vault_key else settings.home / STAGED_VAULT_FILE


def read_vault_key_file(path: Path) -> tuple[str, bytes]:
    """A vault key file's text and its 32 bytes: it must exist, be private (0600) and hold a
    base64 key of 32 bytes (:class:`ConfigError` or :class:`KeysMissingError` otherwise)."""
    text = _read_key_file(Path(path), "clé du coffre")
    return text, _decode_vault_key(text, str(path))


def decode_vault_key(text: str, origin: str) -> bytes:
    """A vault key's 32 bytes from its base64 text (:class:`ConfigError` naming ``origin``)."""
    return _decode_vault_key(text, origin)


def load_audit_key(settings: Settings) -> bytes:
    """The key of the audit log's HMAC chain: configured, or read from ``<home>/audit.key``.

    Whoever holds it can write entries that verify; the warehouse alone is not enough, which is
    the point: someone who can rewrite the log table cannot forge its chain."""
    if settings.audit_key:
        if len(settings.audit_key) < MIN_SECRET_CHARS:
            raise ConfigError(
                f"HOPIA_AUDIT_KEY est trop court ({MIN_SECRET_CHARS} caractères minimum)."
            )
        if settings.audit_key.strip() in (settings.secret_key, settings.vault_key):
            raise ConfigError("HOPIA_AUDIT_KEY doit différer des autres clés.")
        return settings.audit_key.encode()
    return _read_key_file(settings.home / AUDIT_FILE, "clé du journal d'audit").encode()


def _read_key_file(path: Path, what: str) -> str:
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        raise KeysMissingError(
            f"{what} absent ({path}) : sur une installation neuve, initialisez ses clés "
            "(hopia init) ; si l'entrepôt contient déjà des données, restaurez ce fichier depuis "
            "la sauvegarde des clés (une nouvelle clé ne correspondrait pas aux données)",
            details={"path": str(path)},
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path} : clé illisible ({exc.strerror})") from exc
    check_private_file(path, what)
    if not text:
        raise ConfigError(f"{path} : fichier de clé vide")
    return text


def check_private_file(path: Path, what: str) -> None:
    """Refuse a key file the group or others may read or write: it may have leaked, and it
    must not be used as if it had not (:class:`ConfigError` saying how to fix the mode)."""
    if os.name != "posix":
        return
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{what} : le fichier {path} est accessible à d'autres utilisateurs (droits "
            f"{stat.S_IMODE(mode):04o}) ; réservez-le à son propriétaire (chmod 600 {path}) "
            "et, s'il a pu être lu, changez de clé avec l'équipe d'exploitation",
            details={"path": str(path), "mode": f"{stat.S_IMODE(mode):04o}"},
        )


def _decode_vault_key(value: str, origin: str) -> bytes:
    # Standard or URL-safe alphabet (``openssl rand -base64 32`` or Fernet.generate_key()).
    normalised = value.strip().replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(normalised, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"{origin} : clé du coffre illisible (base64 attendu).") from exc
    if len(key) != 32:
        raise ConfigError(f"{origin} : la clé du coffre doit faire 32 octets (reçu {len(key)}).")
    return key

"""Key material: the pseudonymisation secret and the re-identification vault key.

Both come from the configuration (``HOPIA_SECRET_KEY``, ``HOPIA_VAULT_KEY``, for a server whose
keys live in a secret store) or from files under ``<home>`` (``secret.key``, ``vault.key``,
mode 0600). The files are created by one explicit step, :func:`init_keys` (``hopia init``, or
the first ingest, which needs them to write anything): reading a key never creates one, so a
command run against the wrong home fails with a clear message instead of silently making new
keys that would not match the warehouse.
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
from hopia.platform.files import atomic_file

SECRET_FILE = "secret.key"
VAULT_FILE = "vault.key"
MIN_SECRET_CHARS = 16


@dataclass(frozen=True)
class KeyStatus:
    """Where each key comes from after :func:`init_keys`: ``"configured"``, ``"created"`` or
    ``"present"`` (a file already there)."""

    secret: str
    vault: str
    home: Path

    @property
    def created(self) -> bool:
        return "created" in (self.secret, self.vault)


def init_keys(settings: Settings) -> KeyStatus:
    """Create the key files that are neither configured nor present (mode 0600), and check the
    ones that are. Idempotent: a second call creates nothing."""
    secret = _init_file(
        settings.secret_key, settings.home / SECRET_FILE, lambda: secrets.token_hex(32)
    )
    vault = _init_file(
        settings.vault_key,
        settings.home / VAULT_FILE,
        lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
    )
    # Read both back: a bad configured value or an unsafe file fails here, at set-up.
    load_secret(settings)
    load_vault_key(settings)
    return KeyStatus(secret, vault, settings.home)


def _init_file(configured: str | None, path: Path, make: object) -> str:
    if configured:
        return "configured"
    if path.exists():
        return "present"
    path.parent.mkdir(parents=True, exist_ok=True)
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
    text = _read_key_file(path, "clé du coffre")
    if os.name == "posix" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        # Unlike the secret, this key turns pseudonymised data back into identities.
        raise ConfigError(f"{path} est accessible à d'autres utilisateurs (chmod 600).")
    return _decode_vault_key(text, str(path))


def _read_key_file(path: Path, what: str) -> str:
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        raise KeysMissingError(
            f"{what} absent ({path}) : initialisez les clés de cette installation (hopia init) "
            "ou configurez-les",
            details={"path": str(path)},
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path} : clé illisible ({exc.strerror})") from exc
    if not text:
        raise ConfigError(f"{path} : fichier de clé vide")
    return text


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

"""Key material: created only by the explicit step (init), private, read back or refused."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from hopia.platform.config import Settings
from hopia.platform.exceptions import ConfigError, KeysMissingError
from hopia.platform.keys import init_keys, load_secret, load_vault_key


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with neither key configured (the test-wide ones removed)."""
    monkeypatch.delenv("HOPIA_SECRET_KEY", raising=False)
    monkeypatch.delenv("HOPIA_VAULT_KEY", raising=False)
    return Settings(home=tmp_path / "home")


def test_reading_never_creates_a_key(bare: Settings) -> None:
    with pytest.raises(KeysMissingError, match="hopia init") as info:
        load_secret(bare)
    assert info.value.code == "keys_missing"
    with pytest.raises(KeysMissingError):
        load_vault_key(bare)
    assert not bare.home.exists()


def test_init_creates_private_keys_once(bare: Settings) -> None:
    status = init_keys(bare)
    assert (status.secret, status.vault, status.created) == ("created", "created", True)
    for name in ("secret.key", "vault.key"):
        assert stat.S_IMODE((bare.home / name).stat().st_mode) == 0o600
    secret, vault = load_secret(bare), load_vault_key(bare)
    assert len(vault) == 32 and vault != secret
    again = init_keys(bare)
    assert (again.secret, again.vault, again.created) == ("present", "present", False)
    assert (load_secret(bare), load_vault_key(bare)) == (secret, vault)


def test_a_readable_vault_key_file_is_refused(bare: Settings) -> None:
    init_keys(bare)
    (bare.home / "vault.key").chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_vault_key(bare)


def test_configured_keys_are_used_and_checked(tmp_path: Path) -> None:
    raw = os.urandom(32)
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        settings = Settings(home=tmp_path, vault_key=encoded, secret_key="x" * 20)
        assert load_vault_key(settings) == raw
        assert init_keys(settings).secret == "configured"
    assert not (tmp_path / "vault.key").exists() and not (tmp_path / "secret.key").exists()
    with pytest.raises(ConfigError, match="32 octets"):
        load_vault_key(Settings(home=tmp_path, vault_key=base64.b64encode(b"x" * 16).decode()))
    with pytest.raises(ConfigError, match="base64"):
        load_vault_key(Settings(home=tmp_path, vault_key="pas du base64 !"))
    same = base64.b64encode(raw).decode()
    with pytest.raises(ConfigError, match="différer"):
        load_vault_key(Settings(home=tmp_path, vault_key=same, secret_key=same))
    with pytest.raises(ConfigError, match="trop court"):
        load_secret(Settings(home=tmp_path, secret_key="short"))


def test_a_crash_while_creating_a_key_leaves_no_empty_key(
    bare: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key is written whole before it takes its name: a crash in between leaves no key
    file (the next init creates it), never an empty one that would block every command."""
    from hopia.platform import keys

    def crash(src: object, dst: object) -> None:
        raise OSError("disque plein")

    monkeypatch.setattr(keys.os, "link", crash)
    with pytest.raises(OSError, match="disque plein"):
        init_keys(bare)
    assert not (bare.home / "secret.key").exists()
    assert list(bare.home.iterdir()) == []  # nor the staged copy
    monkeypatch.undo()
    assert init_keys(bare).secret == "created" and len(load_secret(bare)) == 64

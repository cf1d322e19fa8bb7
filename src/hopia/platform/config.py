"""Settings: explicit arguments over environment (``HOPIA_*``) over an optional YAML file
(``HOPIA_CONFIG`` or ./hopia.yml) over defaults. Nested sections merge key by key, so
``HOPIA_NLP__BATCH_SIZE`` overrides one key of the YAML ``nlp:`` block, not the whole block.

Read once per process through :func:`get_settings`; tests call ``get_settings.cache_clear()``
after changing the environment.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from hopia.platform.exceptions import ConfigError


class NlpSettings(BaseModel):
    batch_size: int = Field(32, description="Documents per NLP batch and per write transaction.")
    cache_pipeline: bool = Field(
        True, description="Cache the built EDS-NLP pipeline on disk (eds.cim10 takes ~30-60 s)."
    )
    ner_worker: bool = Field(
        True,
        description="During ingest, run the statistical clinical NER in the worker process, on "
        "the original text, one batch ahead (uses the second core).",
    )


class PseudoSettings(BaseModel):
    use_model: bool = Field(
        True, description="Add the statistical PHI model to rules, gazetteers and identities."
    )
    birth_dates: Literal["shift", "month", "year"] = Field(
        "shift",
        description="Birth dates in the research space: shifted like the patient's other dates, "
        "or generalised to the month or the year.",
    )
    model_worker: bool = Field(
        True,
        description="During ingest, run the PHI model in a second process, one batch ahead of "
        "the NLP (uses the second core).",
    )


class Settings(BaseSettings):
    """Hopia settings. Every field can be set as ``HOPIA_<FIELD>`` (``HOPIA_NLP__BATCH_SIZE``)."""

    model_config = SettingsConfigDict(env_prefix="HOPIA_", env_nested_delimiter="__")

    home: Path = Field(Path(".hopia"), description="Folder for the embedded warehouse and caches.")
    warehouse_url: str | None = Field(
        None,
        description="SQLAlchemy URL. Default: embedded DuckDB file <home>/warehouse.duckdb. "
        "PostgreSQL: postgresql+psycopg2://user@host/db",
        examples=["postgresql+psycopg2://hopia@127.0.0.1:5432/hopia"],
    )
    secret_key: str | None = Field(
        None,
        description="Secret for surrogates and date offsets. Default: generated once into "
        "<home>/secret.key (mode 0600). Never commit it.",
    )
    vault_key: str | None = Field(
        None,
        description="Key of the re-identification vault (AES-256-GCM): 32 bytes in base64. "
        "Default: generated once into <home>/vault.key (mode 0600). Distinct from secret_key; "
        "losing it makes the vault unreadable. Never commit it.",
    )
    cache_dir: Path = Field(
        None,  # filled from ``home`` below
        validate_default=False,
        description="Rebuildable artefacts (compiled NLP pipeline). Default <home>/cache.",
    )
    nlp: NlpSettings = Field(default_factory=NlpSettings)
    pseudo: PseudoSettings = Field(default_factory=PseudoSettings)

    @model_validator(mode="after")
    def _default_cache_dir(self) -> Settings:
        if self.cache_dir is None:
            self.cache_dir = self.home / "cache"
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _YamlSource(settings_cls)

    def resolved_warehouse_url(self) -> str:
        if self.warehouse_url:
            return self.warehouse_url
        return f"duckdb:///{(self.home / 'warehouse.duckdb').resolve()}"

    def resolved_secret(self) -> bytes:
        """The pseudonymisation secret: configured, or created once on this machine."""
        if self.secret_key:
            if len(self.secret_key) < 16:
                raise ConfigError("HOPIA_SECRET_KEY est trop court (16 caractères minimum).")
            return self.secret_key.encode()
        key_file = self.home / "secret.key"
        if not key_file.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        return key_file.read_text().strip().encode()

    def resolved_vault_key(self) -> bytes:
        """The vault key (32 bytes): configured, or created once on this machine.

        Separate from the pseudonymisation secret: whoever holds the secret can make surrogates,
        only whoever holds this key can read the originals back.
        """
        if self.vault_key:
            if self.secret_key and self.vault_key.strip() == self.secret_key.strip():
                raise ConfigError("HOPIA_VAULT_KEY doit différer de HOPIA_SECRET_KEY.")
            return _decode_vault_key(self.vault_key, "HOPIA_VAULT_KEY")
        key_file = self.home / "vault.key"
        if not key_file.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(base64.b64encode(secrets.token_bytes(32)).decode())
        if os.name == "posix" and key_file.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            # Unlike the secret, this key turns pseudonymised data back into identities.
            raise ConfigError(f"{key_file} est accessible à d'autres utilisateurs (chmod 600).")
        return _decode_vault_key(key_file.read_text(), str(key_file))


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


class _YamlSource(PydanticBaseSettingsSource):
    """The YAML file, below the environment. Errors name the file (French, for operators)."""

    def __call__(self) -> dict[str, Any]:
        return _yaml_values()

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ returns every value at once


def _yaml_values() -> dict[str, Any]:
    path = os.environ.get("HOPIA_CONFIG") or ("hopia.yml" if Path("hopia.yml").exists() else None)
    if not path:
        return {}
    try:
        values = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: configuration illisible ({exc})") from exc
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: la configuration doit être un dictionnaire YAML")
    return values


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""Settings: environment (``HOPIA_*``) over an optional YAML file over defaults.

Read once per process through :func:`get_settings`; tests call ``get_settings.cache_clear()``
after changing the environment.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices, BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from hopia.platform.exceptions import ConfigError


class NlpSettings(BaseModel):
    batch_size: int = Field(32, description="Documents per NLP batch and per write transaction.")
    cache_pipeline: bool = Field(
        True, description="Cache the built EDS-NLP pipeline on disk (eds.cim10 takes ~30-60 s)."
    )


class Settings(BaseSettings):
    """Hopia settings. Every field can be set as ``HOPIA_<FIELD>`` (``HOPIA_NLP__BATCH_SIZE``)."""

    model_config = SettingsConfigDict(
        env_prefix="HOPIA_", env_nested_delimiter="__", populate_by_name=True
    )

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
    cache_dir_override: Path | None = Field(
        None,
        validation_alias=AliasChoices("cache_dir", "HOPIA_CACHE_DIR"),
        description="Rebuildable artefacts (compiled NLP pipeline). Default <home>/cache.",
    )
    nlp: NlpSettings = Field(default_factory=NlpSettings)

    @property
    def cache_dir(self) -> Path:
        return self.cache_dir_override or self.home / "cache"

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
    # Environment wins over the YAML file: pydantic-settings reads env for unset init values.
    file_values = _yaml_values()
    env_keys = {
        k[len("HOPIA_") :].split("__")[0].lower() for k in os.environ if k.startswith("HOPIA_")
    }
    return Settings(**{k: v for k, v in file_values.items() if k not in env_keys})

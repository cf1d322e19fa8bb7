"""Hopia's exception hierarchy: one place, as scikit-learn's ``exceptions.py``."""

from __future__ import annotations

from pathlib import Path


class HopiaError(Exception):
    """Base class of every error Hopia raises on purpose."""


class ConfigError(HopiaError):
    """The configuration is invalid or unsafe."""


class WarehouseError(HopiaError):
    """The warehouse cannot be reached, migrated or written."""


class IngestError(HopiaError):
    """A source file cannot be read. Carries the file and a human-readable reason."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class PseudonymisationError(HopiaError):
    """Pseudonymisation failed; the text must not leave the identified space."""

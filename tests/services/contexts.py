"""Contexts for the service tests."""

from __future__ import annotations

from hopia.platform.access import Principal, RolePolicy
from hopia.platform.config import Settings
from hopia.services.context import Context


def researcher(settings: Settings, *allowed: str) -> Context:
    """A web-like user with the ``researcher`` role, allowed ``allowed`` (action names or
    prefixes ending with a dot) and nothing else: what a service must refuse before reading."""
    return Context(
        settings, Principal("alice", frozenset({"researcher"})), RolePolicy({"researcher": allowed})
    )

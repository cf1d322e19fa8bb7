"""Who may do what: the reason rule and the access-policy hook every service calls.

Two rules hold for every front end, so they live here once:

- **A reason for every access to identified data and every data release**
  (:func:`check_reason`): re-identifying a note, listing a cohort's patients, exporting a
  dataset. The reason is written to the audit log with the access.
- **An access policy decides before anything is read** (:class:`AccessPolicy`): the service asks
  ``policy.check(principal, action, resource)`` first. The default,
  :class:`LocalOperatorPolicy`, lets the local operator do everything (whoever runs the CLI on
  the server already holds the keys); the web platform plugs a role and perimeter policy in.
"""

from __future__ import annotations

import getpass
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from hopia.platform.exceptions import AccessDeniedError, ReasonRequiredError

if TYPE_CHECKING:
    from sqlalchemy import Connection

MIN_REASON_CHARS = 10
MIN_REASON_WORDS = 2
MAX_ACTOR_CHARS = 100


class Purpose(StrEnum):
    """Why a reason is asked; each purpose has its own example in the error message."""

    REIDENTIFY = "reidentify"
    PATIENT_LIST = "patient_list"
    SHARE = "share"
    BREAK_GLASS = "break_glass"
    KEY_ROTATION = "key_rotation"


_PURPOSE_TEXT: dict[Purpose, tuple[str, str]] = {
    Purpose.REIDENTIFY: ("toute ré-identification", "demande du DIM, dossier 2024-117"),
    Purpose.PATIENT_LIST: ("obtenir la liste nominative", "inclusion étude ICARE, CPP 24-012"),
    Purpose.SHARE: ("tout partage", "étude ICARE, convention 2025-014"),
    Purpose.BREAK_GLASS: (
        "un accès hors de votre périmètre (bris de glace)",
        "patient transféré aux urgences, avis demandé",
    ),
    Purpose.KEY_ROTATION: (
        "renouveler la clé du coffre",
        "rotation annuelle, procédure sécurité 2026-04",
    ),
}


def check_reason(reason: str | None, purpose: Purpose) -> str:
    """The reason with its blanks normalised; :class:`ReasonRequiredError` (field ``reason``)
    when it is missing, shorter than :data:`MIN_REASON_CHARS` characters, or says nothing.

    A reason is read by auditors: it must hold at least :data:`MIN_REASON_WORDS` distinct words
    of three letters or more (digits, punctuation, one letter repeated and keyboard runs such as
    "azerty" do not count), so that "xxxxxxxxxx" or "1234567890" are refused.

    >>> check_reason("  demande   du DIM, dossier 12 ", Purpose.REIDENTIFY)
    'demande du DIM, dossier 12'
    """
    cleaned = " ".join((reason or "").split())
    what, example = _PURPOSE_TEXT[purpose]
    details = {
        "min_chars": MIN_REASON_CHARS,
        "min_words": MIN_REASON_WORDS,
        "purpose": purpose.value,
    }
    if len(cleaned) < MIN_REASON_CHARS:
        raise ReasonRequiredError(
            f"motif obligatoire pour {what} (au moins {MIN_REASON_CHARS} caractères, "
            f'par ex. "{example}")',
            fields=("reason",),
            details=details,
        )
    if len(reason_words(cleaned)) < MIN_REASON_WORDS:
        raise ReasonRequiredError(
            f"motif insuffisant pour {what} : il doit dire pourquoi, en au moins "
            f"{MIN_REASON_WORDS} mots différents de 3 lettres ou plus (ni chiffres seuls, ni "
            f'lettre répétée, ni suite de touches du clavier), par ex. "{example}"',
            fields=("reason",),
            details=details,
        )
    return cleaned


def reason_words(text: str) -> set[str]:
    """The distinct words of a reason that carry meaning: three letters or more, not one letter
    repeated ("xxx"), not a run of keys or of the alphabet ("azerty", "qsdf", "abcd").

    >>> sorted(reason_words("Demande du DIM, demande 12 azerty xxxx"))
    ['demande', 'dim']
    """
    words = set()
    for word in _WORD.findall(text.casefold()):
        plain = _strip_accents(word)
        if len(set(plain)) < 2 or any(plain in run or plain[::-1] in run for run in _RUNS):
            continue
        words.add(word)
    return words


def _strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


# Letters only (no digits, no underscore), three or more.
_WORD = re.compile(r"[^\W\d_]{3,}")
# Rows of French (AZERTY) and English (QWERTY) keyboards, and the alphabet: typing along them is
# what a user in a hurry does to fill a required field.
_RUNS = (
    "azertyuiop",
    "qsdfghjklm",
    "wxcvbn",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
)


def system_user() -> str:
    """The operating-system user running the process (the CLI's actor)."""
    try:
        return getpass.getuser()[:MAX_ACTOR_CHARS]
    except (OSError, KeyError):  # no login name in some containers
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "inconnu"


@dataclass(frozen=True)
class Principal:
    """Who acts: ``user`` is authenticated by the front end (the system user for the CLI, the
    session's user for the web); ``on_behalf_of`` is the requester named by an operator
    (``--actor``), written to the audit log as the actor."""

    user: str
    roles: frozenset[str] = field(default_factory=frozenset)
    on_behalf_of: str | None = None
    care_sites: frozenset[int] = field(default_factory=frozenset)
    """The perimeter of a clinician: the care sites (services) whose patients they may see."""

    @property
    def actor(self) -> str:
        """The name the audit log records."""
        name = (self.on_behalf_of or "").strip() or self.user
        return name[:MAX_ACTOR_CHARS]

    @classmethod
    def local(cls, on_behalf_of: str | None = None) -> Principal:
        """The operator running the CLI on this machine."""
        return cls(system_user(), frozenset({"operator"}), on_behalf_of)


@runtime_checkable
class AccessPolicy(Protocol):
    """Decides whether ``principal`` may perform ``action`` (``"cohort.patients"``) on
    ``resource`` (``"cohort:ic@1.0"``); raises :class:`AccessDeniedError` when not.

    ``conn``: the transaction of the read being authorised, when the service has opened it. A
    policy that reads the warehouse to judge (a clinician's perimeter) reads on it, so that the
    check, the read and its audit entry are one transaction."""

    def check(
        self, principal: Principal, action: str, resource: str, conn: Connection | None = None
    ) -> None: ...


class LocalOperatorPolicy:
    """The policy of a single-operator installation: the ``operator`` role may do everything;
    any other principal may do nothing. The web platform replaces it with roles and perimeters."""

    def check(
        self, principal: Principal, action: str, resource: str, conn: Connection | None = None
    ) -> None:
        if "operator" not in principal.roles:
            raise AccessDeniedError(
                f"action « {action} » refusée à {principal.user} : rôle opérateur requis",
                details={"action": action},
            )


class RolePolicy:
    """Actions allowed per role, by prefix: ``{"researcher": ["cohort.run", "quality."]}``.

    A principal may perform an action when one of its roles lists the action or a prefix of it
    ending with a dot; ``"*"`` allows everything."""

    def __init__(self, allowed: dict[str, Iterable[str]]) -> None:
        self.allowed = {role: tuple(actions) for role, actions in allowed.items()}

    def check(
        self, principal: Principal, action: str, resource: str, conn: Connection | None = None
    ) -> None:
        for role in principal.roles:
            for rule in self.allowed.get(role, ()):
                if (
                    rule == "*"
                    or rule == action
                    or (rule.endswith(".") and action.startswith(rule))
                ):
                    return
        raise AccessDeniedError(
            f"action « {action} » refusée à {principal.user} (rôles : "
            f"{', '.join(sorted(principal.roles)) or 'aucun'})",
            details={"action": action},
        )

"""Password hashing (argon2id) and the password policy.

argon2-cffi belongs to the ``web`` extra: it is imported when a password is hashed or checked,
so a site without the web platform installs nothing for it.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from hopia.platform.exceptions import PasswordPolicyError

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 256  # argon2 hashes anything; a bound keeps a login request cheap

# The most common passwords of public breach lists, and the obvious ones of a French hospital:
# a password of twelve characters or more that is one of these (any case) is refused.
COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "qwertyuiop123",
        "azertyuiop123",
        "azertyuiopqs",
        "motdepasse123",
        "motdepasse1234",
        "password1234",
        "password12345",
        "passwordpassword",
        "iloveyou1234",
        "administrateur",
        "administrator",
        "changeme1234",
        "bienvenue1234",
        "bienvenue2024",
        "bienvenue2025",
        "bienvenue2026",
        "hopital123456",
        "hopitalchu1234",
        "chu123456789",
        "soleil123456",
        "doudou123456",
        "marseille2026",
        "infirmiere123",
        "medecin12345",
        "qwerty123456",
        "azerty123456",
        "aaaaaaaaaaaa",
        "000000000000",
        "111111111111",
    }
)


def check_password(password: str, username: str | None = None) -> None:
    """:class:`PasswordPolicyError` (field ``password``) when the password is shorter than
    :data:`MIN_PASSWORD_CHARS`, longer than :data:`MAX_PASSWORD_CHARS`, common, made of one
    character, or the user name itself."""
    problem = None
    if len(password) < MIN_PASSWORD_CHARS:
        problem = f"au moins {MIN_PASSWORD_CHARS} caractères"
    elif len(password) > MAX_PASSWORD_CHARS:
        problem = f"au plus {MAX_PASSWORD_CHARS} caractères"
    elif password.casefold() in COMMON_PASSWORDS or len(set(password)) == 1:
        problem = "trop courant : choisissez une phrase de passe personnelle"
    elif username and username.casefold() in password.casefold():
        problem = "il ne doit pas contenir le nom d'utilisateur"
    if problem:
        raise PasswordPolicyError(f"mot de passe refusé : {problem}", fields=("password",))


@cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher  # the web extra

    return PasswordHasher()  # argon2id, the library's RFC 9106 low-memory profile


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salt and parameters inside the string)."""
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``. Without a hash (an unknown user, an
    account without a local password) a dummy hash is checked, so that the answer takes as long
    and says nothing about which accounts exist."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(stored_hash or _dummy_hash(), password) and bool(stored_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher().check_needs_rehash(stored_hash)


@cache
def _dummy_hash() -> str:
    return _hasher().hash("hopia-no-such-account")

"""Text helpers shared by the axes."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator


def _build_fold_table() -> dict[int, str]:
    """Map each Latin letter to its lower-case unaccented base letter, one char to one char, so
    folded text keeps the offsets of the original (œ/æ stay single characters)."""
    table: dict[int, str] = {}
    for code in range(0x41, 0x250):
        ch = chr(code)
        base = unicodedata.normalize("NFD", ch)[0].lower()
        if len(base) == 1 and base != ch and base.isalpha():
            table[code] = base
    table[ord("’")] = "'"
    return table


FOLD_TABLE = _build_fold_table()


def fold(text: str) -> str:
    """Lower-case and strip accents, keeping the length (offsets stay valid)."""
    return text.translate(FOLD_TABLE)


def chunk_bounds(text: str, max_chars: int) -> Iterator[tuple[int, int]]:
    """(start, end) pieces of ``text``, each at most ``max_chars`` long, cut preferably at a
    paragraph break, then a line break, a sentence end, a blank; a hard cut as a last resort.
    Linear in ``len(text)``: each search only looks at the second half of one window."""
    n, pos = len(text), 0
    while n - pos > max_chars:
        lo, hi = pos + max_chars // 2, pos + max_chars
        for sep in ("\n\n", "\n", ". ", " "):
            cut = text.rfind(sep, lo, hi)
            if cut != -1:
                cut += len(sep)
                break
        else:
            cut = hi
        yield pos, cut
        pos = cut
    if pos < n or n == 0:
        yield pos, n


# 'text', "text", «text»: what exception messages quote from their input.
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|«[^»]*»")


def without_quoted(message: str, limit: int = 200) -> str:
    """``message`` on one line, its quoted fragments replaced by '…' and cut to ``limit``.

    Exception messages quote the input they choked on ("could not convert string to float:
    'Dupont'", a duplicate key's value): patient text must not reach a log, a terminal or a
    stored error."""
    text = _QUOTED.sub("'…'", message).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The messages of Python's json module, in French (what a user reads about a bad line).
_JSON_MESSAGES = {
    "Expecting value": "valeur attendue",
    "Expecting ',' delimiter": "virgule attendue",
    "Expecting ':' delimiter": "deux-points attendus",
    "Expecting property name enclosed in double quotes": "nom de champ entre guillemets attendu",
    "Unterminated string starting at": "chaîne non terminée",
    "Invalid control character at": "caractère de contrôle invalide",
    "Invalid \\escape": "séquence d'échappement invalide",
    "Invalid \\uXXXX escape": "séquence \\u invalide",
    "Extra data": "données en trop après la valeur",
}


def json_problem(exc: ValueError) -> str:
    """What is wrong with a JSON text, in French: a syntax error (``JSONDecodeError``), or a
    value Python refuses to convert (an integer of more than 4,300 digits)."""
    message = getattr(exc, "msg", None)
    if message is not None:
        return _JSON_MESSAGES.get(message, "syntaxe incorrecte")
    if "digits" in str(exc):
        return "nombre de plus de 4 300 chiffres"
    return "valeur refusée"

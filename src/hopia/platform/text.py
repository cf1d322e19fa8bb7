"""Text helpers shared by the axes."""

from __future__ import annotations

import unicodedata


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

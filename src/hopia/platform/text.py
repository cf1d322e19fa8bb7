"""Text helpers shared by the axes."""

from __future__ import annotations

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

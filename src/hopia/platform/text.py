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

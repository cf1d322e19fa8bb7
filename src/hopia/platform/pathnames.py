"""File names as text that can always be stored and printed.

On Linux a file name is bytes. Python decodes a name that is not valid UTF-8 (a latin-1
"résumé.txt" copied from a Windows share: ``b"r\\xe9sum\\xe9.txt"``) with ``surrogateescape``: the
string holds lone surrogates (``"r\\udce9sum\\udce9.txt"``) that no database, terminal or JSON
encoder accepts. Such a name is shown with each undecodable byte written ``\\xNN``
(``"r\\\\xe9sum\\\\xe9.txt"``), because that form is:

- stable: the same bytes always give the same text, so a rerun finds the same source key and
  stays idempotent;
- lossless and unambiguous about the bytes: an operator sees which bytes to fix, where a
  latin-1 guess would silently collide with a real UTF-8 "résumé.txt" in the same folder;
- plain ASCII for the odd bytes, printable everywhere.

The file itself is still opened through its real name (the :class:`~pathlib.Path`); only what is
stored or printed goes through :func:`printable`.
"""

from __future__ import annotations

import os
from pathlib import PurePath


def printable(name: str | PurePath) -> str:
    """``name`` with each byte that is not valid UTF-8 written ``\\xNN``; unchanged otherwise."""
    text = os.fspath(name)
    if isinstance(text, bytes):
        raw = text
    else:
        try:
            text.encode("utf-8")
            return text  # the common case: nothing to do
        except UnicodeEncodeError:
            pass
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a surrogate that is no escaped byte (from JSON, say)
            raw = text.encode("utf-8", "surrogatepass")
    return raw.decode("utf-8", "backslashreplace")


def is_printable(name: str | PurePath) -> bool:
    """True when ``name`` needs no rewriting (valid UTF-8)."""
    text = os.fspath(name)
    return isinstance(text, str) and printable(text) == text

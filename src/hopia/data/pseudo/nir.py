"""French social security number (NIR, « numéro de sécurité sociale ») parsing and key check.

Layout, 13 characters then an optional 2-digit key: sex (1) · birth year (2) · birth month (2) ·
département (2, ``2A``/``2B`` for Corsica) · commune (3) · order (3) · key (2). The key is
``97 - (number mod 97)``, where Corsica's ``2A``/``2B`` count as ``19``/``18`` (INSEE rule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SEX_DIGITS = frozenset("123478")  # 1/2 regular, 3/4 foreigners in progress, 7/8 temporary
_SEPARATORS = re.compile(r"[\s.\-]+")
_CORSICA = {"2A": "19", "2B": "18"}
_BODY = re.compile(r"[1-478]\d{4}(?:\d{2}|2[AB])\d{6}", re.IGNORECASE)


@dataclass(frozen=True)
class Nir:
    """A structurally valid NIR, split into its fields."""

    sex: str
    year: str
    month: str
    dept: str
    commune: str
    order: str
    key: str | None  # None when only the 13-character body was written

    @property
    def body(self) -> str:
        return f"{self.sex}{self.year}{self.month}{self.dept}{self.commune}{self.order}"

    @property
    def key_ok(self) -> bool:
        """True when a key is present and matches the body."""
        return self.key is not None and int(self.key) == compute_key(self.body)


def normalise(text: str) -> str:
    """Drop the separators people type inside a NIR (spaces, dots, dashes); upper-case 2A/2B."""
    return _SEPARATORS.sub("", text).upper()


def compute_key(body: str) -> int:
    """The 2-digit key of a 13-character NIR body (``2A``/``2B`` accepted)."""
    body = body.upper()
    dept = _CORSICA.get(body[5:7], body[5:7])
    return 97 - int(body[:5] + dept + body[7:]) % 97


def _month_ok(month: str) -> bool:
    # INSEE: 01-12 real months, 20 and 30-42 unknown/registry months, 50-99 special cases.
    m = int(month)
    return 1 <= m <= 12 or m == 20 or 30 <= m <= 42 or m >= 50


def parse_nir(text: str) -> Nir | None:
    """Parse a written NIR (13 or 15 characters once separators are removed); None if it cannot
    be one. The key is not checked here: see :attr:`Nir.key_ok`."""
    s = normalise(text)
    if len(s) not in (13, 15) or not _BODY.fullmatch(s[:13]):
        return None
    if len(s) == 15 and not s[13:].isdigit():
        return None
    nir = Nir(s[0], s[1:3], s[3:5], s[5:7], s[7:10], s[10:13], s[13:] or None)
    if not _month_ok(nir.month) or nir.dept == "00":
        return None
    return nir


def is_valid_nir(text: str) -> bool:
    """True for a well-formed 15-character NIR whose key checks."""
    nir = parse_nir(text)
    return nir is not None and nir.key_ok


def with_key(body: str) -> str:
    """``body`` followed by its key: the 15-character NIR."""
    return f"{body}{compute_key(body):02d}"


# A NIR written in boxes, one character a box, as letter-spaced form fields come out of PDFs
# ("2 8 3 1 9 8 2 5 0 9 3 7 4", "1 8 0 0 1 7 5 ..."): 13 to 15 cells, with one blank between
# two cells. The run stands alone: no one-character cell right before or after it (a longer run
# of cells is a banner of several fields, cut by rules.find_digit_cells), though a number, a
# date or another field two blanks away may touch it ("... 4  2 9 1 0 1 8 9 5", "... 4 06-05").
_CELLS = re.compile(
    r"(?<![\w.,/\-])(?<!(?<![^\W_])[^\W_] )[1-478](?: [\dABab]){12,14}(?![\w.,/\-])"
    r"(?! [^\W_](?![^\W_]))"
)


def spaced_nirs(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, detail)`` of the letter-spaced NIRs of ``text``: 15 cells whose key
    checks (``"nir:cases"``), or 13 cells that make a well-formed body (sex 1 or 2, a real
    month: ``"nir:cases-sans-cle"``; :func:`parse_nir`). Other cell counts, and bodies that
    cannot be a NIR, are left to the other rules and the model."""
    out: list[tuple[int, int, str]] = []
    for m in _CELLS.finditer(text):
        cells = m.group()[::2]
        if len(cells) == 15:
            nir = parse_nir(cells)
            if nir is not None and nir.key_ok:
                out.append((m.start(), m.end(), "nir:cases"))
        elif len(cells) == 13:
            body = parse_nir(cells)
            if body is not None and body.sex in "12" and 1 <= int(body.month) <= 12:
                out.append((m.start(), m.end(), "nir:cases-sans-cle"))
    return out

"""Dates written inside exported note text, brought to the precision of the date columns.

``share export --dates mois|annee --with-notes`` coarsens every date column; the notes' text
says the same dates in words and digits ("revu le 12/03/2024", "le 3 mars 2024"). They are found
by the pseudonymiser's own date recognition (:func:`hopia.data.pseudo.rules.find_dates`, the
French month spellings of :data:`hopia.data.pseudo.patterns.MONTHS`) and replaced by their
coarsened value, written so that it reads as one: "mars 2024" for a month, "2024" for a year;
a day and month without a year, at year precision, becomes "[date]". Mentions keep pointing at
their words: their offsets are moved by the edits and their snippets cut again from the new
text, as the OMOP writer cuts them.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from hopia.data.pseudo.patterns import MONTH_NAMES
from hopia.data.pseudo.rules import date_fields, find_dates, match_date
from hopia.platform.text import fold

UNDATED = "[date]"
SNIPPET_CONTEXT = 60  # characters each side of a mention (hopia.data.omop.mapping)
SNIPPET_MAX = 250


@dataclass(frozen=True)
class Edit:
    """``text[start:end]`` replaced by ``new``."""

    start: int
    end: int
    new: str


@dataclass(frozen=True)
class Coarsened:
    """A text with its dates coarsened, and the edits that made it (to move offsets)."""

    text: str
    edits: tuple[Edit, ...]

    def position(self, old: int) -> int:
        """Where a position of the original text lies in the new one (inside a replaced date:
        its start or its end, whichever side of the date it bounds)."""
        starts = [e.start for e in self.edits]
        i = bisect.bisect_right(starts, old) - 1
        delta = sum(len(e.new) - (e.end - e.start) for e in self.edits[: max(i, 0)])
        if i < 0:
            return old
        edit = self.edits[i]
        if old >= edit.end:
            return old + delta + len(edit.new) - (edit.end - edit.start)
        return edit.start + delta + (len(edit.new) if old > edit.start else 0)

    def snippet(self, start: int, end: int) -> str:
        """The snippet of the mention at ``start``–``end`` (new offsets), cut as the OMOP
        writer cuts it."""
        lo, hi = max(0, start - SNIPPET_CONTEXT), min(len(self.text), end + SNIPPET_CONTEXT)
        return self.text[lo:hi].replace("\n", " ")[:SNIPPET_MAX]


def coarsen(text: str, precision: str) -> Coarsened:
    """``text`` with every date it writes brought to ``precision`` ("mois" or "annee"; "jour"
    leaves it as it is)."""
    if precision == "jour" or not text:
        return Coarsened(text, ())
    edits: list[Edit] = []
    for span in sorted(find_dates(text, fold(text)), key=lambda s: (s.start, -s.end)):
        if edits and span.start < edits[-1].end:
            continue  # two forms read the same date: the longest, leftmost one is replaced
        new = _coarse(text[span.start : span.end], precision)
        if new is not None:
            edits.append(Edit(span.start, span.end, new))
    if not edits:
        return Coarsened(text, ())
    parts, pos = [], 0
    for edit in edits:
        parts += [text[pos : edit.start], edit.new]
        pos = edit.end
    parts.append(text[pos:])
    return Coarsened("".join(parts), tuple(edits))


def _coarse(written: str, precision: str) -> str | None:
    """The coarsened value of one written date; None when it is already that coarse."""
    found = match_date(written)
    if found is None:
        return UNDATED  # recognised as a date but not read back: nothing of it leaves
    day, month, year = date_fields(*found)
    if precision == "mois":
        if day is None or month is None:
            return None  # "mars 2024", "2024": no day to hide
        return f"{MONTH_NAMES[month - 1]} {year}" if year else MONTH_NAMES[month - 1]
    if day is None and month is None:
        return None  # a year alone
    return str(year) if year else UNDATED

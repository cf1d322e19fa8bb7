"""Where the statistical PHI model is worth running: the lines the rules leave unexplained.

The model costs most of the hybrid detector's time, yet on most lines of a clinical note the
rules and gazetteers already account for every word that could identify someone: lab values,
drug lines, section headings, sentences in lower case. :func:`unexplained_regions` returns the
runs of consecutive lines that hold at least one word the rules did not read and that could be
a name or a place — capitalised, in capitals, or a first name or surname of the gazetteers — and
is not a common or medical word of the stop-list. The model runs on those regions only
(:meth:`hopia.data.pseudo.model.PhiModel.predict`); whatever it would have found on the other
lines is, by construction, already covered by a rule span or made only of common words.

A number or code of five characters or more that no rule read sends its line to the model too
(an identifier written without its label).
"""

from __future__ import annotations

import re
from functools import lru_cache

from hopia.data.pseudo import patterns as P

_WORD = re.compile(r"[^\W\d_]+")  # on folded text
# Five characters or more with a digit, blanks allowed inside ("A1234567", "80 01 45 23 67"):
# identifiers the model learnt to read without their label.
_CODE = re.compile(r"(?<![\w,.])(?=[\w ]{0,3}\d)[^\W_](?:[^\W_]| (?=\d)){4,}(?![\w]|[,.]\d)")


def unexplained_regions(text: str, folded: str | None = None) -> list[tuple[int, int]]:
    """``(start, end)`` of the runs of consecutive lines of ``text`` that hold a word the rules
    left unexplained (see the module's docstring); sorted, disjoint, each ending at a line
    end."""
    from hopia.data.pseudo.gazetteer import load
    from hopia.data.pseudo.rules import detect_rules

    if not text:
        return []
    folded = P.fold(text) if folded is None else folded
    covered = bytearray(len(text))
    for s in detect_rules(text, folded):
        covered[s.start : s.end] = b"\x01" * (s.end - s.start)
    g = load()
    stop = _stop_words()
    regions: list[tuple[int, int]] = []
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end == -1 else end + 1
        if _needs_model(text, folded, covered, start, end, g.first_names, g.surnames, stop):
            if regions and regions[-1][1] == start:
                regions[-1] = (regions[-1][0], end)  # one region: the model keeps its context
            else:
                regions.append((start, end))
        start = end
    return regions


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from hopia.data.pseudo.gazetteer import load

    return load().stop | P.NAME_STOPWORDS


def _needs_model(
    text: str,
    folded: str,
    covered: bytearray,
    start: int,
    end: int,
    first_names: dict[str, int],
    surnames: dict[str, int],
    stop: frozenset[str],
) -> bool:
    """Whether the line ``start:end`` holds a word the model may read better than the rules:

    - a name of the lists that is not a common word ("Belmont", "kerbrat"; not "matin");
    - a capitalised word no list knows ("Kerdrévan"), unless it opens the line or a sentence,
      where headings and analytes stand ("Créatinine :", "Biochimie"), and is not followed by
      another capitalised word ("Kerbrat Soizic");
    - never a word of one or two letters, nor a short acronym no list knows ("LDL", "TSH").
    """
    from hopia.data.pseudo.gazetteer import AMBIGUOUS

    for m in _CODE.finditer(folded, start, end):
        if covered.find(0, *m.span()) != -1:
            return True  # a number or code the rules did not read: an identifier, maybe
    for m in _WORD.finditer(folded, start, end):
        s, e = m.span()
        word = m.group()
        if e - s <= 2 or word in stop or covered.find(0, s, e) == -1:
            continue  # too short, a common word, or every letter read by a rule
        code = first_names.get(word, 0) | surnames.get(word, 0)
        if code:
            if not code & AMBIGUOUS or not text[s].islower():
                return True
            continue
        if text[s].islower() or (text[s:e].isupper() and e - s <= 4):
            continue
        if not _opens(text, start, s) or _NAME_NEXT.match(text, e):
            return True
    return False


# After a word opening a line: another capitalised word, as in "Kerbrat Soizic" (a heading or an
# analyte is followed by a colon, a value or words in lower case).
_NAME_NEXT = re.compile(r"[ \t,]+[A-ZÀ-Þ][\w'’\-]*(?![ \t]*:)")


def _opens(text: str, line_start: int, pos: int) -> bool:
    """Nothing but blanks, bullets or a sentence end between the line start (or the previous
    sentence) and ``pos``."""
    k = pos - 1
    while k >= line_start and text[k] in ' \t-*•>("«':
        k -= 1
    return k < line_start or text[k] in ".!?:;"

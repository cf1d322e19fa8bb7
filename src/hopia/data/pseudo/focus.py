"""Where the statistical PHI model is worth running: the lines the rules leave unexplained.

The model costs most of the hybrid detector's time, yet on most lines of a clinical note every
word is a common French or medical word, or was read by a rule: lab values, drug lines, section
headings, sentences in lower case. :func:`unexplained_regions` returns the runs of consecutive
lines that hold at least one word that is **not** such a known word — a name of the gazetteers,
a capitalised name or commune even when it is also a common word ("Pierre", "Tours"), or any
word no list knows, in whatever case ("kerbrat", "Yassine") — or a number or code of five
characters or more that no rule read (an identifier written without its label). The model runs
on those regions only (:meth:`hopia.data.pseudo.model.PhiModel.predict`).

The known words are the stop-list of the gazetteers (CIM-10 label words, drug names, spaCy's
French stop words) and ``focus_words.txt``: a general French lexicon (pyspellchecker's French
dictionary and EDS-NLP's verb forms, built by ``scripts/build_focus_lexicon.py``) without the
gazetteers' unambiguous names and communes; none of it comes from the synthetic CHU's
generator. A line skipped this way holds, in lower case, only words that are common words or
names that are common words too ("pierre", "rose"): a model span made of those alone would be
dropped anyway (:func:`hopia.data.pseudo.model._plausible` keeps a lower-case name only when
it is an unambiguous one).
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from hopia.data.pseudo import patterns as P

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hopia.data.pseudo.gazetteer import Gazetteer
    from hopia.data.pseudo.rules import PhiSpan

_WORD = re.compile(r"[^\W\d_]+")  # on folded text
LEXICON = Path(__file__).with_name("focus_words.txt")
# Five characters or more with a digit, blanks allowed inside ("A1234567", "80 01 45 23 67"):
# identifiers the model learnt to read without their label.
_CODE = re.compile(r"(?<![\w,.])(?=[\w ]{0,3}\d)[^\W_](?:[^\W_]| (?=\d)){4,}(?![\w]|[,.]\d)")


def unexplained_regions(
    text: str, folded: str | None = None, rule_spans: Sequence[PhiSpan] | None = None
) -> list[tuple[int, int]]:
    """``(start, end)`` of the runs of consecutive lines of ``text`` that hold a word the rules
    left unexplained (see the module's docstring); sorted, disjoint, each ending at a line
    end. ``rule_spans``: ``detect_rules(text)`` when the caller already has them."""
    from hopia.data.pseudo.gazetteer import load
    from hopia.data.pseudo.rules import detect_rules

    if not text:
        return []
    folded = P.fold(text) if folded is None else folded
    covered = bytearray(len(text))
    anchors: list[int] = []  # starts of the rule spans whose line the model reads anyway
    for s in detect_rules(text, folded) if rule_spans is None else rule_spans:
        covered[s.start : s.end] = b"\x01" * (s.end - s.start)
        if s.label in _MODEL_READS:
            anchors.append(s.start)
    anchors.sort()
    g = load()
    known = _known_words()
    regions: list[tuple[int, int]] = []
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end == -1 else end + 1
        if _anchored(anchors, start, end) or _needs_model(
            text, folded, covered, start, end, g, known
        ):
            if regions and regions[-1][1] == start:
                regions[-1] = (regions[-1][0], end)  # one region: the model keeps its context
            else:
                regions.append((start, end))
        start = end
    return regions


# A hospital or a street the rules found: the model reads the words around it too ("l'Hôpital
# Nord", "la rue Rivoli, Paris"), whose extent the rules leave out.
_MODEL_READS = frozenset({"HOPITAL", "ADRESSE"})


def _anchored(anchors: list[int], start: int, end: int) -> bool:
    i = bisect.bisect_left(anchors, start)
    return i < len(anchors) and anchors[i] < end


@lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    """Common words that explain themselves: the gazetteers' stop-list and the lexicon."""
    from hopia.data.pseudo.gazetteer import load

    lines = LEXICON.read_text(encoding="utf-8").splitlines()
    return load().stop | P.NAME_STOPWORDS | frozenset(w for w in lines if w[:1] != "#")


def _needs_model(
    text: str,
    folded: str,
    covered: bytearray,
    start: int,
    end: int,
    g: Gazetteer,
    known: frozenset[str],
) -> bool:
    """Whether the line ``start:end`` holds something the model may read better than the rules
    (what a rule read wholly aside):

    - a number or code of five characters or more with a digit no rule read ("A1234567",
      "02.72.43.92"), or initials ("J-M.", "S.C");
    - a month no date rule read: a date written in words;
    - a first name, surname or single-word commune of the gazetteers that is not also a common
      word ("Belmont", "kerbrat"), or one that is, written with a capital ("Pierre", "Tours"),
      unless it opens a sentence alone and is not a frequent first name ("Bilan :");
    - a capitalised word inside a sentence that is not a medical or function word of the
      stop-list ("l'Hôpital Nord", "rue Rivoli", "HCI"): names, places and sites;
    - any other word of three letters or more that is neither in the stop-list nor in the
      lexicon, whatever its case ("yassine").
    """
    from hopia.data.pseudo.gazetteer import AMBIGUOUS

    for rx in (_CODE, _DIGITS):
        for m in rx.finditer(folded, start, end):
            if any(c.isdigit() and not covered[i] for i, c in enumerate(m.group(), m.start())):
                return True  # a number or code the rules did not read: an identifier, maybe
    for m in _INITIALS.finditer(text, start, end):
        if covered.find(0, *m.span()) != -1:
            return True
    for m in _WORD.finditer(folded, start, end):
        s, e = m.span()
        if covered.find(0, s, e) == -1:
            continue  # every letter read by a rule
        word = m.group()
        if word in P.MONTHS and e - s > 3:
            return True
        if e - s <= 2 or "µ" in word:
            continue  # too short to be a name, or a unit ("µmol")
        first = g.first_names.get(word, 0)
        code = first | g.surnames.get(word, 0)
        commune = g.communes.get(word)
        capital = not text[s].islower()
        opens = capital and _opens(text, start, s)
        if code or commune is not None:
            ambiguous = (not code or code & AMBIGUOUS) and (commune is None or commune.ambiguous)
            if not ambiguous:
                return True
            # "Bilan :", "Patient revu", "Bonne évolution": a common word that is also a name,
            # opening a sentence alone; a frequent first name stays a name ("Pierre")
            frequent = first >> 1 in _FREQUENT_TIERS
            if capital and (frequent or not opens or _NAME_NEXT.match(text, e)):
                return True
        if capital and not opens:
            if word not in g.stop:
                return True
        elif word not in known:
            return True
    return False


_FREQUENT_TIERS = frozenset({1, 2})  # INSEE tiers of the first names given most (gazetteer.py)
# Digit groups with separators, a letter O for a zero ("O1.42.15.23.35"): phones, identifiers.
_DIGITS = re.compile(r"(?<![\w,])[\do](?:[ .\-/]?\d){4,}")
# Initials of a first name: "J-M.", "M.-Y", "S.C" (a capital alone is a title or a list mark).
_INITIALS = re.compile(r"(?<![\w.])[A-ZÀ-Þ](?:(?:\.?-|\.)[A-ZÀ-Þ])+\.?(?!\w)")


# After a word opening a sentence: another capitalised word, as in "Blanc Soizic".
_NAME_NEXT = re.compile(r"[ \t,]+[A-ZÀ-Þ]")


def _opens(text: str, line_start: int, pos: int) -> bool:
    """Nothing but blanks, bullets or a sentence end between the line start (or the previous
    sentence) and ``pos``."""
    k = pos - 1
    while k >= line_start and text[k] in ' \t-*•>("«':
        k -= 1
    return k < line_start or text[k] in ".!?:;"

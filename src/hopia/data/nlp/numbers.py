"""French numbers as clinicians write them: digits with a decimal comma, and number words.

The pipes match a number with a regular expression, then read it with :func:`parse_number`,
which never raises: text it cannot read as a finite number gives None, and the pipe leaves that
element out instead of failing on the whole document ("pendant dix jours" once did).

Words handled (accents and case ignored, hyphens or spaces between words):

- units, teens and tens: "zéro" … "seize", "dix-sept", "vingt", … "soixante"; Belgian and
  Swiss "septante", "huitante", "octante", "nonante";
- compounds: "vingt et un", "soixante-dix", "soixante et onze", "quatre-vingt(s)",
  "quatre-vingt-douze", "deux cents", "trois cent cinquante", "mille deux cents";
- approximate quantities: "une dizaine" (10), "une douzaine", "une quinzaine", "une vingtaine",
  … "une centaine" (100), "un millier"; "deux dizaines" is 20;
- halves: "demi" / "une demie" (0.5), "deux et demi" (2.5).

Digits: "12", "1,5", "1.5", "1 000" (ordinary, no-break or narrow no-break spaces between
thousands). At most :data:`MAX_DIGITS` digits: a longer run is not a clinical value (and
``int()`` refuses strings over 4,300 digits).
"""

from __future__ import annotations

import math
import re
import unicodedata

#: Longest run of digits read as a number.
MAX_DIGITS = 15

UNITS: dict[str, int] = {
    "zero": 0,
    "un": 1,
    "une": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "six": 6,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
    "onze": 11,
    "douze": 12,
    "treize": 13,
    "quatorze": 14,
    "quinze": 15,
    "seize": 16,
    "vingt": 20,
    "vingts": 20,
    "trente": 30,
    "quarante": 40,
    "cinquante": 50,
    "soixante": 60,
    "septante": 70,
    "huitante": 80,
    "octante": 80,
    "nonante": 90,
}
#: Nouns of approximate quantity: "une dizaine de jours".
APPROXIMATE: dict[str, int] = {
    "huitaine": 8,
    "dizaine": 10,
    "douzaine": 12,
    "quinzaine": 15,
    "vingtaine": 20,
    "trentaine": 30,
    "quarantaine": 40,
    "cinquantaine": 50,
    "soixantaine": 60,
    "centaine": 100,
    "millier": 1000,
}
MULTIPLIERS: dict[str, int] = {"cent": 100, "cents": 100}
SCALES: dict[str, int] = {"mille": 1000, "million": 10**6, "millions": 10**6}
HALF = ("demi", "demie", "demis", "demies")

_WORDS = sorted(
    [*UNITS, *(f"{w}s" for w in APPROXIMATE), *APPROXIMATE, *MULTIPLIERS, *SCALES, *HALF],
    key=len,
    reverse=True,
)
_WORD = "(?:" + "|".join(_WORDS) + ")"
#: A French number in words, on lower-cased accent-folded text (``\b``-bounded).
NUMBER_WORDS = rf"\b{_WORD}(?:(?:[\s-]+|[\s-]+et[\s-]+){_WORD})*\b"
#: A number in digits, decimal comma or point.
NUMBER_DIGITS = r"\d+(?:[.,]\d+)?"
#: Either; use it in a named group and read the group with :func:`parse_number`.
NUMBER = rf"(?:{NUMBER_DIGITS}|{NUMBER_WORDS})"

_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)?")
_SPLIT = re.compile(r"[\s\u00a0\u202f-]+")


def fold(text: str) -> str:
    """Lower case without accents (same folding as the pipes' matching text)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def parse_number(text: str | None) -> float | None:
    """The value of a number written in digits or French words, or None.

    >>> parse_number("1,5"), parse_number("dix"), parse_number("quatre-vingt-douze")
    (1.5, 10.0, 92.0)
    >>> parse_number("une dizaine"), parse_number("deux et demi"), parse_number("dix ans")
    (10.0, 2.5, None)
    """
    if text is None:
        return None
    stripped = text.strip()
    if not stripped:
        return None
    if stripped[0].isdigit():
        return parse_digits(stripped)
    return parse_words(stripped)


def parse_digits(text: str) -> float | None:
    """``"1 000,5"`` → 1000.5; None when it is not one number or is too long to be a value."""
    compact = _SPACES.sub("", text)
    if _DIGITS.fullmatch(compact) is None:
        return None
    if sum(c.isdigit() for c in compact) > MAX_DIGITS:
        return None
    try:  # \d also matches other scripts' digits, which float() reads
        value = float(unicodedata.normalize("NFKC", compact).replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_words(text: str) -> float | None:
    """French number words → their value; None for anything else ("dix ans", "et").

    Additive reading, as the language builds them: units and tens add up ("soixante" +
    "dix"), "quatre" before "vingt" makes 80, "cent" multiplies what precedes it, "mille" closes
    a group, "et demi" adds a half, an approximate noun multiplies its count ("deux
    dizaines")."""
    words = [w for w in _SPLIT.split(fold(text)) if w]
    if not words or words[0] == "et" or words[-1] == "et":
        return None
    total, current, seen = 0.0, 0.0, False
    previous = ""
    after_et = False
    for word in words:
        if word == "et":
            if after_et:
                return None
            after_et = True
            continue
        if word in ("vingt", "vingts") and previous == "quatre":
            current += 80 - 4  # quatre-vingt(s): 4 × 20
        elif word in UNITS:
            current += UNITS[word]
        elif word in MULTIPLIERS:
            current = (current or 1) * MULTIPLIERS[word]
        elif word in SCALES:
            total += (current or 1) * SCALES[word]
            current = 0.0
        elif word.rstrip("s") in APPROXIMATE:
            current = (current or 1) * APPROXIMATE[word.rstrip("s")]
        elif word in HALF:
            # "deux et demi" is 2.5; "un demi", "demi" alone are 0.5
            current = current + 0.5 if after_et else (current or 1) * 0.5
        else:
            return None
        seen, previous, after_et = True, word, False
    return total + current if seen else None


def as_int(value: float | None) -> int | None:
    """``value`` as an int when it is a finite whole number, else None."""
    if value is None or not math.isfinite(value) or not float(value).is_integer():
        return None
    return int(value)

"""French dictation conventions: what a clinician says that is not text.

A dictated note arrives as words with their times (:class:`Word`, from the speech recogniser).
:func:`apply_conventions` turns them into the note's text, word by word, and keeps for every
piece of the text the audio time range it came from, so that each fact found later in the text
points back at the words that were said (:meth:`Dictated.audio_range`).

What is read (accents and case ignored):

- **spoken punctuation and layout**: « virgule », « point » (« point final »), « point
  virgule », « deux points », « point d'interrogation », « point d'exclamation », « ouvrez /
  fermez la parenthèse », « tiret », « à la ligne », « nouvelle ligne », « nouveau paragraphe ».
  A word that is also a clinical word stays a word where it is one: « point de côté », « deux
  points de suture », « point de ponction »;
- **section commands**: a section title of the French clinical documents
  (:data:`hopia.data.nlp.pipes.sections.patterns.SECTIONS`: « antécédents », « traitement »,
  « conclusion », « histoire de la maladie »…) said at the start of a sentence and followed by
  « deux points » or « à la ligne » starts that section on a new line (« Antécédents : »);
- **numbers and doses**: number words become digits when they count something (« cinq cents
  milligrammes » → « 500 mg », « un virgule cinq » → « 1,5 », « deux fois par jour » → « × 2/j »);
  « un » / « une » alone stay articles (« une toux »); units are written as clinicians write
  them (mg, g, µg, mL, UI, mmol/L, mmHg, %, °C);
- **dates**: « le douze mars deux mille vingt-quatre » → « le 12/03/2024 », « premier » for 1.

Whisper often writes punctuation and digits itself; those pass through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from hopia.data.nlp.numbers import fold, parse_words

__all__ = ["Dictated", "Piece", "Word", "apply_conventions", "section_label"]


@dataclass(frozen=True)
class Word:
    """One recognised word and its time in the audio, in seconds."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Piece:
    """A piece of the note's text, ``[start, end)`` in it, said between ``audio_start`` and
    ``audio_end`` (None for text no word produced, such as a section's colon)."""

    start: int
    end: int
    audio_start: float | None
    audio_end: float | None


@dataclass
class Dictated:
    """The note's text after the conventions, and where each piece of it was said."""

    text: str
    pieces: list[Piece] = field(default_factory=list)

    def audio_range(self, start: int, end: int) -> tuple[float, float] | None:
        """The audio time range of the text ``[start, end)``: from the first to the last word
        that produced a piece of it; None when no word did."""
        times = [
            (p.audio_start, p.audio_end)
            for p in self.pieces
            if p.start < end and p.end > start and p.audio_start is not None
        ]
        if not times:
            return None
        return min(t[0] for t in times if t[0] is not None), max(
            t[1] for t in times if t[1] is not None
        )


# --- the vocabulary --------------------------------------------------------------------------

#: Spoken punctuation and layout, as folded word sequences, longest first when matched.
_MARKS: dict[tuple[str, ...], str] = {
    ("point", "virgule"): ";",
    ("point", "d'interrogation"): "?",
    ("point", "d", "interrogation"): "?",
    ("point", "d'exclamation"): "!",
    ("point", "d", "exclamation"): "!",
    ("point", "final"): ".",
    ("point", "a", "la", "ligne"): ".\n",
    ("deux", "points"): ":",
    ("ouvrez", "la", "parenthese"): "(",
    ("ouvrir", "la", "parenthese"): "(",
    ("ouvrez", "les", "parentheses"): "(",
    ("fermez", "la", "parenthese"): ")",
    ("fermer", "la", "parenthese"): ")",
    ("fermez", "les", "parentheses"): ")",
    ("a", "la", "ligne"): "\n",
    ("nouvelle", "ligne"): "\n",
    ("retour", "a", "la", "ligne"): "\n",
    ("nouveau", "paragraphe"): "\n\n",
    ("virgule",): ",",
    ("point",): ".",
    ("tiret",): "-",
}
_LONGEST_MARK = max(len(k) for k in _MARKS)
#: After these words a "point" or "deux points" is a clinical word, not punctuation.
_NOT_A_MARK_BEFORE = {"de", "d", "d'", "du", "des", "dans", "en", "au", "a", "sur", "douloureux"}

#: Units said in words → as written (folded word sequences).
_UNITS: dict[tuple[str, ...], str] = {
    ("milligrammes", "par", "kilo"): "mg/kg",
    ("milligramme", "par", "kilo"): "mg/kg",
    ("milligrammes", "par", "kilogramme"): "mg/kg",
    ("millimoles", "par", "litre"): "mmol/L",
    ("micromoles", "par", "litre"): "µmol/L",
    ("grammes", "par", "litre"): "g/L",
    ("gramme", "par", "litre"): "g/L",
    ("grammes", "par", "decilitre"): "g/dL",
    ("milligrammes", "par", "litre"): "mg/L",
    ("millimetres", "de", "mercure"): "mmHg",
    ("battements", "par", "minute"): "bpm",
    ("unites", "internationales"): "UI",
    ("pour", "cent"): "%",
    ("degres", "celsius"): "°C",
    ("milligrammes",): "mg",
    ("milligramme",): "mg",
    ("microgrammes",): "µg",
    ("microgramme",): "µg",
    ("grammes",): "g",
    ("gramme",): "g",
    ("millilitres",): "mL",
    ("millilitre",): "mL",
    ("litres",): "L",
    ("litre",): "L",
    ("unites",): "UI",
    ("degres",): "°C",
    ("kilos",): "kg",
    ("kilo",): "kg",
    ("kilogrammes",): "kg",
    ("centimetres",): "cm",
    ("millimetres",): "mm",
}
_LONGEST_UNIT = max(len(k) for k in _UNITS)
_MONTH_NAMES = (
    "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre"
)
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES.split(), start=1)}
_NUMBER_WORD = re.compile(
    r"(?:zero|une?|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|"
    r"quinze|seize|vingts?|trente|quarante|cinquante|soixante|septante|huitante|octante|nonante|"
    r"cents?|mille|et|demie?)"
)
_DIGITS = re.compile(r"\d+(?:[.,]\d+)?")
_EDGE = re.compile(r"^[^\w']+|[^\w']+$")
#: Section titles said as commands (built lazily from the NLP's section patterns).
_SECTION_TITLES: list[tuple[re.Pattern[str], str]] | None = None


_PUNCT = re.compile(r"[.,;:!?()]")
_GLUED = re.compile(r"^([.,;:!?()]*)(.*?)([.,;:!?()]*)$", re.S)


def _key(word: str) -> str:
    """The folded word, without quotes or dashes at its edges."""
    return _EDGE.sub("", fold(word))


def _split_punctuation(words: Sequence[Word]) -> list[Word]:
    """Punctuation the recogniser glued to a word becomes its own token, at the word's time
    ("jour." → "jour", "."), so that the conventions read words and marks apart."""
    out: list[Word] = []
    for w in words:
        lead, core, trail = _GLUED.match(w.text.strip()).groups()  # type: ignore[union-attr]
        out.extend(Word(c, w.start, w.start) for c in lead)
        if core:
            out.append(Word(core, w.start, w.end))
        out.extend(Word(c, w.end, w.end) for c in trail)
    return out


def _is_number_word(key: str) -> bool:
    """« quatre-vingt-douze » is one token of number words."""
    return bool(key) and all(_NUMBER_WORD.fullmatch(part) for part in key.split("-") if part)


def _sections() -> list[tuple[re.Pattern[str], str]]:
    global _SECTION_TITLES
    if _SECTION_TITLES is None:
        from hopia.data.nlp.pipes.sections.patterns import SECTIONS

        _SECTION_TITLES = [
            (re.compile(rf"(?:{'|'.join(patterns)})"), label)
            for label, patterns in SECTIONS.items()
        ]
    return _SECTION_TITLES


def section_label(phrase: str) -> str | None:
    """The section label of a spoken or written title (« Antécédents » → ``antécédents``), or
    None when it names no section."""
    return _section_label(_key(w) for w in phrase.split())


def _section_label(words: Iterable[str]) -> str | None:
    phrase = " ".join(words)
    for pattern, label in _sections():
        if pattern.fullmatch(phrase):
            return label
    return None


# --- the reader ------------------------------------------------------------------------------


class _Writer:
    """Builds the text piece by piece with French spacing, keeping each piece's audio range."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pieces: list[Piece] = []
        self.length = 0
        self.capitalise = True

    @property
    def last(self) -> str:
        return self.parts[-1] if self.parts else ""

    def at_line_start(self) -> bool:
        return not self.parts or self.last.endswith("\n")

    def at_sentence_start(self) -> bool:
        stripped = "".join(self.parts[-2:]).rstrip(" ")
        return not stripped or stripped[-1] in ".?!\n:"

    def _emit(self, text: str, start: float | None, end: float | None) -> None:
        if not text:
            return
        self.parts.append(text)
        self.pieces.append(Piece(self.length, self.length + len(text), start, end))
        self.length += len(text)

    def word(self, text: str, start: float | None, end: float | None) -> None:
        if self.capitalise and text[:1].isalpha():
            text = text[0].upper() + text[1:]
        self.capitalise = False
        if self.parts and not self.last.endswith(("\n", " ", "(", "'", "’", "-")):
            self._emit(" ", None, None)
        self._emit(text, start, end)

    def mark(self, mark: str, start: float | None, end: float | None) -> None:
        # French typography: a space before : ; ? ! and before an opening parenthesis
        while self.parts and self.last == " ":
            self.parts.pop()
            self.pieces.pop()
            self.length -= 1
        if mark in {":", ";", "?", "!", "("} and self.parts and not self.last.endswith("\n"):
            self._emit(" ", None, None)
        self._emit(mark, start, end)
        if mark.strip(" \n") in {".", "?", "!"} or "\n" in mark:
            self.capitalise = True

    def heading(self, title: str, start: float | None, end: float | None) -> None:
        while self.parts and self.last == " ":
            self.parts.pop()
            self.pieces.pop()
            self.length -= 1
        if self.parts and not self.last.endswith("\n"):
            self._emit("\n", None, None)
        self._emit(title[0].upper() + title[1:], start, end)
        self._emit(" : ", None, None)
        self.capitalise = False

    def text(self) -> str:
        return "".join(self.parts).strip()


def apply_conventions(words: Sequence[Word]) -> Dictated:
    """The note's text from the recognised words, with its pieces' audio times."""
    words = _split_punctuation(words)
    keys = [_key(w.text) if not _PUNCT.fullmatch(w.text) else w.text for w in words]
    out = _Writer()
    i = 0
    n = len(words)
    while i < n:
        step = (
            _read_section(words, keys, i, out)
            or _read_date(words, keys, i, out)
            or _read_mark(words, keys, i, out)  # "deux points" is a colon before it is 2
            or _read_number(words, keys, i, out)
        )
        if step:
            i += step
            continue
        if _PUNCT.fullmatch(words[i].text):
            out.mark(words[i].text, words[i].start, words[i].end)
            i += 1
            continue
        out.word(words[i].text.strip(), words[i].start, words[i].end)
        i += 1
    text = out.text()
    # the strip may have removed leading blanks: shift the pieces with it
    lead = len("".join(out.parts)) - len("".join(out.parts).lstrip())
    pieces = [
        Piece(p.start - lead, p.end - lead, p.audio_start, p.audio_end)
        for p in out.pieces
        if p.end - lead > 0 and p.start - lead < len(text)
    ]
    return Dictated(text=text, pieces=pieces)


def _span(words: Sequence[Word], i: int, j: int) -> tuple[float, float]:
    return words[i].start, words[j - 1].end


def _read_mark(words: Sequence[Word], keys: list[str], i: int, out: _Writer) -> int:
    for size in range(min(_LONGEST_MARK, len(keys) - i), 0, -1):
        mark = _MARKS.get(tuple(keys[i : i + size]))
        if mark is None:
            continue
        following = keys[i + size] if i + size < len(keys) else ""
        if keys[i] in {"point", "deux"} and following in _NOT_A_MARK_BEFORE:
            return 0  # "point de côté", "deux points de suture"
        if keys[i] == "tiret" and not out.at_line_start():
            return 0  # a dash within a sentence is said as a word only at a line's start
        out.mark(mark, *_span(words, i, i + size))
        return size
    return 0


def _read_section(words: Sequence[Word], keys: list[str], i: int, out: _Writer) -> int:
    """A section title at a sentence's start followed by « deux points » or « à la ligne »."""
    if not out.at_sentence_start():
        return 0
    for size in range(min(6, len(keys) - i), 0, -1):
        after = keys[i + size : i + size + 3]
        if after[:1] == [":"]:
            command = 1  # the recogniser wrote the colon itself
        elif after[:2] == ["deux", "points"]:
            command = 2
        elif after == ["a", "la", "ligne"]:
            command = 3
        else:
            command = 0
        if not command:
            continue
        label = _section_label(keys[i : i + size])
        if label is None:
            continue
        title = " ".join(w.text.strip(" ,.:;") for w in words[i : i + size])
        out.heading(title.lower(), *_span(words, i, i + size))
        return size + command
    return 0


def _number_run(keys: list[str], i: int) -> int:
    """Length of the run of number words at ``i`` (not ending on « et »)."""
    j = i
    while j < len(keys) and _is_number_word(keys[j]):
        j += 1
    while j > i and keys[j - 1] == "et":
        j -= 1
    if j > i and keys[i] == "et":
        return 0
    return j - i


def _value(keys: list[str], i: int, j: int) -> float | None:
    return parse_words(" ".join(keys[i:j]))


def _format(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:g}".replace(".", ",")


def _unit_at(keys: list[str], j: int) -> tuple[str, int] | None:
    for size in range(min(_LONGEST_UNIT, len(keys) - j), 0, -1):
        unit = _UNITS.get(tuple(keys[j : j + size]))
        if unit is not None:
            return unit, size
    return None


def _read_number(words: Sequence[Word], keys: list[str], i: int, out: _Writer) -> int:
    """Number words (or digits) that count something: a value, its unit, a frequency."""
    run = _number_run(keys, i)
    digits = _DIGITS.fullmatch(keys[i]) is not None
    if not run and not digits:
        return 0
    j = i + (run or 1)
    value = float(keys[i].replace(",", ".")) if digits else _value(keys, i, j)
    if value is None:
        return 0
    # a decimal said with "virgule": "un virgule cinq"
    if j + 1 < len(keys) and keys[j] == "virgule":
        decimals = _number_run(keys, j + 1)
        if decimals and (d := _value(keys, j + 1, j + 1 + decimals)) is not None:
            value = float(f"{_format(value)}.{int(d)}")
            j = j + 1 + decimals
    unit = _unit_at(keys, j)
    times = j < len(keys) and keys[j] == "fois"
    lone_article = not digits and keys[i:j] in (["un"], ["une"])
    if lone_article and unit is None and not times:
        return 0  # "une toux": an article
    if digits and unit is None and not times:
        return 0  # digits the recogniser wrote: left as they are
    if not digits and unit is None and not times and value < 2 and j - i == 1:
        return 0
    start, end = _span(words, i, j)
    if times:
        # "deux fois par jour" → "× 2/j"; "trois fois" alone → "3 fois"
        rest = keys[j + 1 : j + 3]
        per = {"jour": "/j", "semaine": "/sem", "mois": "/mois", "heure": "/h"}
        if rest[:1] == ["par"] and len(rest) == 2 and rest[1] in per:
            out.word(f"× {_format(value)}{per[rest[1]]}", start, words[j + 2].end)
            return j + 3 - i
        out.word(f"{_format(value)} fois", start, words[j].end)
        return j + 1 - i
    if unit is not None:
        symbol, size = unit
        out.word(f"{_format(value)} {symbol}", start, words[j + size - 1].end)
        return j + size - i
    out.word(_format(value), start, end)
    return j - i


def _read_date(words: Sequence[Word], keys: list[str], i: int, out: _Writer) -> int:
    """« douze mars deux mille vingt-quatre », « premier janvier » → 12/03/2024, 01/01."""
    if keys[i] == "premier":
        day, j = 1, i + 1
    else:
        run = _number_run(keys, i)
        if _DIGITS.fullmatch(keys[i]):
            run = 1
        if not run:
            return 0
        value = float(keys[i]) if run == 1 and keys[i].isdigit() else _value(keys, i, i + run)
        if value is None or not 1 <= value <= 31 or not float(value).is_integer():
            return 0
        day, j = int(value), i + run
    if j >= len(keys) or keys[j] not in _MONTHS:
        return 0
    month = _MONTHS[keys[j]]
    j += 1
    year = None
    if j < len(keys):
        if keys[j].isdigit() and len(keys[j]) == 4:
            year, j = int(keys[j]), j + 1
        else:
            run = _number_run(keys, j)
            value = _value(keys, j, j + run) if run else None
            if value is not None and 1900 <= value <= 2100 and float(value).is_integer():
                year, j = int(value), j + run
    text = f"{day:02d}/{month:02d}" + (f"/{year}" if year else "")
    out.word(text, *_span(words, i, j))
    return j - i

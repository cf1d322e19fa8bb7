"""Regular expressions of the labs pipe: numbers, units, the words between an analyte and its
value, and the analyte-name alternation built from the table.

Everything runs on an accent-folded copy of the text that keeps case and length
(:func:`fold_keep_case`), so offsets stay those of the document and "créatinine",
"creatinine" and "CRÉATININE" are one name, while "TA" (blood pressure) and "ta" (a possessive)
are not.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from hopia.data.nlp.pipes.labs.analytes import load_analytes


def _build_fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        ch = chr(code)
        base = unicodedata.normalize("NFD", ch)[0]
        if len(base) == 1 and base != ch and base.isalpha():
            table[code] = base
    table.update({ord("’"): "'", ord("μ"): "µ", ord("–"): "-", ord("—"): "-"})
    return table


_FOLD = _build_fold_table()


_FOLD_STR = {chr(k): v for k, v in _FOLD.items()}
_NON_ASCII = re.compile("[" + "".join(sorted(_FOLD_STR)) + "]")


def fold_keep_case(text: str) -> str:
    """Strip accents, keep case and length (one character in, one out)."""
    # re.sub touches only the accented characters: 5x faster than str.translate here
    return _NON_ASCII.sub(lambda m: _FOLD_STR[m.group()], text)


SP = r"[ \t\u00a0\u202f]"  # spaces within a line (a value never sits on the next line)
# "180 000" (thousands grouped by a space) before plain "12,5": only groups of exactly 3 digits.
NUM = r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?(?!\d)|\d+(?:[.,]\d+)?"

UNIT = (
    r"(?:(?:x\s?)?10\s?[\^*e]\s?9\s?/\s?l|giga\s?/\s?l"
    r"|(?:elements?\s?)?/\s?(?:mm\s?[3³]|[µu]l)"
    r"|ml\s?/\s?m(?:i)?n\s?/\s?1[.,]73\s?m?\s?[2²]?"
    r"|ml\s?/\s?m(?:i)?n"
    r"|(?:batt(?:ements)?|puls(?:ations)?|cycles|mvts|b|c)\s?/\s?m(?:i)?n|bpm|/\s?m(?:i)?n"
    r"|[cm]m\s?hg|kpa"
    r"|kg\s?/\s?m\s?[2²]"
    r"|(?:mc|[mµunpk])?(?:mol|g|ui|iu|u|eq)\s?/\s?(?:d?l|ml|24\s?h|j(?:our)?)"
    r"|°\s?c|°|degres?"
    r"|%"
    r"|/\s?(?:100|10|15)"
    r"|fl|kg|g|cm|m|s|sec(?:ondes?)?"
    r")(?![a-zA-Z0-9µ²³/])"
)

_CONNECTOR = (
    r"[:=]|\((?P<pre_unit>"
    + UNIT
    + r")\)|\([^()\n]{1,25}\)|en"
    + SP
    + r"+(?P<pre_unit2>"
    + UNIT
    + r")"
    r"|\b(?:a|de|du|est|etait|sont|etaient|mesuree?s?|retrouvee?s?|dosee?s?|controlee?s?"
    r"|initiale?s?|actuelle?s?|maximale?s?|max|nadir|pic|passe|remonte|descend|chute|baisse"
    r"|augmente|normale?s?|elevee?s?|basse?s?|abaissee?s?|a\s+l'admission|a\s+l'entree"
    r"|ce\s+jour|sanguine?s?|plasmatiques?|seriques?|veineuse?s?|capillaires?)\b"
)
GAP = r"(?:" + SP + r"*(?:" + _CONNECTOR + r")){0,4}" + SP + r"*"
CMP = r"(?P<cmp><=|>=|≤|≥|<|>|inf(?:erieure?)?\s+a|sup(?:erieure?)?\s+a|moins\s+de|plus\s+de)"

VALUE_RE = re.compile(
    GAP
    + r"(?:"
    + CMP
    + SP
    + r"*)?(?P<value>"
    + NUM
    + r")(?:"
    + SP
    + r"*(?:-|a)"
    + SP
    + r"*(?P<value2>"
    + NUM
    + r"))?(?:"
    + SP
    + r"*(?P<unit>"
    + UNIT
    + r"))?",
    re.IGNORECASE,
)
# "1m75": a height in metres and centimetres.
HEIGHT_RE = re.compile(GAP + r"(?P<m>[12])" + SP + r"?m" + SP + r"?(?P<cm>\d{2})(?!\d)", re.I)
# "150/90 mmHg", "15/9" (cmHg, the French bedside habit).
BP_VALUE_RE = re.compile(
    GAP
    + r"(?P<sys>\d{1,3}(?:[.,]\d)?)"
    + SP
    + r"*/"
    + SP
    + r"*(?P<dia>\d{1,3}(?:[.,]\d)?)(?!\d)(?:"
    + SP
    + r"*(?P<unit>[cm]m\s?hg))?",
    re.I,
)
# Values relative to the upper limit ("ASAT 3N", "ALAT à 5 x N", "10 fois la normale").
TIMES_NORMAL_RE = re.compile(SP + r"*(?:x" + SP + r"*)?(?:N\b|fois\b|x\b)", re.I)
# A reference range written by the lab: "(N : 13-17)", "(VN < 5)".
DOC_REF_RE = re.compile(
    SP + r"*\(\s*(?:N|VN|VR|normales?|valeurs?\s+normales?|ref\.?|reference)\s*[:=]?\s*"
    r"(?:(?P<lo>"
    + NUM
    + r")\s*(?:-|a)\s*(?P<hi>"
    + NUM
    + r")|(?P<rcmp><|>|≤|≥)\s*(?P<one>"
    + NUM
    + r"))[^()\n]{0,15}\)",
    re.I,
)

# Unanchored vitals: a unit that names the measurement by itself. These run on lower-cased
# text and start with a digit so that the regex engine skips to digits; the character before
# the number is checked by the caller.
UNANCHORED_BP_RE = re.compile(
    r"(?P<sys>\d{2,3})"
    + SP
    + r"*/"
    + SP
    + r"*(?P<dia>\d{2,3})"
    + SP
    + r"*(?P<unit>mm\s?hg)(?![a-z])"
)
UNANCHORED_RE = re.compile(
    r"(?P<num>\d{2,3}(?:[.,]\d{1,2})?)" + SP + r"*(?:"
    r"(?P<fc_unit>bpm|batt(?:ements)?\s?/\s?min)"
    r"|(?P<temp_unit>°\s?c)(?![a-z])"
    r"|(?P<spo2_unit>%)" + SP + r"*(?:en\s+|a\s+l'|sous\s+)?"
    r"(?:aa\b|air\s+ambiant|\d+\s?l(?:/min)?\b|o2\b|oxygene\b|lunettes)"
    r")"
)
UNANCHORED_HEIGHT_RE = re.compile(r"(?P<h_m>[12])m(?P<h_cm>\d{2})(?!\d)")
UNANCHORED_CUES = ("hg", "bpm", "batt", "°", "%")


# Combined systolic/diastolic names; the key is not in the table (it yields "pas" and "pad").
BP_KEY = "_bp"
BP_NAMES = ("TA", "PA", "pression artérielle", "tension artérielle", "PA/TA", "TA/PA", "tension")


def _unit_key(raw: str) -> str:
    s = re.sub(r"\s+", "", fold_keep_case(raw)).replace("²", "2").replace("³", "3").lower()
    s = s.replace(",", ".").replace("iu", "ui").replace("/mn", "/min").replace("mc", "µ")
    return re.sub(r"^u(?=(?:mol|g|ui|l)/)", "µ", s).replace("/ul", "/µl")


_UNIT_ALIASES: dict[str, tuple[str, ...]] = {
    "g/dl": ("g/dL",),
    "mmol/l": ("mmol/L",),
    "µmol/l": ("µmol/L",),
    "nmol/l": ("nmol/L",),
    "mg/l": ("mg/L",),
    "mg/dl": ("mg/dL",),
    "ng/ml": ("ng/mL",),
    "ng/l": ("ng/L",),
    "pg/ml": ("pg/mL",),
    "µg/l": ("µg/L",),
    "µg/ml": ("µg/mL",),
    "meq/l": ("mEq/L",),
    "ui/l": ("UI/L",),
    "u/l": ("U/L",),
    "mui/l": ("mUI/L",),
    "mu/l": ("mU/L",),
    "µui/ml": ("µUI/mL",),
    "µu/ml": ("µUI/mL",),
    "u/ml": ("U/mL",),
    "ui/ml": ("UI/mL",),
    "ku/l": ("kU/L",),
    "g/24h": ("g/24h",),
    "g/j": ("g/j",),
    "g/jour": ("g/j",),
    "mg/24h": ("mg/24h",),
    "%": ("%",),
    "mmhg": ("mmHg",),
    "cmhg": ("cmHg",),
    "kpa": ("kPa",),
    "bpm": ("bpm", "/min"),
    "/min": ("/min", "bpm"),
    "kg/m2": ("kg/m²",),
    "ml/min": ("mL/min", "mL/min/1.73m²"),
    "fl": ("fL",),
    "kg": ("kg",),
    "g": ("g",),
    "cm": ("cm",),
    "m": ("m",),
    "s": ("s",),
    "sec": ("s",),
    "seconde": ("s",),
    "secondes": ("s",),
    "/10": ("/10",),
    "/100": ("/100",),
    "/15": ("/15",),
    "/mm3": ("/mm3",),
    "element/mm3": ("/mm3",),
    "elements/mm3": ("/mm3",),
    "/µl": ("/µL",),
    "°": ("°C",),
    "°c": ("°C",),
    "degre": ("°C",),
    "degres": ("°C",),
}
for _alias in ("batt/min", "battements/min", "b/min", "puls/min", "pulsations/min"):
    _UNIT_ALIASES[_alias] = ("bpm", "/min")
for _alias in ("cycles/min", "c/min", "mvts/min"):
    _UNIT_ALIASES[_alias] = ("/min",)


@lru_cache(maxsize=4096)
def unit_candidates(raw: str) -> tuple[str, ...]:
    """Canonical spellings a written unit may stand for, the likeliest first.

    "G/L" is giga per litre (cells) and "g/L" grams per litre; notes mix the cases, so both
    are offered, in the order the case suggests, and the analyte picks the one it accepts.
    """
    key = _unit_key(raw)
    if key == "g/l":
        return ("G/L", "g/L") if raw.lstrip()[:1] == "G" else ("g/L", "G/L")
    if key.startswith(("giga", "10^9", "10*9", "x10", "10e9")):
        return ("G/L",)
    if key.startswith("ml/min/1.73"):
        return ("mL/min/1.73m²", "mL/min")
    return _UNIT_ALIASES.get(key, ())


def _atoms(name: str) -> tuple[str, ...]:
    """A lower-case name as regex atoms; spaces and hyphens are interchangeable."""
    atoms = []
    for ch in name:
        if ch == " ":
            atoms.append(r"[ \u00a0\-]+")
        elif ch == "-":
            atoms.append(r"[ \u00a0\-]?")
        else:
            atoms.append(re.escape(ch))
    return tuple(atoms)


def _trie_regex(names: list[tuple[str, ...]]) -> str:
    """One regex for many names, factored by common prefixes: each position tries the few
    distinct first characters instead of every name (the plain alternation cost ~7 ms/doc).
    Optional tails are greedy, so the longest name ending at a word boundary wins."""
    trie: dict = {}
    for atoms in names:
        node = trie
        for atom in atoms:
            node = node.setdefault(atom, {})
        node[""] = {}

    def build(node: dict) -> str:
        branches = [atom + build(child) for atom, child in node.items() if atom]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return "(?:" + body + ")?" if "" in node else body

    return build(trie)


def _case_blind(name: str) -> bool:
    """Short abbreviations keep their case ("TA" blood pressure, "ta" a possessive; "K", "PAS"
    and "pas"); lower-case names and longer ones match in any case."""
    return name == name.lower() or len(re.sub(r"[\s\-]", "", name)) > 3


def lower_same_length(text: str) -> str:
    """``text.lower()``, except for the rare characters whose lower case is longer."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def name_key(text: str) -> str:
    """The lookup form of a matched name: folded, lower case, no spaces or hyphens."""
    return re.sub(r"[\s\-]+", "", fold_keep_case(text)).lower()


@dataclass(frozen=True, eq=False)  # hashed by identity, for the resolve cache
class NameIndex:
    """What a matched name stands for: analyte key by :func:`name_key`, and for the
    case-sensitive abbreviations, the spellings allowed."""

    keys: dict[str, str]
    exact: dict[str, frozenset[str]]  # name_key -> allowed case-kept compact forms

    @lru_cache(maxsize=4096)  # noqa: B019 - one index per process, kept for its lifetime
    def resolve(self, matched: str) -> str | None:
        nk = name_key(matched)
        allowed = self.exact.get(nk)
        if allowed is not None and re.sub(r"[\s\-]+", "", fold_keep_case(matched)) not in allowed:
            return None
        return self.keys.get(nk)


@cache
def analyte_matcher() -> tuple[re.Pattern[str], NameIndex]:
    """The regex of every analyte name and the index resolving a match to its analyte."""
    names: dict[str, str] = {}
    by_key: dict[str, str] = {}
    for key, analyte in load_analytes().items():
        for name in analyte.names:
            _register(names, by_key, name, key)
    for name in BP_NAMES:
        _register(names, by_key, name, BP_KEY)
    keys = {name_key(n): k for n, k in names.items()}
    blind = {name_key(n) for n in names if _case_blind(fold_keep_case(n))}
    exact: dict[str, set[str]] = {}
    for n in names:
        nk = name_key(n)
        if nk not in blind:
            exact.setdefault(nk, set()).add(re.sub(r"[\s\-]+", "", fold_keep_case(n)))
    lowered = sorted({fold_keep_case(n).lower() for n in names})
    # Plain lower-case literals, run on lower-cased text: the regex engine then skips ahead to
    # the possible first characters (a leading look-behind or [xX] classes would disable that);
    # the word boundary before a name is checked by the caller.
    pattern = re.compile(_trie_regex([_atoms(n) for n in lowered]) + r"(?![\w])")
    return pattern, NameIndex(keys, {k: frozenset(v) for k, v in exact.items()})


def _register(names: dict[str, str], by_key: dict[str, str], name: str, key: str) -> None:
    nk = name_key(name)
    if by_key.setdefault(nk, key) != key:
        raise ValueError(f"nom d'analyte ambigu {name!r} ({key} et {by_key[nk]})")
    names[name] = key

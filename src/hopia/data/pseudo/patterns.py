"""Regular expressions and word lists of the rule-based pseudonymiser, as plain Python.

Every regex is compiled once at import. Patterns that start with a repeated character class carry
a look-behind excluding that class, so a match is only tried at the start of a run, and every
repetition is bounded: each scan stays linear on pathological input (megabytes of digits or
capitals, no separators). Word lists are plain facts (common French names, communes).
"""

from __future__ import annotations

import re

from hopia.data.records import PHI_LABELS as LABELS  # noqa: F401 - re-exported
from hopia.platform.text import FOLD_TABLE, fold  # noqa: F401 - re-exported for the rules

# Character classes. Python's \w also matches digits and underscore; names need letters only.
UP = "A-ZÀ-ÖØ-ÞŒ"
LO = "a-zß-öø-ÿœ"
LET = UP + LO
APOS = "'’"


def words(block: str) -> list[str]:
    """The words of a literal block: keeps long word lists readable, a few per line."""
    return block.split()


def _scan(first: str, pattern: str, flags: int = 0) -> re.Pattern[str]:
    """Compile ``pattern`` behind a look-ahead on its possible first characters: ``re`` can then
    skip to candidate positions instead of trying the look-behinds at every character (3-5x
    faster on long texts)."""
    return re.compile(f"(?={first})(?:{pattern})", flags)


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------

# Month spellings (folded) → month number. Longest first in the regex below.
MONTHS: dict[str, int] = {
    "janvier": 1, "janv": 1, "jan": 1,
    "fevrier": 2, "fevr": 2, "fev": 2, "feb": 2,
    "mars": 3, "mar": 3,
    "avril": 4, "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7, "juil": 7, "jul": 7,
    "aout": 8, "aou": 8,
    "septembre": 9, "sept": 9, "sep": 9,
    "octobre": 10, "oct": 10,
    "novembre": 11, "nov": 11,
    "decembre": 12, "dec": 12,
}  # fmt: skip
MONTH_NAMES = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
MONTH_ABBRS = (
    "janv", "févr", "mars", "avr", "mai", "juin", "juil", "août", "sept", "oct", "nov", "déc",
)  # fmt: skip
WEEKDAYS: dict[str, int] = {
    "lundi": 0, "lun": 0, "mardi": 1, "mar": 1, "mercredi": 2, "mer": 2, "jeudi": 3, "jeu": 3,
    "vendredi": 4, "ven": 4, "samedi": 5, "sam": 5, "dimanche": 6, "dim": 6,
}  # fmt: skip
WEEKDAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
WEEKDAY_ABBRS = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")


def _alt(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_MONTH_ALT = _alt(list(MONTHS))
MONTH_ALT = _MONTH_ALT  # for the rules: every month spelling, longest first, folded
# French number words (folded), for days and years written out: see rules.number_words
NUMBER_WORDS: dict[str, int] = {
    "premier": 1, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
    "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13,
    "quatorze": 14, "quinze": 15, "seize": 16, "vingt": 20, "vingts": 20, "trente": 30,
    "quarante": 40, "cinquante": 50, "soixante": 60, "cent": 100, "cents": 100, "mille": 1000,
    "et": 0,
}  # fmt: skip
_NUMW = "(?:" + _alt([w for w in NUMBER_WORDS if w != "et"]) + "|et(?=[ \\-]+(?:un|onze)))"
_WEEKDAY_ALT = _alt(list(WEEKDAYS))
_FLET = r"[^\W\d_]"  # a letter, in folded text

_DAY = r"(?P<day>0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?P<month>0?[1-9]|1[0-2])"
_YEAR = r"(?P<year>(?:19|20)\d{2}|\d{2})"
_YEAR4 = r"(?P<year>(?:19|20)\d{2})"

# Each date form is its own regex (Python forbids a group name twice in one pattern); the same
# regexes parse a date back for surrogates (``fullmatch``), so detection and rendering agree.
DATE_FORMS: dict[str, re.Pattern[str]] = {
    # 12/03/2024, 12-03-24, 12.03.2024, 08/ 09/18, 21|05|1956
    "dmy": _scan(
        r"\d",
        rf"(?<![\d/.\-|]){_DAY}[ ]?(?P<sep>[/.\-|])[ ]?{_MONTH}[ ]?(?P=sep)[ ]?{_YEAR}"
        r"(?!\d|[/.\-]\d)",
    ),
    # 20 12 2003 (spaces only; four-digit year so phone numbers do not match)
    "dmy_space": _scan(
        r"\d",
        rf"(?<![\d/.\-])(?<!\d )(?P<day>0[1-9]|[12]\d|3[01]) (?P<month>0[1-9]|1[0-2]) {_YEAR4}"
        r"(?! ?\d)",
    ),
    # 2024-03-12, 2021/12/10
    "ymd": _scan(
        "[12]", rf"(?<![\d/.\-]){_YEAR4}(?P<sep>[-/.]){_MONTH}(?P=sep){_DAY}(?!\d|[/.\-]\d)"
    ),
    # 23022018 (DDMMYYYY)
    "compact": _scan(
        "[0-3]",
        r"(?<![\w])(?P<day>0[1-9]|[12]\d|3[01])(?P<month>0[1-9]|1[0-2])(?P<year>(?:19|20)\d{2})"
        r"(?!\w)",
    ),
    # 1 4 0 6 2 0 2 2 (one digit per cell, as table exports write DDMMYYYY)
    "spaced": _scan(
        "[0-3]",
        r"(?<![\d])(?<!\d )(?P<day>[0-2] \d|3 [01]) (?P<month>0 [1-9]|1 [0-2]) "
        r"(?P<year>(?:1 9|2 0) \d \d)(?! ?\d)",
    ),
    # lundi 12 mars 2024, 1er mars 2024, mars 2024, 12 mars, 05nov, 01sep2018, SAM 20 FÉVR 2083.
    # Runs on FOLDED text (see FOLDED_DATE_FORMS): lower case, no accents, so no IGNORECASE
    # and plain alternations, several times faster; offsets are those of the original.
    "text": _scan(
        "[0-9a-z]",
        rf"(?<!{_FLET})(?<!\d)"
        rf"(?:(?P<weekday>{_WEEKDAY_ALT})\.?,?[ ]+)?"
        r"(?:(?P<day>1er|0?[1-9]|[12]\d|3[01])(?:er)?[ ]*,?[ ]*)?"
        rf"(?P<monthname>{_MONTH_ALT})(?!{_FLET})\.?"
        # a 4-digit year, or 2 digits right after the month ("mars 19") but not a quantity
        r"(?:(?:,?[ ]*(?=(?:19|20)\d{2})|[ ]+(?=\d{2}(?!\d)(?![ ]?(?:mg|g|ml|h|%|ans|kg)\b)))"
        r"(?P<year>\d{2}(?:\d{2})?)(?![\d,./\-]\d|\d))?",
    ),
    # Sept 01, 2026 / mars 12, 2024: the month first, as English writes it (the comma required)
    "mdy": _scan(
        "[a-z]",
        rf"(?<!{_FLET})(?P<monthname>{_MONTH_ALT})\.?[ ]+(?P<day>0?[1-9]|[12]\d|3[01])"
        r"[ ]*,[ ]*(?P<year>(?:19|20)\d{2})(?!\d)",
    ),
    # vingt-quatre août deux mille dix-sept, le deux janvier mille neuf cent soixante-dix-huit,
    # vingt-six 02 2012, mars deux mille vingt: days and years in words, as dictated (folded text)
    "words": _scan(
        "[a-z1]",
        rf"(?<!{_FLET})(?:(?P<dayw>1er|(?!et[ \-]){_NUMW}(?:[ \-]+{_NUMW}){{0,3}})[ ]+)?"
        rf"(?:(?P<monthname>{_MONTH_ALT})(?!{_FLET})\.?|(?P<month>0?[1-9]|1[0-2])(?=[ ]+\d))"
        rf"(?:[ ]+(?:(?P<yearw>(?:deux[ \-]+mille|mille|dix[ \-]+neuf[ \-]+cents?)"
        rf"(?:[ \-]+{_NUMW}){{0,7}})|(?P<year>(?:19|20)\d{{2}}|\d{{2}})(?![\d,./\-]\d|\d)))?"
        rf"(?!{_FLET})",
    ),
    # 07/2002, 11-2019, 03.2020, and "en 07 2002" after a date word (see rules.py)
    "my": _scan(
        r"[01]",
        r"(?<![\d/.,\-])(?P<month>0[1-9]|1[0-2])(?P<sep>[/.\- ])(?P<year>(?:19|20)\d{2})"
        r"(?!\d|[/.\-]\d)",
    ),
    # 12/03, 13 / 03, 28.09 (kept only after a date word, see rules.py)
    "dm": _scan(
        r"\d",
        rf"(?<![\d/.,\-]){_DAY}[ ]?(?P<sep>[/.])[ ]?{_MONTH}(?![\d]|[ ]?[/.,][ ]?\d|[ ]?%)"
        r"(?!\s*(?:semaines?|jours?|mois|ans|fois|heures?|h\b|cp|comprim))",
    ),
    # 2019 alone (not a decree number, not a quantity, not inside a digit table)
    "year": _scan(
        "[12]",
        r"(?<![\w°/.,\-])(?<!\d )(?P<year>19[0-9]\d|20[0-4]\d)"
        rf"(?![\w/\-]|[.,]\d| ?\d|[ ]?(?:mg|g|ml|ui|UI|€|euros?|kg|cp|m²)(?![{LET}]))",
    ),
}

FOLDED_DATE_FORMS = frozenset({"text", "mdy", "words"})  # forms whose regex runs on fold(text)

# A day/month pair alone is a date only after one of these words (else fractions, blood
# pressure "TA 12/8", doses). Applied to the text just before the candidate.
DM_CONTEXT = re.compile(
    r"(?:\b(?:le|du|au|dès|des|depuis|jusqu'au|jusqu’au|avant|après|vers|et|entre|"
    r"prévue?s?|prévu|rdv|c\d{1,2}|j\d{1,3}|s\d{1,2}|m\d{1,2}|cure|cycle)|\(|,)\s*:?\s*$",
    re.IGNORECASE,
)
# A year alone is a date after these words or at the start of a list item ("- 1981 ...").
YEAR_CONTEXT = re.compile(
    r"(?:\b(?:en|depuis|dès|année|an|courant|fin|début|mi|avant|après|jusqu'en|jusqu’en|"
    r"automne|hiver|printemps|été|né|née|de|in|since|vers|entre|et|à)\s*-?\s*|"
    r"(?:^|\n|[:;(])\s*-?\s*|\s-\s)$",
    re.IGNORECASE,
)
# A birth date: the words before it, or "(45 ans)" after it, or a sex cell before it.
BIRTH_BEFORE = re.compile(
    r"(?:\bn[ée]e?s?\b\.?(?:\s+(?:le|en|au))?|naissance|\bDDN|\bD\.D\.N\.?|\bdob)"
    r"\s*[:\-]?\s*(?:le\s+)?$"
    r"|(?:^|[|,;\s])(?-i:[MFH])\s*[|,]\s*$",
    re.IGNORECASE,
)
BIRTH_AFTER = re.compile(r"\s*\(?\s*\d{1,3}\s*ans\b", re.IGNORECASE)  # used with .match

# ---------------------------------------------------------------------------------------------
# Numbers: NIR, phones, e-mails, hospital identifiers
# ---------------------------------------------------------------------------------------------

# A run of up to 17 NIR characters with light separators, not starting inside a run of
# one-digit cells; rules.py decides what it is.
NIR_RUN = _scan(
    "[1-478]",
    # after a run of cells only when its own groups are not cells ("0 8 0 5 2 0 1 8 1 96 01 ...")
    r"(?<![\w/:\-])(?:(?<!(?<!\d)\d[ .])|(?=\d(?:[ .]\d\d|\d)))"
    r"[1-478](?:[ .\-]?[\dAaBb]){12,16}(?![\w])",
)
NIR_FIRST = frozenset("123478")
# A run of one-digit cells; it may follow a multi-digit number ("28-04-2028 0 8 0 4 ..."), never
# start inside another run of cells (a lone digit then a blank before it).
# A multi-digit number may follow it too ("0 7 1 1 1 9 8 3 18-03-2030": a banner's next field).
DIGIT_CELLS = _scan(
    r"\d", r"(?<![\w.,/\-])(?<![^\d]\d )(?<!^\d )\d(?: \d){7,}(?![\w.,/\-])(?! \d(?!\d))"
)
DATE_CELLS = re.compile(r"(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])(?:19|20)\d\d")
DATE_TAIL = re.compile(r"[/.\-]\d")  # "... 750419 29/03/89": the last digits start a date
NIR_CONTEXT = re.compile(
    r"(?:\bNIR|\bN\.?I\.?R|n°\s*(?:de\s+)?s\.?s\b|\bNSS|\bINS\b|s[ée]curit[ée]\s+sociale|"
    r"id(?:entifiant)?\s+national|"
    r"s[ée]cu\b|immatriculation|assur[ée]\(?e?\)?|carte\s+vitale|assurance\s+maladie)"
    r"[^\n]{0,45}$",
    re.IGNORECASE,
)
# The number right after a NIR's label on the same line, 10 to 17 characters, whatever it reads.
NIR_LABELLED = _scan(
    "(?i:[nsiac])",
    r"(?:\bNIR\b|\bN\.I\.R\.?|\bNSS\b|s[ée]curit[ée][ \t]+sociale|s[ée]cu\b|"
    r"immatriculation|carte[ \t]+vitale|assurance[ \t]+maladie)"
    r"[^\d\n]{0,45}?(?<![\w])(?P<v>[1-478](?:[ .\-]?[\dAaBb]){9,16})(?![\w]|[.,/\-]\d)",
    re.IGNORECASE,
)

# Letters may touch the end, as they may the start: "Tél : 05 21 47 11 67ilig" (OCR, glued text)
_PHONE_END = r"(?![ .\-/]{0,3}\d)(?![\d_])"
_PHONE_START = r"(?<![\d+])(?<!\d[ .\-])"  # letters may touch it: "Accueil04 52 ..."
PHONE_FORMS: tuple[re.Pattern[str], ...] = (
    # 01 42 21 32 74, 0642..., 01.42-21 32.74, +33 1 42 ..., +33 (0)1 ..., 0033 1 ..., +330575...
    _scan(
        "[0+]",
        _PHONE_START + r"(?:(?:\+|00)[ ]?33[ ]?(?:\(0\)[ ]?|0[ ]?)?|0)[1-9]"
        r"(?:[ .\-]{0,3}\d{2}){4}" + _PHONE_END,
    ),
    # 06/28/42/50/36: five pairs and slashes (a date has three groups); O1.42.15.23.35: the
    # letter O for a zero, as typed or read by OCR
    _scan("[0O]", _PHONE_START + r"(?<![\w])0[1-9](?:/\d{2}){4}" + _PHONE_END),
    _scan(
        "[0O]",
        r"(?<![\w])(?=[\dO.\- ]{10,14}(?![\w]))(?=[^\n]{0,14}O)(?=(?:[O.\- ]{0,6}\d){7})[0O][1-9O]"
        r"(?:[ .\-]?[\dO]{2}){4}" + _PHONE_END,
    ),
    # 00 62 73 14 50, 00-14-36-54-26: separated pairs (contiguous, it could be an identifier)
    _scan("0", _PHONE_START + r"00(?P<s>[ .\-])\d{2}(?:(?P=s)\d{2}){3}" + _PHONE_END),
    # 0 6 . 1 1 . 5 7 . 3 2 . 7 1, 0 1 4 5 ... (one digit per cell)
    _scan("0", _PHONE_START + r"0(?:[ .\-]{1,3}\d){9}" + _PHONE_END),
    # any international number: +44 20 7946 0958, + 3 3 4 7 5 ...
    _scan(r"\+", r"(?<![\d+])\+[ ]?\d(?:[ .\-]{0,3}\d){7,13}" + _PHONE_END),
    # (33) 4 17 73 74 17, (53)732300576, ( 3 3 ) 6 4 2 0 4 5 6 5 7, (205)-276-2043
    _scan(
        r"\(",
        r"(?<![\w)])\([ ]?\d(?:[ ]?\d){1,2}[ ]?\)[ \-]?\d(?:[ .\-]{0,3}\d){6,10}" + _PHONE_END,
    ),
)
# A French number (five pairs) where OCR or typing glued letters to the first pairs ("FE01 W47
# 33 41 41"): at most two noisy pairs, then three clean ones.
PHONE_NOISY = _scan(
    "[A-Z]", r"(?<![\w])(?:[A-Z]{1,2}\d{2} ){1,2}(?:\d{2} ){1,2}\d{2} \d{2}(?![\w])"
)
# Anything number-like right after a phone word is a phone (extensions, odd layouts).
PHONE_CONTEXT = _scan(
    "[tpmfsjbg]",
    r"(?:\bt[ée]l(?:[ée]phone)?\b\.?|\bportable\b|\bmobile\b|\bfax\b|\bstandard\b|"
    r"\bsecr[ée]tariat\b|\bjoignables?\s+au\b|\bbip\b|\bposte\b|\bphone\b|\bGSM\b)"
    r"[ \t]*[.:]?[ \t]*(?:au\s+)?(?:[:.]\s*)?"
    r"(?P<v>\+?\(?\d[\d ().\-]{2,20}\d)(?!\d)",
    re.IGNORECASE,
)

MAIL = _scan(
    r"[\w.+\-']",
    r"(?<![\w.+\-'])[\w.+\-']{1,64}@[\w\-]{1,63}(?:\.[\w\-]{1,63}){1,8}(?![\w@])"
    # spelled out with spaces, as dictation or OCR gives it: "jdupont @ medimail . com"
    r"|(?<![\w.+\-'])[\w.+\-']{1,64} @ [\w\-]{1,63}(?: \. [\w\-]{1,63}){1,8}(?![\w@])"
    # a blank on one side or both, as typed or pasted: "J.DUPONT @CHU-EXEMPLE.FR"; the domain
    # must end in a word of letters ("x @ 12.5" is not an address)
    r"|(?<![\w.+\-'])[\w.+\-']{1,64}(?:[ \t]{1,2}@[ \t]{0,2}|@[ \t]{1,2})"
    r"[\w\-]{1,63}(?:\.[\w\-]{1,63}){0,7}\.[^\W\d_]{2,24}(?![\w@])",
)

_ID_VALUE = r"(?P<v>(?=[A-Za-z]{0,4}\d)[A-Za-z]{0,4}\d[A-Za-z0-9]{3,19})(?![\w])"
_ID_GLUE = (
    r"[ \t]*\)?[ \t]*(?:\(\s*\w+\s*\))?[ \t]*(?:n[°o]\.?|num[ée]ro|no\.?)?[ \t]*"
    r"(?:[:=#\-]|est|[ée]tant)?[ \t]*(?:le[ \t]+)?"
)
IPP_CONTEXT = _scan(
    "[indr]",
    r"(?:\bIPP|\bIP\b|\bidentifiant\s+(?:permanent\s+)?(?:du\s+)?patient|"
    r"\bnum[ée]ro\s+(?:d['’]identification|patient)|\bn°\s*patient|\bdossier\s+patient|"
    r"\br[ée]f[ée]rence\s+interne(?:\s+d[eu]\s+(?:la\s+)?patiente?)?|\bID\b)"
    + _ID_GLUE
    + _ID_VALUE,
    re.IGNORECASE,
)
# "le patient 1234567890": a long bare number right after "patient".
IPP_PATIENT = _scan("p", r"\bpatient(?:e)?[ \t]+(?P<v>\d{7,12})(?![\w])", re.IGNORECASE)
NDA_CONTEXT = _scan(
    "[nivd]",
    r"(?:\bNDA|\bn°\s*(?:de\s+)?(?:s[ée]jour|venue|dossier|hospitalisation)|"
    r"\bnum[ée]ro\s+(?:de\s+|d['’])?(?:s[ée]jour|venue|dossier|hospitalisation)|"
    r"\bidentifiant\s+(?:de\s+)?(?:la\s+|l['’])?(?:visite|venue|s[ée]jour|hospitalisation)|"
    r"\bvisite(?:\s+dossier)?|\bdossier\s+n°|\bdossier(?=\s+\d{6}))" + _ID_GLUE + _ID_VALUE,
    re.IGNORECASE,
)

# ---------------------------------------------------------------------------------------------
# Addresses, postcodes, communes
# ---------------------------------------------------------------------------------------------

_PART = r"(?i:de|du|des|la|le|les|l['’]|d['’]|sur|sous|en|aux|et|lès|les)"
_W = rf"[{LET}][{LET}{APOS}\-]*(?:\.[{LO}]+)?"  # any word ("G.al": an abbreviation)
_CW = rf"[{UP}][{LET}{APOS}\-]*"  # capitalised or upper-case word
_PARTS = rf"(?:{_PART}[ \t]*(?<=['’ \t]))"
# Unambiguous street words; "place", "cours", "route"... also mean other things, so they need a
# house number before them.
_STREET_STRICT = (
    r"rue|avenue|av\.|bd\.?|boulevard|chemin|all[ée]e|impasse|quai|faubourg|fbg\.?|"
    r"rond-point|lotissement|lieu-dit|lieudit|r[ée]sidence|hameau|sentier|ruelle|chauss[ée]e|"
    r"esplanade|promenade|parvis"
)
_STREET_LOOSE = (
    r"place|pl\.|cours|route|rte\.?|square|voie|passage|cit[ée]|villa|mont[ée]e|clos|mail|"
    r"domaine|traverse|strasse"
)
_STREET_NAME = rf"{_PARTS}*{_W}(?:[ \t]+(?:{_PARTS}+{_W}|{_CW})){{0,6}}"
_COMPLEMENT = (
    r"(?:,?[ \t]*(?i:appt?|appartement|b[âa]t(?:iment)?|[ée]tage|esc(?:alier)?|porte|bo[iî]te|"
    r"studio|logement|lot)\.?[ \t]*[\w]{1,6})?"
)
_HOUSE = r"\d{1,4}(?:[ ]?-[ ]?\d{1,4})?(?:[ ]?(?i:bis|ter|quater|[a-d])(?![\w]))?"
# A house number in words, as dictated: "sept allée des Roses", "deux bd Étienne".
_HOUSE_WORDS = (
    r"(?i:un|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|"
    r"seize|dix-sept|dix-huit|dix-neuf|vingt|trente|quarante|cinquante)"
)
ADDRESS = _scan(
    r"(?i:[\dudtqcshno])",
    # digits may touch a word before them ("Kennedy76 rue ...": fields glued by an export)
    rf"(?:(?<![\d/.,:]){_HOUSE}|(?<![{LET}\d\-]){_HOUSE_WORDS}(?=[ \t]+(?i:{_STREET_STRICT})))"
    rf",?[ \t]+(?:(?i:grande|grand|petite|petit|vieille|vieux|haute|basse)"
    rf"[ \t]+)?(?:(?i:{_STREET_STRICT})(?![{LET}])[ \t]+{_STREET_NAME}"
    rf"|(?i:{_STREET_LOOSE})(?![{LET}])[ \t]+{_PARTS}*{_CW}"
    rf"(?:[ \t]+(?:{_PARTS}+{_W}|{_CW})){{0,6}})"
    rf"{_COMPLEMENT}",
)
# Streets abroad, as foreign letters write them: "Schlossstraße 13", "Straße des 17. Juni 135",
# "Via Roma 12", "Calle Mayor 5", "221 Baker Street".
ADDRESS_FOREIGN = _scan(
    f"[{UP}\\d]",
    rf"(?<![\w\-])(?:[{UP}][{LET}\-]*(?i:stra(?:ss|ß)e|str\.|weg|gasse|platz|allee|damm)"
    rf"(?:[ \t]+\d{{1,4}}[a-z]?)?(?![{LET}])"
    rf"|(?:Stra(?:ss|ß)e|Via|Viale|Piazza|Calle|Avenida|Rua|Plaza|Paseo|Largo)[ \t]+"
    rf"(?:(?:de|del|della|di|da|dos|das|des|der|am|an|im)[ \t]+)?"
    rf"(?:[{UP}\d][{LET}\d.'’\-]*[ \t]+){{0,3}}[{UP}][{LET}'’\-]*(?:,?[ \t]+\d{{1,4}}[a-z]?)?"
    rf"|\d{{1,4}}[ \t]+(?:[{UP}][{LET}'’\-]*[ \t]+){{1,3}}(?:Street|St\.|Road|Rd\.|Lane|Drive|"
    rf"Avenue|Ave\.|Boulevard|Square|Place|Terrace|Way)(?![{LET}]))",
)
ADDRESS_NO_NUMBER = _scan(
    "(?i:[rabcilqfhsep])",
    rf"(?<![{LET}\d])(?i:{_STREET_STRICT})(?![{LET}])[ \t]+{_PARTS}*{_CW}"
    rf"(?:[ \t]+(?:{_PARTS}+{_W}|{_CW})){{0,6}}{_COMPLEMENT}",
)
STREET_WORD = re.compile(rf"(?i:{_STREET_STRICT}|{_STREET_LOOSE})(?![{LET}])")
# French postcode (01000-98999, 20xxx for Corsica, 2A/2B as some exports write it).
_ZIP = r"(?:(?:0[1-9]|[1-8]\d|9[0-8])[ ]?\d{3}|2[AB][ ]?\d{3})"
_COMMUNE = (
    rf"{_CW}(?:(?:-|[ ])(?:(?i:sur|sous|en|de|du|des|la|le|les|lès|l['’]|d['’]|et)"
    rf"(?:-|[ ]|(?<=['’])))?{_CW}){{0,3}}"
    rf"(?:[ ](?i:cedex)(?:[ ]\d{{1,2}})?|[ ]\d{{1,2}}(?:e|er|ème)?)?(?![{LET}\d])"
)
# After a street and its postcode, the next words are the commune whatever their case: "45210
# fontenay-les-bois" (a commune no list knows, typed in lower case), up to the end of the line or
# a punctuation mark.
_LOWER_COMMUNE = (
    r"[a-zß-ÿ][a-zß-ÿ'’]+(?:(?:-|[ ])[a-zß-ÿ][a-zß-ÿ'’]*){0,4}(?=[ \t]*(?:[\n,;.)]|$|[ \t]\d))"
)
ZIP_AFTER_ADDRESS = re.compile(
    rf"[ \t]*[,–\-]?[ \t]*\n?[ \t]*(?P<zip>{_ZIP})(?![\w])"
    rf"(?:[ \t]*,?[ \t]*(?P<city>{_COMMUNE}|{_LOWER_COMMUNE}))?"
)
# A postcode of four digits after an address, as Belgium, Switzerland, Luxembourg write it
# ("15 avenue Louise, 1050 Bruxelles", "L-1234 Luxembourg"): the town right after it.
ZIP_FOREIGN_AFTER_ADDRESS = re.compile(
    rf"[ \t]*[,–\-]?[ \t]*(?P<zip>(?:[A-Z]{{1,2}}-)?\d{{4}})[ \t]+"
    rf"(?P<city>[{UP}][{LO}]+(?:-[{UP}][{LO}]+)*)(?![\w\-])"
)
# A town field: "Ville : Kermoal", "Lieu de naissance : saint-malo".
CITY_FIELD = _scan(
    "(?i:[vcl])",
    r"(?<![\w])(?i:ville|commune|lieu[ \t]+de[ \t]+naissance|localit[ée])[ \t]*:[ \t]*"
    rf"(?P<city>(?:(?i:le|la|les|saint|sainte)[ \t]+)?[{LET}][{LET}'’\-]*[{LET}])",
)
ZIP_AFTER_CITY = re.compile(rf"[ \t]*,?[ \t]*(?P<zip>{_ZIP})(?![\w])")
ZIP_CITY = _scan(
    r"\d", rf"(?<![\w.,])(?<!\d[ .])(?P<zip>{_ZIP})(?![\w])[ \t]*,?[ \t]*(?P<city>{_COMMUNE})"
)
# A postcode named as such, or a Paris-style district: "dans le 75015", "code postal : 35000".
ZIP_CONTEXT = _scan(
    "(?i:[dcC])",
    rf"(?:\b(?i:dans[ \t]+le|code[ \t]+postal)|\bCP)[ \t]*:?[ \t]*(?P<zip>{_ZIP})(?![\w]|[,.]\d)"
    r"(?![ \t]*(?i:m|km|mg|g|ml|l|m[èe]tres?|euros?|€|ans|jours|fois|cas)(?![\w]))",
)
CITY_CONTEXT = _scan(
    "(?i:[drhvnoistpcmbeà])",
    r"(?:(?i:\b(?:domicili[ée]e?s?|demeurant|r[ée]sidant|r[ée]side|habite|habitant|vit|vivant|"
    r"n[ée]e?|originaire|install[ée]e?|d[ée]m[ée]nag[ée]e?|scolaris[ée]e?|travaille)"
    r"[ \t]+(?:à|a|au|en|de|d['’]|sur)"
    r"|\b(?:près|proche|r[ée]gion|ville|p[ée]riph[ée]rie|banlieue|commune|environs|mairie)[ \t]+"
    r"(?:de|d['’]))(?P<strong>)|(?<![\w'’])à)"
    rf"(?:[ \t]+|(?<=['’]))(?P<city>{_COMMUNE})"
    # after a bare "à", the commune ends the phrase ("à Ploemeur.", "à Lille, ..."), unlike
    # "à Staphylococcus aureus" or "à Pierre qui..."
    r"(?(strong)|(?=[ \t]*(?:[,.;:)(\n]|$|[ \t]\d)))",
)

# A practitioner's town, as letters write it: "Dr Jean REY (Vienne)", "…, médecin traitant, Bron".
CITY_AFTER_CLINICIAN = re.compile(
    # "(Bron)" but not a grade in capitals: "(PU-PH)", "(CCA)".
    rf"(?:\b(?:Dr|Docteur|Pr|Professeur)\.?[ \t]+[^\n()]{{2,60}}?[ \t]*"
    rf"\((?=[{UP}][{LO}])(?P<city>{_COMMUNE})\)"
    rf"|(?i:m[ée]decin[ \t]+traitant),[ \t]+(?P<city2>{_COMMUNE}))"
)

# A letter's date line: "Rennes, le 12 mars 2024".
CITY_DATELINE = re.compile(
    rf"(?m)^[ \t]*(?P<city>{_COMMUNE}),[ \t]+le[ \t]+(?=\d|1er|(?i:{_WEEKDAY_ALT})\b)"
)

# ---------------------------------------------------------------------------------------------
# Hospitals
# ---------------------------------------------------------------------------------------------

_HOSP_WORD = (
    r"(?i:h[ôo]pital|h[ôo]pitaux|h[ôo]p\.|h[ôo]p|clinique|polyclinique|centre\s+hospitalier"
    r"(?:\s+(?:universitaire|r[ée]gional(?:\s+universitaire)?|intercommunal|sp[ée]cialis[ée]|"
    r"g[ée]n[ée]ral|d[ée]partemental))?|groupe\s+hospitalier(?:\s+universitaire)?|"
    r"groupement\s+hospitalier|centre\s+de\s+sant[ée]|centre\s+m[ée]dical|maternit[ée]|"
    r"institut|hospices?(?:\s+civils)?|ehpad|centre\s+de\s+r[ée][ée]ducation)"
    r"|CHU|CHRU|CHR|CHI|CHS|CHG|CH|GHU|GHT|GHI|GH|HIA|CLCC|SSR"
)
_HOSP_ADJ = (
    r"(?i:europ[ée]en|priv[ée]|am[ée]ricain|militaire|universitaire|r[ée]gional|"
    r"d[ée]partemental|intercommunal|g[ée]n[ée]ral|psychiatrique|p[ée]diatrique|local|"
    r"mutualiste|sp[ée]cialis[ée]|franco-britannique|d['’]instruction\s+des\s+arm[ée]es|"
    r"nord|sud|est|ouest)"
)
_HPARTS = r"(?:(?i:de|du|des|la|le|les|l['’]|d['’]|sur|sous|en|aux)[ \t]*(?<=['’ \t]))"
HOSPITAL = _scan(
    "(?i:[hcpgmiesa])",
    rf"(?<![{LET}\d\-])(?P<kw>{_HOSP_WORD})(?![{LET}])"
    rf"(?:[ \t]+{_HOSP_ADJ}(?![{LET}]))?"
    rf"[ \t]+(?:{_HPARTS}+)?{_CW}(?:(?:[ \t]*-[ \t]*|[ \t]+)(?:{_HPARTS}+)?{_CW}){{0,4}}",
)
# A hospital named in lower case ("l'hôpital bichat", "chu de rennes"): the name is checked
# against the gazetteers by the rule (:func:`hopia.data.pseudo.rules.find_hospitals`).
HOSPITAL_LOWER = _scan(
    "(?i:[hcpgm])",
    r"(?<![\w\-])(?i:h[ôo]pital|h[ôo]p\.?|clinique|polyclinique|chu|chru|chr|ch|institut|"
    r"centre[ \t]+hospitalier(?:[ \t]+universitaire)?|groupe[ \t]+hospitalier|maternit[ée])"
    rf"(?:[ \t]+{_HOSP_ADJ}(?![{LET}]))?"
    r"[ \t]+(?:(?i:de|du|des|la|le|l['’]|d['’])[ \t]*(?<=['’ \t]))?"
    r"(?P<name>[a-zß-ÿ][a-zß-ÿ'’]*(?:[ \t-][a-zß-ÿ][a-zß-ÿ'’]*){0,2})",
)
# University hospital sites named alone ("transféré à Necker", "suivi à Pontchaillou"): a list
# written for Hopia of site names that mean nothing else in a note (not "Tenon", "Trousseau",
# "Bichat", "Cochin": a capsule, a sign, a fat pad, a surname).
_SITES = (
    "Necker|Bic[êe]tre|Lariboisi[èe]re|Avicenne|Beaujon|Louis[- ]Mourier|Henri[- ]Mondor|"
    "Paul[- ]Brousse|Robert[- ]Debr[ée]|Raymond[- ]Poincar[ée]|Jean[- ]Verdier|"
    "Antoine[- ]B[ée]cl[èe]re|Georges[- ]Pompidou|H[ôo]tel[- ]Dieu|Salp[êe]tri[èe]re|"
    "[ÉE]douard[- ]Herriot|Lyon[- ]Sud|Pellegrin|Haut[- ]L[ée]v[êe]que|Purpan|Rangueil|"
    "Pontchaillou|Lapeyronie|Hautepierre|Brabois|Michallon|Gustave[- ]Roussy|Quinze[- ]Vingts|"
    "Roger[- ]Salengro|La[ ]Timone|Corentin[- ]Celton|Charles[- ]Foix|Ren[ée][- ]Muret"
)
HOSPITAL_SITE = _scan("[A-ZÉH]", rf"(?<![\w\-])(?:{_SITES})(?![\w\-])")
HOSPITAL_WORD = re.compile(rf"(?:{_HOSP_WORD})(?![{LET}])\.?")
HOSPITAL_ALONE = _scan(
    "[AHGPN]",
    r"(?<![\w\-])(?:AP-?HP|AP-?HM|HCL|HEGP|GHPS|Pitié[- ]Salpêtrière|Piti[ée][- ]Salp[êe]tri[èe]re"
    r"|Necker[- ]Enfants[- ](?i:malades))(?![\w\-])",
)
# Site codes of the Paris university hospitals (their public three-letter "trigrammes"), written
# alone in letterheads and lists ("PSL", "HMN", "BCT"); codes that are also medical acronyms
# (AVC for Avicenne, CRC, SAT, ABC, BRC, SPR, RPC) are left to the ward-name rule below.
HOSPITAL_TRIGRAM = _scan(
    "[A-Z]",
    r"(?<![\w\-/])(?:PSL|HMN|BCT|LRB|SLS|RDB|NCK|TNN|TRS|CCH|BJN|BCH|APR|JVR|LMR|PBR|HTD|"
    r"CFX|BRT|VGR|ERX|GCL|JFR|RMB|EGP|RTH)(?![\w\-/])",
)
# Sites whose name is also something else ("capsule de Tenon", "signe de Trousseau", "boule de
# Bichat", "Cochin" the surname): a hospital only right after "à" / "au" ("revu à Bichat").
HOSPITAL_AT_SITE = _scan(
    "[àaA]",
    r"(?<![\w])(?:à|a|au|À|A)[ \t]+(?:la[ \t]+)?(?P<site>Piti[ée]|Bichat|Cochin|Tenon|Trousseau|"
    r"Saint[- ]Antoine|Saint[- ]Louis|Foch|Percy|B[ée]gin|Broca|Bretonneau|Rothschild|"
    r"Lariboisi[èe]re)(?![\w\-])",
)
# A site's code in capitals right after a ward's name ("Service de cardiologie, PSL", "Unité de
# soins intensifs - BCT", "Consultation de neurologie du site HMN", "(HMN)"): each hospital has
# its own codes, so the context says it, not a list; medical acronyms are left out by the rule.
HOSPITAL_CODE = _scan(
    "(?i:[sudpcr])",
    r"\b(?i:service|unit[ée]|d[ée]partement|p[ôo]le|consultations?|urgences|r[ée]animation)"
    r"(?:[ \t]+(?i:d['’]|de|des|du)?[ \t]*[a-zà-ÿ][a-zà-ÿ'’\-]*){1,4}"
    r"[ \t]*(?:[,\-–(/][ \t]*|[ \t](?i:du[ \t]+site|du|de[ \t]+l['’]h[ôo]pital|site|à)[ \t]+)"
    r"(?P<code>[A-Z]{2,4})(?![\w\-])",
)
# A site's code after a move between places ("transféré à l'HCI", "hospitalisé au CHIC", "admise
# à BCT"): two to five capitals; the rule leaves out units, exams and other acronyms.
HOSPITAL_CODE_AFTER_MOVE = _scan(
    "(?i:[thaoprsl])",
    r"\b(?i:transf[ée]r[ée]e?s?|transfert|hospitalis[ée]e?s?|hospitalisation|adress[ée]e?s?|"
    r"admise?s?|suivie?s?|revue?s?|op[ée]r[ée]e?s?|pris(?:e|es)?[ \t]+en[ \t]+charge|"
    r"s[ée]jour|retour)"
    r"[ \t]+(?i:[àa][ \t]+l['’]|[àa][ \t]+|au[ \t]+|"
    r"en[ \t]+provenance[ \t]+(?:du[ \t]+|de[ \t]+l['’]))"
    r"(?P<code>[A-Z]{2,5})(?![\w\-])",
)
# A hospital named by its compass point alone ("l'Hôpital Nord", "CH Sud"), capitalised.
HOSPITAL_POINT = _scan(
    "(?i:[hc])",
    r"(?<![\w\-])(?:H[ôo]pital|HOPITAL|CHU|CHR|CH|Centre[ \t]+[Hh]ospitalier)[ \t]+"
    r"(?:Nord|Sud|Est|Ouest|NORD|SUD|EST|OUEST)(?![\w\-])",
)
# A place after a ward's name ("Service Hématologie de Crignac", "service de cardiologie du
# Vésinet"): a capitalised word no list of common words holds; the rule checks that.
HOSPITAL_AFTER_WARD = _scan(
    "(?i:[sudp])",
    r"\b(?i:service|unit[ée]|d[ée]partement|p[ôo]le)[ \t]+(?:(?i:d['’]|de|des|du)[ \t]*)?"
    r"[A-Za-zÀ-ÿ][a-zà-ÿ\-]+(?:[ \t]+[a-zà-ÿ][a-zà-ÿ\-]+){0,2}[ \t]+(?:de|du|d['’])[ \t]*"
    rf"(?P<name>[{UP}][{LO}]+(?:[ \t]*-[ \t]*[{UP}][{LO}]+){{0,2}})(?![\w\-'’])",
)
# A hospital named in English, as foreign letters and reports write it: "Jefferson University
# Hospital", "Avicenne AP-HP Hospital", "St Mary's Hospital".
HOSPITAL_ENGLISH = _scan(
    f"[{UP}]",
    rf"(?<![\w\-])(?:[{UP}][\w'’.\-]*[ \t]+){{1,3}}"
    r"(?:(?i:university|general|children['’]s|memorial|medical|community|teaching|county|"
    r"state|royal|city)[ \t]+){0,2}"
    r"(?i:hospital|infirmary|medical[ \t]+cent(?:er|re))(?![\w])",
)

# ---------------------------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------------------------

# Titles before a person's name. Short ones are case-sensitive ("M." but not "m."); long ones not.
TITLE = _scan(
    "(?i:[mdpiesakcrvub])",
    r"(?<![\w.])(?:"
    r"(?:M|Mr|MM|Mme|Mmes|MME|Mlle|MLLE|Dr|DR|Drs|Pr|PR|Pt|Me)(?:\.|(?![\w]))"
    r"|(?i:madame|monsieur|mademoiselle|messieurs|docteur|docteurs|professeur|prof\.)(?![\w])"
    # roles rather than honorifics: "Patient : M. DUPONT" may still hold a title
    r"|(?P<role>(?i:interne|internes|externe|ide|infirmi[eè]re?|sage-femme|usag[eè]re?|"
    r"b[ée]n[ée]ficiaire|"
    r"kin[ée]sith[ée]rapeute|patiente?|cadre\s+de\s+sant[ée]|r[ée]dig[ée]\s+par|"
    r"sign[ée]\s+par|valid[ée]\s+par|dict[ée]\s+par)(?![\w])))"
    r"[ \t]*(?::[ \t]*)?",
)
# A person's role as the label of a field, then a colon: "Médecin traitant : Perrot",
# "Opérateur : KOWALCZYK", "Référente : Mme ..." (the rule checks that the value is no common
# word: "Aide : totale", "Médecin : non renseigné", "Copie : dossier").
ROLE_FIELD = _scan(
    "(?i:[mrcoaspdkeiuhtv])",
    r"(?<![\w])(?i:m[ée]decins?(?:[ \t]+(?:traitant|r[ée]f[ée]rent|adresseur|prescripteur|"
    r"correspondant|responsable|s[ée]nior|de[ \t]+garde|requ[ée]rant|demandeur))?|"
    r"r[ée]f[ée]rente?|correspondante?|op[ée]rat(?:eur|rice)|chirurgien(?:ne)?|anesth[ée]siste|"
    r"aide(?:[ \t]+op[ée]ratoire)?|radiologue|praticien(?:ne)?|s[ée]nior|r[ée]dact(?:eur|rice)|"
    r"auteur|destinataires?|copies?(?:[ \t]+[àa])?|kin[ée](?:sith[ée]rapeute)?|psychologue|"
    r"di[ée]t[ée]ticien(?:ne)?|orthophoniste|ergoth[ée]rapeute|psychomotricien(?:ne)?|"
    r"assistante?[ \t]+sociale?|secr[ée]taire|ibode|iade|cca|pu-ph|"
    r"chef[ \t]+de[ \t]+(?:clinique|service)|dict[ée]e?[ \t]+par|tap[ée]e?[ \t]+par|"
    r"saisie?[ \t]+par|vue?[ \t]+par|examin[ée]e?[ \t]+par|sign[ée]e?|signature|visa)"
    r"[ \t]*:[ \t]*",
)
# A surname alone after a verb of care and "par" / "avec", or after "avis de": "vu par
# Zerrouki", "discuté avec KOWALCZYK", "avis de Benali demandé" (the rule checks the word).
NAME_AFTER_VERB = _scan(
    "(?i:[vreoasdcpia])",
    r"(?<![\w])(?i:(?:re)?vue?s?|examin[ée]e?s?|op[ée]r[ée]e?s?|suivie?s?|adress[ée]e?s?|"
    r"accompagn[ée]e?s?|discut[ée]e?s?|contact[ée]e?s?|appel[ée]e?s?|pr[ée]venue?s?|"
    r"inform[ée]e?s?|valid[ée]e?s?|sign[ée]e?s?|r[ée]dig[ée]e?s?|dict[ée]e?s?|"
    r"transmise?s?|envoy[ée]e?s?|pris[ \t]+en[ \t]+charge)[ \t]+(?i:par|avec)[ \t]+"
    r"|(?<![\w])(?i:avis)[ \t]+(?:de|d['’])[ \t]*",
)
FIELD_NAME = _scan(
    "(?i:[np])",
    r"(?<![\w])(?i:(?P<nom>nom(?:\s+(?:de\s+naissance|d['’]usage|marital|de\s+famille|"
    r"patronymique))?)|(?P<prenom>pr[ée]noms?))[ \t]*:[ \t]*",
)
# One name token: particle + word, word, or an initial ("J.", "J.-M.", "D").
_NAME_PARTICLE = (
    r"(?:(?:[Dd]e|DE)[ \t]+(?:[Ll]a|LA)[ \t]+|[dDlL]['’]|"
    r"(?:[Dd]e|[Dd]u|[Ll]e|[Ll]a|[Dd]a|[Dd]i|[Vv]an|[Vv]on|[Dd]es|DE|DU|LE|LA|DA|"
    r"DI|VAN|VON|DES|El|EL|Al|AL|Ben|BEN|Mac|Mc)[ \t]+)"
)
NAME_TOKEN = re.compile(
    rf"(?:{_NAME_PARTICLE}(?=[{UP}]))?"
    rf"(?:[{UP}]\.(?:-?[{UP}]\.)+"  # initials: J.-M., Y.-E.
    rf"|[{UP}](?:\.-?|-)[{UP}]\.?(?![{LET}])"  # J-P., J.-C, A.M, C-M.
    rf"|[{UP}][{LET}]{{0,2}}\.(?![{LET}])"  # abbreviated: J., Ch., DA.
    rf"|[{UP}][{LET}]*(?:[{APOS}\-][{UP}]?[{LET}]+)*)"
    rf"(?![{LET}\d°])"
)
NAME_GAP = re.compile(r"[ \t]+|[ \t]*,[ \t]*(?=[A-ZÀ-Þ][.])")  # between name tokens
NAME_GAP_COMMA = re.compile(r"[ \t]*,[ \t]*|[ \t]+")  # banners: "Patient : DUPONT, Jean"

PARTICLES = frozenset(words("de du des la le d' l' da di van von el al ben mac mc"))

# Capitalised words that start sentences or headings and are never names on their own.
NAME_STOPWORDS = frozenset(
    words(
        """
        le la les un une des de du au aux et ou en à a ce cet cette ces son sa ses mon ma mes notre
        nos votre vos leur leurs il elle ils elles on je nous vous qui que quoi dont où par pour
        avec sans sous sur chez dans entre vers depuis pendant après avant selon contre patient
        patiente patients service chef docteur madame monsieur mademoiselle professeur interne
        externe pr dr mme mlle m mr tel tél fax mail email adresse date né née nom prénom hôpital
        hopital clinique centre chu ch urgences réanimation consultation compte rendu cr examen
        bilan traitement diagnostic conclusion motif antécédents histoire ordonnance cordialement
        bien confraternellement merci bonjour objet courrier signé rédigé validé cher chère chers
        madame monsieur docteur cadre santé secrétariat standard équipe unité pôle département
        laboratoire radiologie cardiologie neurologie pédiatrie gériatrie chirurgie médecine
        oncologie psychiatrie pneumologie dermatologie néphrologie rhumatologie gynécologie
        obstétrique urologie orthopédie hématologie endocrinologie ide ras vu vue voir suite suivi
        sortie entrée admission hospitalisation visite rdv lundi mardi mercredi jeudi vendredi
        samedi dimanche janvier février mars avril mai juin juillet août septembre octobre novembre
        décembre mg ml ui g kg cp inj sol ivd iv per os sc im ph mcu pu ph pu-ph mcu-ph cca phc aho
        ahu dess dec des du diu id ipp nda nir rpps finess adeli cc ps nb pj ref hdj hc us ide ash
        as aide fiche dossier hta avc irm tdm ecg ett nfs crp bpco vih vhc vhb sida aeg ehpad ssr
        smur samu sau usc né née nés nées ne neé tél téléphone portable mobile email e-mail courriel
        président présidente directeur directrice confrère consœur collègue ami amie rendez-vous
        contacter appeler voir prévoir score classe stade grade type maladie syndrome signe test
    échelle protocole cure cycle vaccin groupe facteur
        """
    )
)
NAME_STOPWORDS = frozenset(fold(w) for w in NAME_STOPWORDS)

# Common French words that are also names: a lone lower-case occurrence is the word, not the
# person (used by the identity matcher and by name propagation).
COMMON_WORD_NAMES = frozenset(
    words(
        """
        petit petite blanc blanche rose claire clair pierre france marin brun brune roux moulin
        berger boucher breton baron gay fontaine masse roche renard paris colin marchand meunier
        boulanger charpentier carpentier chevalier bonnet cousin germain leger perrier joly joli
        olive constance prudence grand long court bon bonne vallee camus salle mars mai jour nuit
        aime desire fleur page vigne bois lion loup garde barbe noel
        """
    )
)

# Surrogate vocabularies: common French first names and surnames (public statistics), used to
# pick fake names and, for first names, to tell PRENOM from NOM.
FIRST_NAMES_F: tuple[str, ...] = tuple(
    dict.fromkeys(
        words(
            """
            Marie Jeanne Françoise Monique Catherine Nathalie Isabelle Sylvie Anne Martine Christine
            Sophie Nicole Valérie Sandrine Céline Véronique Stéphanie Julie Aurélie Camille Émilie
            Chantal Christiane Jacqueline Madeleine Suzanne Simone Denise Louise Hélène Claire
            Patricia Brigitte Danielle Laurence Corinne Caroline Virginie Laetitia Élodie Mélanie
            Audrey Charlotte Pauline Manon Léa Chloé Emma Inès Jade Alice Lina Anna Zoé Juliette
            Agathe Margaux Clara Lucie Mathilde Marion Laura Sarah Océane Justine Anaïs Eva Élise
            Odette Yvette Paulette Germaine Marcelle Raymonde Gisèle Colette Josiane Annie Michèle
            Évelyne Béatrice Florence Agnès Geneviève Thérèse Bernadette Odile Solange Ginette
            Lucienne Yvonne Andrée Huguette Arlette Jocelyne Joëlle Pascale Fabienne Karine Nadine
            Muriel Fatima Amina Nadia Samia Leïla Yasmine Sonia Myriam Éliane Renée Gilberte
            Marguerite Emmanuelle Delphine Élisabeth Charlène Adèle Noémie Irène Lise Cécile
            Marie-Claude Marie-Thérèse Anne-Marie Marie-France Jeannine Janine Henriette Juliette
            Annick Mariette Édith Liliane Maryvonne Josette Lucette Rolande Mauricette Joséphine
            Eulalie Muguette Danièle Daniele Gabrielle Jeanine Micheline Mireille Nadège Noëlle
            Estelle Régine Roseline Sabine Sylviane Viviane Yolande Ghislaine Claudine Françoise
            Marcelline Léone Léonie Albertine Augustine Célestine Clémentine Ernestine Fernande
            Georgette Henriette Hortense Irène Jacqueline Jeannette Josiane Léontine Lucie Lucille
            Madeleine Marthe Mathilde Maud Maryse Michelle Nelly Nicole Noémie Odile Paule Pierrette
            Raymonde Reine Rosalie Rosine Simone Suzette Thérèse Valentine Victoire Virginie Yvette
            Adeline Alexandra Alexia Amandine Amélie Angélique Anne-Sophie Ariane Aude Axelle
            Bérénice Blandine Capucine Carole Cécile Chantal Christelle Clarisse Coralie Cyrielle
            Déborah Diane Dorothée Edwige Élisa Éloïse Émeline Estelle Fanny Flavie Gaëlle Géraldine
            Hélène Inès Isaure Jessica Jennifer Joanna Johanna Josépha Julia Laure Lætitia Linda
            Lisa Louna Lydie Magali Manuela Margot Marianne Marina Marine Marlène Maryline Mélissa
            Morgane Nadia Naïma Natacha Nina Nora Ophélie Patricia Perrine Priscilla Rachel Rebecca
            Roxane Sabrina Salomé Samira Sandra Séverine Sofia Solène Stella Sylvie Tatiana Vanessa
            Victoria Zohra Aïcha Khadija Malika Farida Karima Latifa Rachida Saïda Houria Djamila
            Maria Ana Rosa Carmen Isabel Teresa Paola Giulia Francesca Anna-Maria Olga Irina Tania
            """
        )
    )
)
FIRST_NAMES_M: tuple[str, ...] = tuple(
    dict.fromkeys(
        words(
            """
            Jean Pierre Michel André Philippe Alain Jacques Bernard Christian Daniel Patrick Nicolas
            Christophe Éric Frédéric Laurent Stéphane David Julien Pascal Thierry Olivier Sébastien
            François Gérard Marcel René Louis Paul Henri Claude Roger Robert Georges Maurice Raymond
            Lucien Joseph Guy Serge Yves Didier Dominique Bruno Vincent Thomas Alexandre Antoine
            Maxime Guillaume Romain Mathieu Matthieu Jérôme Fabrice Franck Hervé Denis Gilles Marc
            Xavier Yannick Arnaud Cédric Benoît Lucas Hugo Léo Gabriel Raphaël Arthur Jules Adam
            Nathan Théo Noah Mohamed Ahmed Karim Mehdi Youssef Rachid Samir Kevin Anthony Jonathan
            Florian Quentin Benjamin Adrien Damien Jérémy Simon Victor Émile Gaston Fernand Albert
            Édouard Charles Marius Roland Jean-Pierre Jean-Claude Jean-Luc Jean-Marie Jean-François
            Jean-Paul Jean-Jacques Jean-Louis Gaëtan Loïc Tristan Baptiste Aurélien Cyril Ludovic
            Mickaël Sylvain Grégory Alexis Rémi Francis Lionel Emmanuel Fabien Étienne Hubert
            Gilbert Jean-Michel Marcel Armand Léon Paulin Gustave Émilien Edmond Mario Eugène
            Achille Aimé Alfred Alphonse Ambroise Anatole Auguste Augustin Barthélemy Basile
            Bertrand Blaise Camille Célestin Clément Constant Corentin Cyrille Désiré Donatien Edgar
            Élie Ernest Eugène Évariste Félix Ferdinand Firmin Florent Gabin Gaspard Gérald Germain
            Gervais Ghislain Gonzague Grégoire Guillaume Gustave Hector Henri Hippolyte Honoré
            Ignace Isidore Jean-Baptiste Jean-Yves Jean-Noël Jean-Christophe Jean-Philippe Jean-Marc
            Jean-Charles Jean-Daniel Jean-René Jocelyn Joël Jonas Jordan Josselin Jules Justin
            Léandre Léonard Léopold Lilian Lothaire Luc Lucas Ludovic Marceau Marin Martial Martin
            Maxence Maximilien Michaël Modeste Morgan Narcisse Noël Norbert Octave Odilon Patrice
            Philibert Prosper Raoul Régis Reynald Richard Robin Rodolphe Rodrigue Roméo Ronan Rudy
            Samuel Sacha Stanislas Sylvestre Teddy Théodore Théophile Timothée Urbain Valentin
            Valère Valéry Vianney William Wilfried Yann Yoann Yohann Zacharie Amaury Axel Bastien
            Brice Charly Christian Cédric Dylan Erwan Gwenaël Hadrien Jimmy Jason Kylian Mathis
            Matthias Mathéo Nolan Océan Pierrick Quentin Sylvère Tanguy Thibault Thibaut Titouan
            Vivien Youri Abdel Abdelkader Ali Amine Bilal Brahim Farid Hamid Hassan Hocine Ibrahim
            Ismaël Kamel Khaled Lahcen Malik Mustapha Nabil Nordine Omar Rachid Reda Said Saïd Salah
            Slimane Sofiane Walid Yacine Yassine Zinedine Antonio Carlos Francesco Giovanni Giuseppe
            José Juan Luigi Manuel Marco Paolo Pedro Sergio Enzo Fabio Ivan Igor Dimitri Nikola
            Stefan Kevin Steve Johnny Eddy
            """
        )
    )
)
SURNAMES: tuple[str, ...] = tuple(
    dict.fromkeys(
        s.replace("_", " ")
        for s in words(
            """
            Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel
            Lefebvre Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine
            Rousseau Vincent Muller Lefèvre Faure André Mercier Blanc Guérin Boyer Garnier Chevalier
            François Legrand Gauthier Garcia Perrin Robin Clément Morin Nicolas Henry Roussel
            Mathieu Gautier Masson Marchand Duval Denis Dumont Lemaire Noël Meyer Dufour Meunier
            Brun Blanchard Giraud Joly Rivière Lucas Brunet Gaillard Barbier Arnaud Martinez Gérard
            Roche Renard Schmitt Roy Leroux Colin Vidal Caron Picard Roger Fabre Aubert Lemoine
            Renaud Dumas Lacroix Olivier Philippe Bourgeois Pierre Benoît Rey Leclerc Payet Rolland
            Leclercq Guillaume Lecomte Lopez Dupuy Guillot Hubert Berger Carpentier Sanchez Dupuis
            Moulin Louis Deschamps Huet Vasseur Perez Boucher Fleury Royer Klein Jacquet Adam
            Poirier Marty Aubry Guyot Carré Charles Renault Charpentier Ménard Maillard Baron Bertin
            Bailly Hervé Schneider Fernandez Le_Gall Collet Léger Bouvier Julien Prévost Millet
            Perrot Daniel Le_Roux Cousin Germain Breton Besson Langlois Rémy Le_Goff Pelletier
            Lévêque Perrier Leblanc Barré Lebrun Marchal Weber Mallet Hamon Boulanger Jacob Monnier
            Michaud Rodriguez Guichard Gillet Étienne Grondin Poulain Tessier Chevallier Collin
            Chauvin Da_Silva Bouchet Gay Lemaître Bénard Maréchal Humbert Reynaud Antoine Hoarau
            Perret Barthélemy Cordier Pichon Lejeune Gilbert Lamy Delaunay Pasquier Carlier Laporte
            Lebon Leduc Marais Brunel Chauvet Hamel Gaudin Tanguy Pons Navarro Lecoq Ferrand Texier
            Joubert Bouvet Vallée Thibault Bigot Camus Delmas Guillou Prigent Jourdan Rault Le_Bihan
            Briand Colas Guilbert Blondel Delorme Mounier Lainé Rousset Hébert Martel Besnard Brault
            Bouchard Lacombe Georges Blin Boutin Ollivier Le_Corre Cartier Legros Maury Ricard
            Tournier Valentin Verdier Chapuis Moreno Riou Foucher Baudry Raymond Coulon Lemonnier
            Pineau Sauvage Gomez Rossi Raynaud Poulet Régnier Ferreira Dos_Santos Barbe Le_Guen
            Devaux Hardy Labbé Faivre Masse Turpin Mahé Potier Chartier Vial Cohen Lévy Benhamou
            Nguyen Tran Diallo Traoré Haddad Mansour Benali Kaya Yilmaz Da_Costa Bertho Guillemot
            Le_Floch Kerbrat Quéré Cadiou Jaouen Morvan Le_Meur Guivarch Le_Bras Salaün Gourvès Riou
            Tanguy Lemarchand Lecointe Drouet Marechal Dujardin Delattre Lefort Vasseur Duhamel
            Courtois Delahaye Lesage Tessier Leconte Buisson Bourdon Gervais Fabre Jolivet Guillon
            Cordonnier Pruvost Lebreton Hoareau Bonneau Cros Cazenave Lassalle Etcheverry Lafont
            """
        )
    )
)
FIRST_NAMES: frozenset[str] = frozenset(fold(n) for n in FIRST_NAMES_F + FIRST_NAMES_M)
FIRST_NAMES_F_FOLDED: frozenset[str] = frozenset(fold(n) for n in FIRST_NAMES_F)
SURNAMES_FOLDED: frozenset[str] = frozenset(fold(n) for n in SURNAMES)

COMMUNES: tuple[tuple[str, str], ...] = (
    ("Rennes", "35000"), ("Brest", "29200"), ("Quimper", "29000"), ("Vannes", "56000"),
    ("Lorient", "56100"), ("Saint-Brieuc", "22000"), ("Saint-Malo", "35400"), ("Nantes", "44000"),
    ("Angers", "49000"), ("Le Mans", "72000"), ("Tours", "37000"), ("Orléans", "45000"),
    ("Caen", "14000"), ("Rouen", "76000"), ("Le Havre", "76600"), ("Lille", "59000"),
    ("Amiens", "80000"), ("Reims", "51100"), ("Metz", "57000"), ("Nancy", "54000"),
    ("Strasbourg", "67000"), ("Mulhouse", "68100"), ("Dijon", "21000"), ("Besançon", "25000"),
    ("Grenoble", "38000"), ("Annecy", "74000"), ("Chambéry", "73000"),
    ("Saint-Étienne", "42000"), ("Clermont-Ferrand", "63000"), ("Limoges", "87000"),
    ("Poitiers", "86000"), ("La Rochelle", "17000"), ("Bordeaux", "33000"), ("Pau", "64000"),
    ("Bayonne", "64100"), ("Toulouse", "31000"), ("Montpellier", "34000"), ("Nîmes", "30000"),
    ("Perpignan", "66000"), ("Toulon", "83000"), ("Avignon", "84000"), ("Valence", "26000"),
    ("Troyes", "10000"), ("Laval", "53000"), ("Cholet", "49300"), ("Niort", "79000"),
    ("Angoulême", "16000"), ("Périgueux", "24000"), ("Agen", "47000"), ("Tarbes", "65000"),
    ("Albi", "81000"), ("Rodez", "12000"), ("Montauban", "82000"), ("Béziers", "34500"),
    ("Bourges", "18000"), ("Blois", "41000"), ("Chartres", "28000"), ("Évreux", "27000"),
    ("Saint-Lô", "50000"), ("Alençon", "61000"), ("Fougères", "35300"), ("Vitré", "35500"),
    ("Dinan", "22100"), ("Lannion", "22300"), ("Morlaix", "29600"), ("Redon", "35600"),
    ("Pontivy", "56300"), ("Auxerre", "89000"), ("Nevers", "58000"), ("Colmar", "68000"),
    ("Épinal", "88000"), ("Charleville-Mézières", "08000"), ("Arras", "62000"),
    ("Beauvais", "60000"), ("Châteauroux", "36000"), ("Guéret", "23000"), ("Aurillac", "15000"),
    ("Cahors", "46000"), ("Auch", "32000"), ("Mont-de-Marsan", "40000"), ("Carcassonne", "11000"),
)  # fmt: skip
# Communes recognised without a postcode ("scolarisé à PARIS", "une nièce près de Bordeaux").
KNOWN_CITIES: frozenset[str] = frozenset(
    [fold(name) for name, _ in COMMUNES]
    + [
        fold(c.replace("_", " "))
        for c in words(
            """
            Paris Lyon Marseille Nice Toulouse Bordeaux Lille Nantes Strasbourg Montpellier Rennes
            Reims Toulon Grenoble Dijon Angers Nîmes Villeurbanne Clermont-Ferrand Aix-en-Provence
            Brest Tours Amiens Limoges Annecy Perpignan Boulogne-Billancourt Metz Besançon Orléans
            Rouen Mulhouse Caen Nancy Argenteuil Montreuil Saint-Denis Roubaix Tourcoing Nanterre
            Avignon Créteil Versailles Poitiers Pau Colombes Aubervilliers Cannes Calais Antibes
            Ajaccio Bastia Dunkerque Béziers Bourges Cherbourg Valence La_Rochelle Le_Havre Le_Mans
            Saint-Étienne Saint-Nazaire Vannes Lorient Quimper Chartres Évry Cergy Pontoise Bobigny
            Ivry-sur-Seine Vitry-sur-Seine Villejuif Clichy Levallois-Perret Neuilly-sur-Seine
            Fort-de-France Pointe-à-Pitre Cayenne Saint-Pierre Mamoudzou Nouméa Papeete Montbazon
            Pessac Mérignac Bayonne Biarritz Chelles Meaux Melun Sens Troyes Charleville-Mézières
            """
        )
    ]
    # Foreign cities as French writes them (a patient's birthplace, a stay abroad): a list
    # written for Hopia, without the names that are also common words ("Split", "Mobile").
    + [
        fold(c.replace("_", " "))
        for c in words(
            """
            Londres Manchester Liverpool Birmingham Édimbourg Glasgow Dublin Bruxelles Anvers Gand
            Bruges Liège Charleroi Namur Mons Luxembourg Genève Lausanne Berne Zurich Bâle
            Neuchâtel Fribourg Berlin Munich Francfort Hambourg Cologne Stuttgart Düsseldorf
            Sarrebruck Prague Varsovie Cracovie Budapest Bucarest Sofia Belgrade Zagreb Athènes
            Rome Milan Turin Naples Venise Gênes Bologne Palerme Madrid Barcelone Séville Bilbao
            Saint-Sébastien Lisbonne Porto Amsterdam Rotterdam La_Haye Copenhague Stockholm Oslo
            Helsinki Moscou Saint-Pétersbourg Kiev Kyiv Minsk Tirana Erevan Tbilissi Istanbul
            Ankara Casablanca Rabat Marrakech Tanger Fès Meknès Agadir Oujda Alger Oran
            Constantine Annaba Tlemcen Sétif Tunis Sfax Sousse Tripoli Le_Caire Alexandrie Dakar
            Bamako Abidjan Conakry Niamey Ouagadougou Lomé Cotonou Yaoundé Douala Libreville
            Brazzaville Kinshasa Antananarivo Tananarive Port-Louis Nouakchott Djibouti Beyrouth
            Damas Jérusalem Tel-Aviv Téhéran Bagdad Kaboul Karachi Bombay Mumbai Delhi Pékin
            Shanghai Hong_Kong Tokyo Séoul Hanoï Saïgon Bangkok Phnom_Penh Manille Sydney
            Melbourne Montréal Québec Toronto New_York Boston Chicago Los_Angeles San_Francisco
            Miami Washington Mexico Bogota Lima Santiago Buenos_Aires Rio_de_Janeiro São_Paulo
            Caracas Port-au-Prince La_Havane Dubaï Doha Riyad Djeddah
            """
        )
    ]
)
CITY_KNOWN = _scan(  # runs on folded text
    "[dvsapr]",
    r"(?<![\w])(?:de|d'|dans|a|vers|sur|au|pres\s+de|region\s+de)[ \t]+(?P<city>"
    + "|".join(
        re.escape(c).replace(r"\ ", "[ -]").replace(r"\-", "[ -]")
        for c in sorted(KNOWN_CITIES, key=len, reverse=True)
    )
    + r")(?![\w\-])",
)
STREET_NAMES: tuple[str, ...] = (
    "de la République", "Victor Hugo", "Jean Jaurès", "Pasteur", "de la Gare", "des Lilas",
    "du Général de Gaulle", "Gambetta", "des Écoles", "du Moulin", "de l'Église", "des Tilleuls",
    "du Stade", "de la Mairie", "Jules Ferry", "Émile Zola", "Voltaire", "Carnot", "de Verdun",
    "des Acacias", "du Château", "Saint-Michel", "de la Liberté", "Anatole France",
    "Georges Clemenceau", "du Port", "des Roses", "de Bretagne", "de la Paix", "Paul Bert",
    "des Peupliers", "du Maréchal Foch", "Léon Blum", "des Chênes", "de la Fontaine",
    "du Commerce", "de la Poste", "des Vignes", "des Marronniers", "Parmentier",
)  # fmt: skip
HOSPITAL_NAMES: tuple[str, ...] = (
    "Saint-Vincent", "Sainte-Anne", "des Tilleuls", "Ambroise-Paré", "Jean-Moulin",
    "de la Roseraie", "Pasteur", "Claude-Bernard", "Laennec", "Bretonneau", "Charcot", "Larrey",
    "Sainte-Marthe", "du Val Fleuri", "des Quatre Vents", "Saint-Sauveur", "Marie-Curie",
    "Bellevue", "des Hêtres", "du Belvédère", "Saint-Roch", "Notre-Dame", "de la Source",
    "Montfort", "des Glycines", "Saint-Jacques", "Jeanne-d'Arc", "des Cèdres", "Pontchaillou",
    "Sainte-Clotilde",
)  # fmt: skip
MAIL_DOMAINS: tuple[str, ...] = ("exemple.fr", "exemple.com", "exemple.org", "exemple.net")
STREET_TYPES: tuple[str, ...] = ("rue", "avenue", "boulevard", "allée", "impasse", "chemin")

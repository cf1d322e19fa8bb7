"""Codes read from the words on BOTH sides of a coded mention (issue 11, item 3).

A mention's own words do not always say which code it is: "IVA ... stent" after "occlusion
de l'" is an acute infarction (I21), not a chronic ischaemic heart disease (I25); "infarctus"
after "séquelles d'" or "ancien" is an old one (I25.2); "douleur lombaire" that radiates to
the genitals is a renal colic (N23), not a low back pain (M54.5); "Hépatite" before a capital
"A" is hepatitis A (B15.9); "VIH" alone is a virus's name, a condition only when the words
around it say the patient carries it (Z21). :data:`RULES` read a bounded window before the
mention (its line, back to the last sentence end) and the words after it on its line; the
ulcer rules (:func:`ulcer_complication`) read the mention's sentence.

Every expression is matched on folded text (lower case, no accents: :func:`fold`) unless the
rule is ``raw`` (case kept: "Hépatite A" vs "hépatite à CMV").
"""

from __future__ import annotations

import re
from typing import NamedTuple

from hopia.platform.text import fold

#: How far before a mention its window reaches (characters, on its line, after the last
#: sentence end): enough for "occlusion aiguë de l'artère", "séquelles d'un".
BEFORE_CHARS = 60
#: The sentence read around an ulcer mention, each side (characters, on its line).
SENTENCE_CHARS = 100

#: The code a comorbidity pipe's mention has when ``hopia.zones`` gave it no narrower one
#: (the Charlson item's code of :mod:`hopia.data.omop.mapping`, for the items read here).
ITEM_CODES = {"myocardial_infarction": "I21", "peptic_ulcer_disease": "K27", "aids": "B24"}


class Rule(NamedTuple):
    """Recode a mention whose current code matches ``codes`` when every pattern given
    matches: ``mention`` searched in its words, ``before`` searched in the window before it
    (anchor it with ``$``), ``after`` matched at the start of the words after it."""

    codes: str
    code: str  # the new code (no dot); "" when the mention names no condition of the patient
    mention: str | None = None
    before: str | None = None
    after: str | None = None
    raw: bool = False  # match the original text, case kept
    acute: bool = False  # the words say the event is acute: history does not make it old


_CORONARY = (
    r"\biva\b|\bivp\b|\bcd\b|\bcx\b|circonflexe|coronaire|interventriculaire|tronc commun"
    r"|stent|angioplastie|\bidm\b|infarctus"
)
# "occlusion (aiguë) de l'", "thrombose de la", right before the artery's name; "chronique"
# (a chronic total occlusion, I25) is not in the list of adjectives.
_OCCLUSION_BEFORE = (
    r"\b(?:occlusion|thrombose|obstruction)\s+(?:(?:aigue|brutale|complete|totale|thrombotique"
    r"|recente)\s+)*(?:(?:de\s+l'|de\s+la\s+|du\s+|des\s+|d')\s*)?(?:(?:artere|branche)\s+)?$"
)
# An infarction told as past: "ancien", "séquelles d'", "antécédent d'", "cicatrice d'".
_OLD_BEFORE = (
    r"(?:\banciens?\b|\banciennes?\b|\bvieil|\bvieux|\bsequelles?\s+(?:d'|de\s+|du\s+)"
    r"|\bantecedents?\s+(?:d'|de\s+)|\batcd\s+(?:d'|de\s+)|\bcicatrices?\s+(?:d'|de\s+)"
    r"|\bhistoire\s+d')\s*(?:(?:un|une|l)\W+)?$"
)
_OLD_AFTER = (
    r"\W*(?:(?:anterieur|inferieur|lateral|posterieur|septal|apical|[\w-]+-?basal)\w*\W+)?"
    r"(?:ancien|sequellaire|cicatriciel|cicatrise|gueri|(?:date|datant)\s+de)"
)
# A new event: "récidive d'", "nouvel", "ré-infarctus"; or written acute after the words.
_NEW_BEFORE = r"(?:\brecidives?\s+(?:d'|de\s+)|\bnouvel\w*\s+|\bnouveau\w*\s+|\bre-)$"
# Recent: an infarction of the last weeks, even in the history ("IDM récent"); "aigu" is part
# of the disease's name and says nothing of when ("Antécédents : IDM aigu en 2015" is old).
_RECENT_AFTER = (
    r"\W*(?:(?:anterieur|inferieur|lateral|posterieur|septal|apical|du myocarde|aigu)\w*\W+)?"
    r"(?:recent|en cours|en voie de constitution|du jour|il y a (?:\d+|quelques|deux|trois)"
    r" (?:jours?|semaines?))"
)
# Words that say a patient carries HIV, before "VIH": "séropositif pour le", "infection par le",
# "co-infection", "charge virale" (measured only in an infected patient).
_HIV_BEFORE = (
    r"(?:\bseropositi\w*|\binfections?|\bco-?infections?|\binfecte\w*|\bporteu\w+"
    r"|\bcharge\s+virale)\W*(?:(?:pour|au|a|par|du|vis-a-vis)\W+)?(?:(?:le|l)\W+)?$"
)
_TESTED_BEFORE = r"\b(?:serologies?|depistages?|tests?|trod|recherches?|pcr)\W+(?:du\W+)?$"
# A co-infection names both viruses: "co-infection VIH-VHC", "co-infection VHC/VIH".
_COINFECTION_BEFORE = (
    r"\bco-?infections?\W+(?:(?:par|a|au|le|l)\W+)*(?:vi[hb]|hiv|vhb|hbv|vhc|hcv)\W+$"
)
# The same, on the original text (rules that keep the case: "Hépatite A" vs "hépatite à CMV").
_TESTED_BEFORE_RAW = (
    r"(?i:\b(?:s[ée]rologies?|d[ée]pistages?|tests?|recherches?|pcr)\W+"
    r"(?:(?:de|du|d'|l'|la|anti)\W*)*)$"
)
# No IgM named on the rest of the line (an IgM result is the acute infection).
_NO_IGM = r"(?![^\n]{0,60}?\bIg\s?M\b)"

RULES: tuple[Rule, ...] = (
    # --- coronary disease: acute occlusion, old infarction, stent (issue 11, item 3) ---
    # (told as history, an I21 becomes I25.2 in hopia.data.omop.mapping unless ``acute``)
    Rule(r"I2[0-5]|Z95[15]", "I21", mention=_CORONARY, before=_OCCLUSION_BEFORE),
    Rule(r"I2[12]", "I21", before=_NEW_BEFORE),  # "récidive d'infarctus": not an old one
    Rule(r"I2[12]", "I252", before=_OLD_BEFORE),
    Rule(r"I2[12]", "I252", after=_OLD_AFTER),
    Rule(r"I2[12]", "I21", after=_RECENT_AFTER, acute=True),
    # --- sequelae of a stroke: I69.x ("séquelles d'AVC ischémique", "AVC séquellaire")
    Rule(r"I63", "I693", before=r"\bsequelles?\s+(?:d'|de\s+|du\s+)\s*(?:(?:un|une|l)\W+)?$"),
    Rule(r"I61", "I691", before=r"\bsequelles?\s+(?:d'|de\s+|du\s+)\s*(?:(?:un|une|l)\W+)?$"),
    Rule(r"I64", "I694", before=r"\bsequelles?\s+(?:d'|de\s+|du\s+)\s*(?:(?:un|une|l)\W+)?$"),
    Rule(r"I63", "I693", after=r"\W*(?:[\w-]+\W+){0,2}?sequellaire"),
    Rule(r"I61", "I691", after=r"\W*(?:[\w-]+\W+){0,2}?sequellaire"),
    Rule(r"I64", "I694", after=r"\W*(?:[\w-]+\W+){0,2}?sequellaire"),
    # --- a lumbar pain radiating to the groin or the genitals is a renal colic, not a back pain
    Rule(
        r"M54|R52",
        "N23",
        mention=r"lomb|\bflanc",
        after=r"\W*(?:(?:droite?|gauche|bilaterale?|aigue|brutale|intense|violente|typique)\W+)*"
        r"(?:irradiant|irradiation|irradiee?s?|avec irradiation|qui irradie)\W+(?:\w+\W+){0,3}?"
        r"(?:oge\b|organes genitaux|bourses?\b|testicul|scrot|grandes? levres|vulv|aines?\b"
        r"|pli inguinal|region inguinale|pubis|hypogastr)",
    ),
    # --- hepatitis A: "Hépatite A" (a capital, not "hépatite à CMV"). In a serology without
    # IgM ("sérologie hépatite A positive", IgG: immunity, past infection or vaccine) it names
    # no current condition; IgM is the acute disease (B15.9, the rules below).
    Rule(
        r"K75|B1[579]",
        "",
        mention=r"(?i:h[ée]patite)(?: virale)? A\b",
        before=_TESTED_BEFORE_RAW,
        after=_NO_IGM,
        raw=True,
    ),
    Rule(
        r"K75|B1[579]",
        "",
        mention=r"^(?i:h[ée]patite)",
        before=_TESTED_BEFORE_RAW,
        after=r"[ \t]*(?:virale[ \t]+)?A\b" + _NO_IGM,
        raw=True,
    ),
    Rule(r"K75|B1[579]", "B159", mention=r"(?i:h[ée]patite)(?: virale)? A\b", raw=True),
    Rule(
        r"K75|B1[579]",
        "B159",
        mention=r"^(?i:h[ée]patite)",
        after=r"[ \t]*(?:virale[ \t]+)?A\b",
        raw=True,
    ),
    # --- HIV: a status (Z21) when the words say the patient carries it, the disease (B24) at
    # the AIDS stage; "VIH" alone (a test's target, "statut VIH inconnu") is no condition
    Rule(r"Z21", "B24", after=r"\W*(?:au\s+)?stade\s+(?:sida|c\b|c3)|\W*\(?sida\b"),
    Rule(r"Z21", "Z21", mention=r"^(?:vih|hiv)$", after=r"\s*(?:\+|positi|pos\b)"),
    Rule(r"Z21", "Z21", mention=r"^(?:vih|hiv)$", before=_HIV_BEFORE),
    Rule(r"Z21", "Z21", mention=r"^(?:vih|hiv)$", before=_TESTED_BEFORE),  # result read later
    Rule(r"Z21", "Z21", mention=r"^(?:vih|hiv)$", before=_COINFECTION_BEFORE),
    Rule(r"Z21", "", mention=r"^(?:vih|hiv)$"),
    # --- hepatitis C: "VHC" alone is a virus's name (a test's target); the patient carries it
    # when the words say so ("infection par le VHC", "co-infection VIH-VHC", "VHC +"): B18.2
    Rule(r"B182", "B182", mention=r"^(?:vhc|hcv)$", after=r"\s*(?:\+|positi|pos\b)"),
    Rule(r"B182", "B182", mention=r"^(?:vhc|hcv)$", before=_HIV_BEFORE),
    Rule(r"B182", "B182", mention=r"^(?:vhc|hcv)$", before=_COINFECTION_BEFORE),
    Rule(r"B182", "B182", mention=r"^(?:vhc|hcv)$", before=_TESTED_BEFORE),  # result read later
    Rule(r"B182", "", mention=r"^(?:vhc|hcv)$"),
)


class _Compiled(NamedTuple):
    codes: re.Pattern[str]
    code: str
    mention: re.Pattern[str] | None
    before: re.Pattern[str] | None
    after: re.Pattern[str] | None
    raw: bool
    acute: bool


def _compile(rule: Rule) -> _Compiled:
    def opt(p: str | None) -> re.Pattern[str] | None:
        return None if p is None else re.compile(p)

    return _Compiled(
        re.compile(rule.codes),
        rule.code,
        opt(rule.mention),
        opt(rule.before),
        opt(rule.after),
        rule.raw,
        rule.acute,
    )


_RULES = tuple(_compile(r) for r in RULES)


def before_window(text: str, start: int) -> str:
    """The words before ``start`` on its line, back to the last sentence end, bounded."""
    lo = max(0, start - BEFORE_CHARS, text.rfind("\n", 0, start) + 1)
    window = text[lo:start]
    cut = max(window.rfind(". "), window.rfind(";"), window.rfind("? "), window.rfind("! "))
    return window[cut + 1 :] if cut >= 0 else window


def context_code(code: str, mention: str, before: str, after: str) -> tuple[str, bool] | None:
    """(new code, acute) for a mention coded ``code`` (no dot) with the words ``before`` and
    ``after`` it (original text), or None when no rule applies."""
    folded = (fold(mention), fold(before), fold(after))
    original = (mention, before, after)
    for rule in _RULES:
        if not rule.codes.match(code):
            continue
        m, b, a = original if rule.raw else folded
        if rule.mention is not None and not rule.mention.search(m):
            continue
        if rule.before is not None and not rule.before.search(b):
            continue
        if rule.after is not None and not rule.after.match(a):
            continue
        return rule.code, rule.acute
    return None


# --- when an event was: the month and year written on its line ("en février 2020") ---
_MONTHS = [
    "janvier",
    "fevrier",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "aout",
    "septembre",
    "octobre",
    "novembre",
    "decembre",
]
_WHEN = re.compile(
    rf"\b(?P<month_name>{'|'.join(_MONTHS)})\s+(?P<year>(?:19|20)\d{{2}})\b"
    r"|\b(?:\d{1,2}/)?(?P<month>\d{1,2})/(?P<year2>(?:19|20)\d{2})\b"
    r"|\b(?P<year3>(?:19|20)\d{2})\b"
)
#: Codes whose reading depends on when the event was (CIM-10's I21: 4 weeks or less).
DATED_CODES = re.compile(r"I2[12]")


def written_when(before: str, after: str) -> str | None:
    """The month ("2020-02") or year ("2015") an event is dated by on its line: first the
    words after the mention, else the last date before it; None when none is written."""
    after_dates = list(_WHEN.finditer(fold(after)))
    before_dates = list(_WHEN.finditer(fold(before)))
    for m in after_dates[:1] + before_dates[-1:]:
        if m["month_name"]:
            return f"{m['year']}-{_MONTHS.index(m['month_name']) + 1:02d}"
        if m["month"] and 1 <= int(m["month"]) <= 12:
            return f"{m['year2']}-{int(m['month']):02d}"
        if m["year3"]:
            return m["year3"]
    return None


# --- peptic ulcers with a complication: one concept (K26.4), not an ulcer and a bleeding ---
_ULCER = r"(?:ulceres?|ugd|ulcerations?)\b"
_LINK = r"(?:sur|par|due?s?\s+a|secondaires?\s+a|liee?s?\s+a|en rapport avec|d'origine)"
#: Bleeding of the ulcer: "ulcère duodénal hémorragique", "UGD compliqué d'hémorragie",
#: "hémorragie digestive haute sur ulcère", "méléna sur ulcère bulbaire".
BLEEDING = re.compile(
    rf"{_ULCER}(?:\s+[\w-]+){{0,3}}?\s+(?:hemorragiques?|saignants?|(?:qui a|ayant)\s+saigne"
    r"|(?:compliquee?s?\s+)?(?:d'une\s+|d'|avec\s+(?:une\s+)?)(?:hemorragie|saignement))"
    r"|(?:hemorragies?|saignements?|hematemeses?|melenas?|rectorragies?)(?:\s+[\w-]+){0,3}?"
    rf"\s+{_LINK}\s+(?:(?:un|une|l|son|d'un)\W+)?(?:[\w-]+\s+)?{_ULCER}"
)
#: Perforation of the ulcer: "ulcère duodénal perforé", "perforation d'un ulcère".
PERFORATION = re.compile(
    rf"{_ULCER}(?:\s+[\w-]+){{0,3}}?\s+(?:perfores?|perforees?"
    r"|(?:compliquee?s?\s+)?(?:d'une\s+|avec\s+(?:une\s+)?)perforation)"
    rf"|perforations?\s+(?:d'un\s+|de\s+l'|d'|de\s+)(?:[\w-]+\s+)?{_ULCER}"
)
#: Codes of a bleeding a complicated ulcer's code already says: R58, K92.0-K92.2.
BLEEDING_CODES = re.compile(r"R58|K92[012]")


def sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence around ``[start, end)``: on its line, between sentence ends, bounded."""
    lo = max(0, start - SENTENCE_CHARS, text.rfind("\n", 0, start) + 1)
    dot = max(text.rfind(". ", lo, start), text.rfind(";", lo, start))
    lo = dot + 1 if dot >= 0 else lo
    line_end = text.find("\n", end)
    hi = min(len(text), end + SENTENCE_CHARS, line_end if line_end >= 0 else len(text))
    for sep in (". ", ";"):
        cut = text.find(sep, end, hi)
        if cut >= 0:
            hi = cut
    return lo, hi


def ulcer_complication(
    code: str, text: str, start: int, end: int
) -> tuple[str, list[tuple[int, int]]] | None:
    """(code with its complication, the character ranges of the bleeding words) for a peptic
    ulcer mention ``[start, end)`` coded ``code`` (K25-K28) whose sentence says it bled or
    perforated, or None."""
    if not re.match(r"K2[5-8]", code):
        return None
    lo, hi = sentence_bounds(text, start, end)
    sentence = fold(text[lo:hi])

    def touching(regex: re.Pattern[str]) -> list[tuple[int, int]]:
        return [
            (lo + m.start(), lo + m.end())
            for m in regex.finditer(sentence)
            if lo + m.start() < end and start < lo + m.end()
        ]

    bleeding, perforation = touching(BLEEDING), touching(PERFORATION)
    if not bleeding and not perforation:
        return None
    digit = "6" if bleeding and perforation else "4" if bleeding else "5"
    return code[:3] + digit, bleeding

"""Regular expressions of the posology pipe, applied to the lower-cased, accent-folded text that
follows a drug name (same length as the original, so offsets carry over)."""

from __future__ import annotations

import re

from hopia.data.nlp.numbers import NUMBER, NUMBER_WORDS

SP = r"[ \t\u00a0\u202f]"
NUM = r"\d+(?:[.,]\d+)?"
DOSE_NUM = r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d)|\d+(?:[.,]\d+)?"

# Dose units, canonical spelling -> surface forms (lower case, accents folded).
DOSE_UNITS: dict[str, str] = {
    "mg/kg": r"mg\s?/\s?kg",
    "µg/kg": r"[µu]g\s?/\s?kg|mcg\s?/\s?kg",
    "mg/m²": r"mg\s?/\s?m\s?[2²]",
    "g": r"g(?:rammes?)?",
    "mg": r"mg|milligrammes?",
    "µg": r"[µu]g|mcg|microgrammes?|gamma",
    "UI": r"ui|u\.?i\.?|unites?|u",
    "mL": r"ml",
    "gouttes": r"gouttes?|gttes?",
    "cp": r"cp|cps|comprimes?|cpr",
    "gélule": r"gel(?:ule)?s?",
    "sachet": r"sachets?",
    "ampoule": r"amp(?:oule)?s?",
    "bouffée": r"bouffees?|puffs?",
    "inhalation": r"inhalations?",
    "injection": r"injections?",
    "patch": r"patchs?",
    "suppositoire": r"suppo(?:sitoire)?s?",
    "cuillère": r"c(?:uilleres?)?\s?a\s?(?:cafe|soupe)|cuilleres?|cac|cas",
    "AUC": r"auc",
}
_UNIT_GROUPS = "|".join(f"(?P<u{i}>{p})" for i, p in enumerate(DOSE_UNITS.values()))
UNIT_NAMES = list(DOSE_UNITS)

# "1 g", "49/51 mg", "4-6-4 UI", "AUC 5", "quarante unités", "deux comprimés": the first
# number is the dose (words read by hopia.data.nlp.numbers.parse_number).
DOSE_RE = re.compile(
    r"(?<![\w/.,])(?:(?P<auc>auc)" + SP + r"*(?P<auc_value>" + NUM + r")"
    r"|(?P<value>" + DOSE_NUM + r"|" + NUMBER_WORDS + r")"
    r"(?:" + SP + r"*[/-]" + SP + r"*" + NUM + r"){0,3}" + SP + r"*"
    r"(?:" + _UNIT_GROUPS + r"))(?![a-z0-9])"
)
# The strength of a counted form right after it: "2 cp de 500 mg", "1 gélule à 20 mg".
STRENGTH_RE = re.compile(
    SP + r"*(?:de|a|dose(?:e|s)?\s+a)" + SP + r"+(?P<value>" + DOSE_NUM + r")" + SP + r"*"
    r"(?P<unit>mg|g|[µu]g|mcg)(?![a-z0-9])"
)
STRENGTH_UNITS = {"mg": "mg", "g": "g", "µg": "µg", "ug": "µg", "mcg": "µg"}
# Counted forms, whose strength says the amount: a count of tablets is no mass.
COUNTED_FORMS = frozenset(
    {"cp", "gélule", "sachet", "ampoule", "suppositoire", "patch", "injection", "bouffée"}
)
# "4-6-4", "1-0-1": doses or counts at breakfast, lunch, dinner (and bedtime).
SCHEDULE_RE = re.compile(r"(?<![\w/.,-])\d{1,2}(?:[.,]\d)?(?:-\d{1,2}(?:[.,]\d)?){2,3}(?![\w/-])")
_SCHEDULE_PART = re.compile(r"\d+(?:[.,]\d+)?")

ROUTES: tuple[tuple[str, str], ...] = (
    ("intraveineuse", r"ivse|ivl|ivd|i\.v\.|iv|intra-?\s?veineu(?:x|se)|perfusion|pse"),
    ("sous-cutanée", r"sc|s/c|s\.c\.|sous[ -]cutane(?:e|s)?"),
    ("intramusculaire", r"im|i\.m\.|intra-?\s?musculaire"),
    ("orale", r"per\s?os|po|p\.o\.|voie\s+orale|orale?|vo|par\s+la\s+bouche"),
    ("inhalée", r"inhalee?|inhalation|en\s+aerosols?|nebulisations?|aerosols?|bouffees?"),
    ("sublinguale", r"sublinguale?|sl"),
    ("transdermique", r"transdermique|patchs?"),
    ("rectale", r"intra-?rectale?|rectale?|suppositoires?"),
    ("locale", r"application\s+locale|locale?|topique|cutanee"),
    ("ophtalmique", r"collyre|ophtalmique"),
)
ROUTE_RE = re.compile(
    r"(?<![\w/])(?:en\s+|par\s+voie\s+|voie\s+)?(?:"
    + "|".join(f"(?P<r{i}>{p})" for i, (_, p) in enumerate(ROUTES))
    + r")(?![\w])"
)
ROUTE_NAMES = [name for name, _ in ROUTES]
# A dose form says the route when the text does not ("2 cp" is oral).
FORM_ROUTE = {
    "cp": "orale",
    "gélule": "orale",
    "sachet": "orale",
    "bouffée": "inhalée",
    "inhalation": "inhalée",
    "patch": "transdermique",
    "suppositoire": "rectale",
    "gouttes": "orale",
}

# Counts in digits or French words ("toutes les douze heures", "pendant vingt et un jours"),
# read by hopia.data.nlp.numbers.parse_number.
_N = r"(?P<n>" + NUMBER + r")"
_EVERY = r"(?P<every>" + NUMBER + r")"
# (regex, kind): kind says how to read the match into (frequency text, per day).
FREQUENCIES: tuple[tuple[str, str], ...] = (
    (r"si\s+besoin|a\s+la\s+demande|en\s+cas\s+de\s+besoin|\bsb\b|prn", "prn"),
    (r"toutes\s+les\s+" + _EVERY + r"\s*(?:h|heures?)\b", "every_h"),
    (r"tou(?:te)?s\s+les\s+" + _EVERY + r"\s*(?:j|jours?)\b", "every_d"),
    (r"tou(?:te)?s\s+les\s+" + _EVERY + r"\s*(?:sem(?:aines?)?)\b", "every_w"),
    (r"tous\s+les\s+" + _EVERY + r"\s*mois\b", "every_m"),
    (r"tous\s+les\s+jours|quotidien(?:ne)?(?:ment)?", "once"),
    # "x" or the multiplication sign (dictation and typed notes write "× 2/j")
    (_N + r"\s*(?:fois|[x×])\s*(?:par|/)\s*(?:semaine|sem)\b", "n_week"),
    (r"(?:par|/|1\s*fois\s+par)\s*semaine|hebdomadaire|/\s*sem\b", "week"),
    (
        r"(?:[x×]\s*" + _N + r"|" + _N.replace("n>", "n2>") + r"\s*(?:fois|[x×]))\s*(?:par|/)\s*"
        r"(?:j(?:our)?|24\s*h)\b",
        "n_day",
    ),
    (r"[x×]\s*" + _N, "n_day"),
    (
        r"matin\s*,\s*midi\s+et\s+soir|matin\s+midi\s+(?:et\s+)?soir|aux\s+(?:3|trois)\s+repas"
        r"|(?:avant|a|pendant)\s+chaque\s+repas",
        "three",
    ),
    (r"matin\s+et\s+soir|matin\s+et\s+midi|midi\s+et\s+soir|soir\s+et\s+matin", "two"),
    (
        r"(?:/|par)\s*(?:j(?:our)?|24\s*h)\b|le\s+(?:matin|soir|midi)|au\s+coucher|a\s+jeun"
        r"|le\s+soir|une\s+fois\s+par\s+jour",
        "once",
    ),
)
FREQUENCY_PATTERNS = [(re.compile(p), kind) for p, kind in FREQUENCIES]

DURATION_RE = re.compile(
    r"(?:pendant|durant|pour|sur|x)\s+(?P<n>" + NUMBER + r")\s*(?:d[e']\s*)?"
    r"(?P<unit>j(?:ours?)?|sem(?:aines?)?|mois)\b(?!\s+sur\s+7)"
    r"|de\s+j(?P<d1>\d+)\s+a\s+j(?P<d2>\d+)"
    r"|(?<![/x\w])(?P<bare>\d+)\s*(?P<bare_unit>j|jours)\b(?!\s+sur\s+7)"
    r"|jusqu'(?:au|a)\s+(?P<until>\d{1,2}/\d{1,2}(?:/\d{2,4})?|[\w ]{1,20}?)(?=[,.;)]|$)"
)
# "5 jours sur 7": a schedule within the week, not a duration.
WEEK_SCHEDULE_RE = re.compile(r"\d\s+jours?\s+sur\s+7")

# A lab unit right after a drug-like name: "albumine 28 g/L" is a result, not a drug.
LAB_AFTER_RE = re.compile(
    SP + r"*(?:\w+" + SP + r"+){0,2}?(?:[:=]|a\b)?" + SP + r"*\d+(?:[.,]\d+)?" + SP + r"*"
    r"(?:mmol|[µu]mol|mEq|g/dl|g\s?/\s?l\b|giga|ui/l|u/l|/mm)",
    re.I,
)

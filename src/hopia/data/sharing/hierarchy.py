"""Generalisation hierarchies: CIM-10 code → category → chapter, postcode → area → region.

Plain tables, no terminology server: the CIM-10 chapters are those of the WHO ICD-10 (2019),
which the French CIM-10 (ATIH) shares; French departments and regions follow the INSEE codes
of 2016.
"""

from __future__ import annotations

import re

CIM10_VOCABULARIES = frozenset({"CIM10", "ICD10", "ICD10CM"})

# (first category, last category, chapter): WHO ICD-10 chapters I-XXII.
_CHAPTERS = [
    ("A00", "B99", "I"),
    ("C00", "D48", "II"),
    ("D50", "D89", "III"),
    ("E00", "E90", "IV"),
    ("F00", "F99", "V"),
    ("G00", "G99", "VI"),
    ("H00", "H59", "VII"),
    ("H60", "H95", "VIII"),
    ("I00", "I99", "IX"),
    ("J00", "J99", "X"),
    ("K00", "K93", "XI"),
    ("L00", "L99", "XII"),
    ("M00", "M99", "XIII"),
    ("N00", "N99", "XIV"),
    ("O00", "O99", "XV"),
    ("P00", "P96", "XVI"),
    ("Q00", "Q99", "XVII"),
    ("R00", "R99", "XVIII"),
    ("S00", "T98", "XIX"),
    ("V01", "Y98", "XX"),
    ("Z00", "Z99", "XXI"),
    ("U00", "U99", "XXII"),
]
_CATEGORY = re.compile(r"^[A-Z]\d{2}")


def cim10_category(code: str) -> str | None:
    """``E11.9`` → ``E11``; None when ``code`` is not a CIM-10 code."""
    match = _CATEGORY.match(code.replace(".", "").strip().upper())
    return match.group(0) if match else None


def cim10_chapter(code: str) -> str | None:
    """The chapter's block of categories, e.g. ``E11.9`` → ``E00-E90`` (chapter IV)."""
    category = cim10_category(code)
    if category is None:
        return None
    for first, last, _ in _CHAPTERS:
        if first <= category <= last:
            return f"{first}-{last}"
    return None


def cim10_chapter_number(code: str) -> str | None:
    """The chapter's roman numeral, e.g. ``E11.9`` → ``IV``."""
    block = cim10_chapter(code)
    return next((roman for first, last, roman in _CHAPTERS if block == f"{first}-{last}"), None)


# INSEE region code → departments (2016 regions; overseas departments are regions of their own).
_REGIONS = {
    "84": "01 03 07 15 26 38 42 43 63 69 73 74",
    "27": "21 25 39 58 70 71 89 90",
    "53": "22 29 35 56",
    "24": "18 28 36 37 41 45",
    "94": "2A 2B",
    "44": "08 10 51 52 54 55 57 67 68 88",
    "32": "02 59 60 62 80",
    "11": "75 77 78 91 92 93 94 95",
    "28": "14 27 50 61 76",
    "75": "16 17 19 23 24 33 40 47 64 79 86 87",
    "76": "09 11 12 30 31 32 34 46 48 65 66 81 82",
    "52": "44 49 53 72 85",
    "93": "04 05 06 13 83 84",
    "01": "971",
    "02": "972",
    "03": "973",
    "04": "974",
    "06": "976",
}
DEPARTMENT_REGION = {d: region for region, ds in _REGIONS.items() for d in ds.split()}
_FRENCH_ZIP = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_FRANCE = {"FR", "FRA", "FRANCE"}


def is_french(zip_code: str | None, state: str | None, country: str | None) -> bool:
    """A location is French when it says so, or says nothing else and has a French postcode."""
    if country and country.strip():
        return country.strip().upper() in _FRANCE
    if state and state.strip():
        return False  # a US-style state (Synthea) and no country
    return bool(zip_code and _FRENCH_ZIP.match(zip_code.strip().upper()))


def french_department(zip_code: str) -> str | None:
    """``75013`` → ``75``; ``20190`` → ``2A``; ``97400`` → ``974``."""
    z = zip_code.strip().upper()
    if not _FRENCH_ZIP.match(z):
        return None
    if z.startswith("2A") or z.startswith("2B"):
        return z[:2]
    if z.startswith("20"):  # Corse: 200xx-201xx Corse-du-Sud, the rest Haute-Corse
        return "2A" if z[2] in "01" else "2B"
    if z.startswith(("97", "98")):
        return z[:3]
    return z[:2]


def area(zip_code: str | None, state: str | None, country: str | None) -> str | None:
    """Second rung: French department, elsewhere the first three digits (US ZIP3)."""
    if not zip_code or not zip_code.strip():
        return None
    if is_french(zip_code, state, country):
        return french_department(zip_code)
    return zip_code.strip()[:3]


def region(zip_code: str | None, state: str | None, country: str | None) -> str | None:
    """Third rung: INSEE region code in France (``OM`` for overseas collectivities), else the
    state."""
    if is_french(zip_code, state, country):
        department = french_department(zip_code or "")
        if department is None:
            return None
        return DEPARTMENT_REGION.get(department, "OM")
    return state.strip().upper()[:2] if state and state.strip() else None

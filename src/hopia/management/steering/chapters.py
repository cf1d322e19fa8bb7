"""CIM-10 (ICD-10) chapters: the first level of the classification, for the case mix.

The ranges and the French titles are those of the WHO ICD-10 as the ATIH publishes it for the
PMSI (CIM-10 FR à usage PMSI): chapter I ``A00-B99`` to chapter XXII ``U00-U99``. A code maps to
its chapter by its letter and first two digits (``I50.9`` -> IX).
"""

from __future__ import annotations

import re

# (first code, last code, roman number, French title)
CHAPTERS: tuple[tuple[str, str, str, str], ...] = (
    ("A00", "B99", "I", "Certaines maladies infectieuses et parasitaires"),
    ("C00", "D48", "II", "Tumeurs"),
    ("D50", "D89", "III", "Maladies du sang et des organes hématopoïétiques"),
    ("E00", "E90", "IV", "Maladies endocriniennes, nutritionnelles et métaboliques"),
    ("F00", "F99", "V", "Troubles mentaux et du comportement"),
    ("G00", "G99", "VI", "Maladies du système nerveux"),
    ("H00", "H59", "VII", "Maladies de l'œil et de ses annexes"),
    ("H60", "H95", "VIII", "Maladies de l'oreille et de l'apophyse mastoïde"),
    ("I00", "I99", "IX", "Maladies de l'appareil circulatoire"),
    ("J00", "J99", "X", "Maladies de l'appareil respiratoire"),
    ("K00", "K93", "XI", "Maladies de l'appareil digestif"),
    ("L00", "L99", "XII", "Maladies de la peau et du tissu cellulaire sous-cutané"),
    ("M00", "M99", "XIII", "Maladies du système ostéo-articulaire et du tissu conjonctif"),
    ("N00", "N99", "XIV", "Maladies de l'appareil génito-urinaire"),
    ("O00", "O99", "XV", "Grossesse, accouchement et puerpéralité"),
    ("P00", "P96", "XVI", "Affections dont l'origine se situe dans la période périnatale"),
    ("Q00", "Q99", "XVII", "Malformations congénitales et anomalies chromosomiques"),
    ("R00", "R99", "XVIII", "Symptômes, signes et résultats anormaux non classés ailleurs"),
    ("S00", "T98", "XIX", "Lésions traumatiques, empoisonnements et causes externes"),
    ("V01", "Y98", "XX", "Causes externes de morbidité et de mortalité"),
    ("Z00", "Z99", "XXI", "Facteurs influant sur l'état de santé et recours aux services"),
    ("U00", "U99", "XXII", "Codes d'utilisation particulière"),
)
UNCODED = "-"
UNCODED_TITLE = "Sans diagnostic CIM-10"
_CODE = re.compile(r"^([A-Z])(\d\d)")


def is_code(value: str | None) -> bool:
    """Whether ``value`` reads as a CIM-10 code (a letter and two digits first); a missing
    value (``None``, or the NaN pandas reads a NULL source value as) is none."""
    return isinstance(value, str) and _CODE.match(value.strip().upper()) is not None


def chapter(code: str | None) -> str:
    """The roman number of the chapter of ``code`` (``"IX"`` for ``I50.9``), or
    :data:`UNCODED` when it is not a CIM-10 code or falls in no chapter."""
    if code is None:
        return UNCODED
    m = _CODE.match(code.strip().upper())
    if m is None:
        return UNCODED
    key = m.group(1) + m.group(2)
    for first, last, number, _ in CHAPTERS:
        if first <= key <= last:
            return number
    return UNCODED


def title(number: str) -> str:
    """The French title of a chapter (its roman number), :data:`UNCODED_TITLE` for none."""
    for *_, n, name in CHAPTERS:
        if n == number:
            return name
    return UNCODED_TITLE


ORDER: dict[str, int] = {c[2]: i for i, c in enumerate(CHAPTERS)} | {UNCODED: len(CHAPTERS)}

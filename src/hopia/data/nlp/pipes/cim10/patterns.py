"""The CIM-10 terminology edsnlp ships, turned into matchable terms and a code table.

``cim10.csv.gz`` (columns code, type, ssr, psy, short, long) is ATIH's "CIM-10 FR à usage
PMSI" label file as redistributed by edsnlp (see ``SOURCES.md``). Codes have no dot ("I500");
PMSI extensions may carry a ``+`` ("C169+0").
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator
from pathlib import Path

from edsnlp import BASE_DIR

from hopia.platform.text import fold

CIM10_FILE: Path = BASE_DIR / "resources" / "cim10.csv.gz"

# ATIH markers such as "*** SU06 *** (Fièvre avec frissons)" and qualifiers in brackets.
_MARKER = re.compile(r"\*{3}[^*]*\*{3}")
_BRACKETED = re.compile(r"\s*[\[(][^\])]*[\])]")
# Trailing residual-category qualifiers: the mention in a note is the bare label.
_RESIDUAL = re.compile(
    r",\s*(?:sans precision|sai|nca|nca ou sai|nca/sai|non classee?s? ailleurs"
    r"|autres et (?:sans|non) precisee?s?|non precisee?s?)$"
)
_SHORT_SUFFIX = re.compile(r"(?:,\s*|\s+)(?:sai|nca|nca ou sai|nca/sai)$")
# Short labels use abbreviations ("INSUF. CARD."): only those written in full are terms.
_ABBREVIATED = re.compile(r"[./+&*]")

# Labels that are everyday words in notes far more often than diagnoses.
GENERIC_LABELS = frozenset(
    {
        "autre",
        "autres",
        "code",
        "codes",
        "conseil",
        "divers",
        "examen",
        "mort",
        "deces",
        "grossesse",
        "sejour",
        "soins",
        "suivi",
        "traitement",
    }
)


# Labels that are everyday words in another sense: a code only with a word of their sense
# around them (a few words either side, folded). "Isolement" is Z29.0, a prophylactic
# isolation ("isolement contact", "précautions complémentaires" for a BMR), not "isolement
# social" nor a psychiatric "chambre d'isolement".
SENSE_CONTEXT: dict[str, re.Pattern[str]] = {
    "Z290": re.compile(
        r"isolement (?:de )?(?:contact|gouttelette|air\b|respiratoire|septique|protecteur"
        r"|renforce|geographique|prophylactique|infectieux)|precautions? (?:complementaire"
        r"|contact|gouttelette|air\b)|\bbmr\b|\bbhr|\bblse\b|\bsarm\b|\bepc\b|clostridi"
        r"|aplasi|tuberculose|\bbk\b|grippe|covid"
    ),
}
SENSE_WINDOW = 8  # tokens read on each side of such a label


def in_sense(code: str, window: str) -> bool:
    """Whether a label found for ``code`` is meant in its CIM-10 sense, given the words
    around it (``window``); True for every code without a :data:`SENSE_CONTEXT`."""
    context = SENSE_CONTEXT.get(code)
    return context is None or context.search(fold(window)) is not None


def read_rows(path: Path | None = None) -> list[dict[str, str]]:
    """Rows of the CIM-10 file (default :data:`CIM10_FILE`); an unusable file is an error
    that names it."""
    path = CIM10_FILE if path is None else path
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{path}: fichier CIM-10 illisible ({exc})") from exc
    if not rows or not {"code", "short", "long"} <= set(rows[0]):
        raise ValueError(f"{path}: colonnes code/short/long attendues")
    return rows


def label_variants(long: str, short: str) -> Iterator[tuple[int, str]]:
    """``(rank, term)`` for one code: 0 the label as is, 1 cleaned, 2 short label.

    A lower rank wins when two codes share a normalised term. Acronyms (in brackets or as short
    labels: "[FEVG]", "RCP", "IMC") are left out: in notes they mostly mean something else.
    """
    base = _MARKER.sub("", long).strip()
    if base.startswith("(") and base.endswith(")"):
        base = base[1:-1]
    text = _BRACKETED.sub("", base).strip()
    cleaned = _RESIDUAL.sub("", fold(text)).strip()
    if "," not in cleaned:  # "X, avec Y": too specific to be written that way in a note
        yield (0 if cleaned == fold(long).strip() else 1), cleaned
    if not _ABBREVIATED.search(short):
        short_clean = _SHORT_SUFFIX.sub("", fold(short).strip()).strip()
        if len(short_clean) > 5 and "," not in short_clean:
            yield 2, short_clean


def terms(rows: list[dict[str, str]]) -> list[tuple[str, str]]:
    """``(term, code)`` pairs, best first: label as is, then shorter (more general) codes."""
    ranked: list[tuple[int, int, str, str]] = []
    for row in rows:
        code = row["code"].strip()
        for rank, term in label_variants(row["long"], row["short"]):
            if term and term not in GENERIC_LABELS:
                ranked.append((rank, len(code), code, term))
    ranked.sort()
    return [(term, code) for _, _, code, term in ranked]

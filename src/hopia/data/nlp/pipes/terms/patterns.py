"""Sources of ``hopia.terms``: Hopia's lexicon, edsnlp's drug names, CIM-10 labels.

Entries are ``(code, category, vocabulary, cim10, upper_only)``: ``vocabulary`` is ``HOPIA``
(``lexicon.tsv``), ``ATC`` (edsnlp's ``drugs.json``) or ``CIM10``; ``cim10`` is the CIM-10 code
a Hopia concept maps to ("" when none); ``upper_only`` marks acronyms written in capitals in the
lexicon ("HTA", "FA"), which match only capitals in the text.
"""

from __future__ import annotations

import json
from pathlib import Path

from edsnlp import BASE_DIR

from hopia.data.nlp.pipes.cim10 import patterns as cim10_patterns

LEXICON_FILE: Path = Path(__file__).with_name("lexicon.tsv")
DRUGS_FILE: Path = BASE_DIR / "resources" / "drugs.json"
CATEGORIES = frozenset({"DISO", "PROC", "ANAT", "CHEM"})

Entry = tuple[str, str, str, str, bool]

#: Acronyms of the lexicon that name another thing as often as their concept in French notes:
#: "BK" the bacillus of a test ("recherche de BK"), "MRC" the muscle-strength scale ("MRC
#: 4/5"), "IRA" acute renal or respiratory failure, "SEP" multiple sclerosis or an
#: extrapyramidal syndrome, "ICA" acute heart or coronary failure. Their mentions are marked
#: ``ambiguous``: no condition fact of their own.
AMBIGUOUS_ACRONYMS = frozenset({"BK", "MRC", "IRA", "SEP", "ICA"})


def _is_acronym(term: str) -> bool:
    letters = term.replace("-", "").replace(" ", "")
    return term.isupper() and len(letters) <= 6


def read_lexicon(path: Path = LEXICON_FILE) -> list[tuple[str, Entry]]:
    """``(term, entry)`` pairs of Hopia's lexicon; a malformed line is an error naming it."""
    pairs: list[tuple[str, Entry]] = []
    cim10_codes: set[str] | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 4 or fields[1] not in CATEGORIES or not fields[0] or not fields[3]:
            raise ValueError(
                f"{path}:{number}: ligne attendue « code<TAB>catégorie<TAB>cim10<TAB>termes » "
                f"avec une catégorie parmi {sorted(CATEGORIES)}"
            )
        code, category, cim10, forms = fields
        cim10 = "" if cim10 == "-" else cim10
        if cim10:
            if cim10_codes is None:
                cim10_codes = {r["code"].strip() for r in cim10_patterns.read_rows()}
            if cim10 not in cim10_codes:
                raise ValueError(f"{path}:{number}: code CIM-10 inconnu {cim10!r}")
        for term in forms.split("|"):
            term = term.strip()
            if term:
                pairs.append((term, (code, category, "HOPIA", cim10, _is_acronym(term))))
    return pairs


def read_drugs(path: Path = DRUGS_FILE) -> list[tuple[str, Entry]]:
    """Drug names (brands and active ingredients) with their ATC code, most specific first."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: fichier de médicaments illisible ({exc})") from exc
    # A name listed under several ATC codes keeps the longest (most specific), then the first.
    ranked = sorted(data.items(), key=lambda item: (-len(item[0]), item[0]))
    return [(name, (atc, "CHEM", "ATC", "", False)) for atc, names in ranked for name in names]


def read_cim10() -> list[tuple[str, Entry]]:
    """CIM-10 labels as disorder terms (the same variants as ``hopia.cim10``)."""
    rows = cim10_patterns.read_rows()
    return [
        (term, (code, "DISO", "CIM10", code, False)) for term, code in cim10_patterns.terms(rows)
    ]


def all_terms() -> list[tuple[str, Entry]]:
    """Every source, curated first: the first entry given for a normalised term wins."""
    return read_lexicon() + read_drugs() + read_cim10()


def source_files() -> list[Path]:
    return [LEXICON_FILE, DRUGS_FILE, cim10_patterns.CIM10_FILE, Path(cim10_patterns.__file__)]

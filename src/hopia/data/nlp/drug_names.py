"""ATC codes of a drug name, from the drug dictionary of ``eds.drugs`` (edsnlp's ``drugs.json``).

``eds.drugs`` codes the names it lists exactly; a name written another way ("tiotropium" where
the dictionary lists "tiotropium bromure") or by a model that gives no code (the statistical
NER's chemicals) gets none. :func:`atc_codes` looks a name up in the same dictionary by its
ingredient: the whole name, then its first word when that word names one ingredient (not
"acide", "insuline", "chlorure"...). :func:`combination_codes` gives the codes of the
combinations an ingredient is in ("budesonide": R03AK07, "formoterol et budesonide"), so that a
summary naming an ingredient of a combination can meet the combination's brand (Symbicort)
without two ingredients of one combination meeting each other.
Without edsnlp the lookup gives nothing.
"""

from __future__ import annotations

import re
from functools import cache

from hopia.platform.text import fold

# First words that name no single ingredient.
GENERIC_HEADS = frozenset(
    (
        "acide",
        "insuline",
        "chlorure",
        "bromure",
        "sulfate",
        "sodium",
        "potassium",
        "calcium",
        "magnesium",
        "association",
        "associations",
        "vaccin",
        "autres",
        "sel",
        "sels",
        "inhibiteur",
        "antivitamines",
        "hormone",
        "facteur",
        "extrait",
    )
)
_PARTS = re.compile(r"\bet\b|,|\ben association\b|\bavec\b")
_BRACKETS = re.compile(r"\([^()]*\)")  # "thiamine (vit b1)": one ingredient


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", fold(text))


@cache
def _index() -> tuple[
    dict[str, frozenset[str]], dict[str, frozenset[str]], dict[str, frozenset[str]]
]:
    """(whole name -> codes, ingredient first word -> its own codes, ingredient first word ->
    the codes of the combinations it is in)."""
    try:
        from edsnlp.pipes.ner.drugs.patterns import get_patterns
    except ImportError:
        return {}, {}, {}
    names: dict[str, set[str]] = {}
    heads: dict[str, set[str]] = {}
    within: dict[str, set[str]] = {}
    for code, listed in get_patterns().items():
        for name in listed:
            whole = " ".join(_words(name))
            if whole:
                names.setdefault(whole, set()).add(code)
            if name != name.lower():
                continue  # brands are in capitals; ingredients (INN) in lower case
            plain = _BRACKETS.sub(" ", fold(name))
            parts = [w for w in (_words(p) for p in _PARTS.split(plain)) if w]
            for words in parts:
                if len(parts) == 1:
                    names.setdefault(" ".join(words), set()).add(code)
                if words[0] not in GENERIC_HEADS and len(words[0]) >= 5:
                    (heads if len(parts) == 1 else within).setdefault(words[0], set()).add(code)
    return (
        {k: frozenset(v) for k, v in names.items()},
        {k: frozenset(v) for k, v in heads.items()},
        {k: frozenset(v) for k, v in within.items()},
    )


def atc_codes(name: str) -> frozenset[str]:
    """The ATC codes the dictionary lists ``name`` under (its whole name, else its first
    word as an ingredient); empty when it is not there."""
    words = _words(name)
    if not words:
        return frozenset()
    names, heads, _ = _index()
    found = names.get(" ".join(words))
    if found:
        return found
    if words[0] in GENERIC_HEADS:
        return frozenset()
    return heads.get(words[0], frozenset())


def combination_codes(name: str) -> frozenset[str]:
    """The ATC codes of the combinations whose ingredients include ``name`` (its first word):
    "budésonide" is in R03AK07 (formoterol et budesonide, Symbicort)."""
    words = _words(name)
    if not words or words[0] in GENERIC_HEADS:
        return frozenset()
    return _index()[2].get(words[0], frozenset()) - atc_codes(name)

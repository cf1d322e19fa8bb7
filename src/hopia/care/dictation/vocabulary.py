"""The recogniser's vocabulary hint: a short French medical prompt for Whisper.

Whisper reads its prompt as text said just before the audio: words in it become likelier
(drug names it would otherwise spell as common words). A long prompt backfires — on poor audio
the model copies it — so the hint stays short: the section titles of Hopia's clinical documents
and the drug and disease names of Hopia's own term lexicon, within :data:`MAX_WORDS` words.
"""

from __future__ import annotations

import functools
from pathlib import Path

#: Words of the hint, at most (Whisper keeps 224 prompt tokens; French words take ~2 each).
MAX_WORDS = 60
#: Section titles a dictation names most.
_TITLES = (
    "Motif",
    "Antécédents",
    "Traitement",
    "Histoire de la maladie",
    "Examen clinique",
    "Biologie",
    "Conclusion",
)


def _lexicon() -> Path:
    from hopia.data.nlp.pipes.terms import __file__ as terms_init

    return Path(terms_init).parent / "lexicon.tsv"


@functools.cache
def hint() -> str:
    """« Compte rendu médical. Motif, Antécédents, … » then drug names, then diseases."""
    drugs: list[str] = []
    diseases: list[str] = []
    for line in _lexicon().read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) < 4:
            continue
        first = cells[3].split("|")[0].strip()
        # lower-case forms only: capitals are abbreviations ("HTA"), spelt out when dictated
        if not first or not first.islower():
            continue
        (drugs if cells[1] == "CHEM" else diseases if cells[1] == "DISO" else []).append(first)
    words = ["Compte", "rendu", "médical."]
    text = " ".join(words) + " " + ", ".join(_TITLES) + "."
    budget = MAX_WORDS - len(text.split())
    names: list[str] = []
    for name in drugs + diseases:
        if budget - len(name.split()) < 0:
            break
        names.append(name)
        budget -= len(name.split())
    return text + (" " + ", ".join(names) + "." if names else "")

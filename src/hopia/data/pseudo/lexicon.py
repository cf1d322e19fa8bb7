"""The common words of the PHI model's focus (:mod:`hopia.data.pseudo.focus`), built at first
use from installed packages — nothing of it is kept in this repository.

The focus skips the model on a line only when every word of it is a known common French or
medical word that is not a name. The known words come from general sources only, never from
the synthetic CHU's generator (whose vocabulary would flatter the bench) nor from the corpora
Hopia is evaluated on:

- the French dictionary of ``pyspellchecker`` (a pinned dependency of the ``data`` extra, read
  from the installed package: word forms of the OpenSubtitles 2018 frequency lists, cleaned by
  the package);
- the conjugated verb forms and the ADICAP pathology labels that EDS-NLP ships
  (``edsnlp/resources/verbs.csv.gz``, ``adicap.json.gz``).

Every word that is a first name, a surname or a commune of the gazetteers and is not flagged
ambiguous (a common word too) is left out; the focus also checks the gazetteers for each word,
so a name added to them later sends its line to the model.
"""

from __future__ import annotations

import gzip
import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from hopia.platform.text import fold

_WORD = re.compile(r"[^\W\d_]{3,}")  # the focus ignores words of one or two letters


def _words(text: str) -> set[str]:
    return set(_WORD.findall(fold(text)))


def spelling_words() -> set[str]:
    """The word forms of pyspellchecker's French dictionary, folded."""
    data = resources.files("spellchecker").joinpath("resources", "fr.json.gz").read_bytes()
    return {w for word in json.loads(gzip.decompress(data)) for w in _words(word)}


def _edsnlp_resource(name: str) -> bytes:
    import edsnlp

    return gzip.decompress((Path(edsnlp.__file__).parent / "resources" / name).read_bytes())


def verb_forms() -> set[str]:
    """EDS-NLP's conjugated French verb forms (last column of its verbs table)."""
    rows = _edsnlp_resource("verbs.csv.gz").decode("utf-8").splitlines()[1:]
    return {w for row in rows for w in _words(row.rsplit(",", 1)[-1])}


def adicap_words() -> set[str]:
    """The words of EDS-NLP's ADICAP pathology labels."""
    out: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, str):
            out.update(_words(node))
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(_edsnlp_resource("adicap.json.gz")))
    return out


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """The folded common words of the sources above, minus the gazetteers' unambiguous first
    names, surnames and communes (built once per process: about a second)."""
    from hopia.data.pseudo.gazetteer import AMBIGUOUS, load

    g = load()
    names = {
        k
        for table in (g.first_names, g.surnames)
        for k, code in table.items()
        if not code & AMBIGUOUS
    }
    names |= {k for k, c in g.communes.items() if not c.ambiguous}
    return frozenset((spelling_words() | verb_forms() | adicap_words()) - names)

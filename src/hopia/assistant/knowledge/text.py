"""French text normalisation for lexical retrieval: lower case, accents folded, stopwords out.

Accents are folded because users type queries without them ("diabete", "creatinine") while
documents carry them. Stopwords are bm25s's French list (the Snowball list), folded the same
way. A light plural rule (final ``s``/``x`` of words of five letters or more) groups "comprimés"
and "comprimé"; no full stemmer, which would need a compiled dependency."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lower case without diacritics (``Éthique`` → ``ethique``); ligatures split."""
    text = text.lower().replace("œ", "oe").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_FRENCH

    # Elided forms ("l", "d", "qu") come out of the tokenizer as one-letter words.
    extra = {"l", "d", "qu", "j", "m", "n", "s", "t", "c", "y", "a", "est", "sont", "ete"}
    return frozenset(fold(w) for w in STOPWORDS_FRENCH) | extra


def _light_stem(word: str) -> str:
    if len(word) >= 5 and word[-1] in "sx" and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """The terms BM25 indexes and queries with: folded words, stopwords out, plurals merged."""
    stop = stopwords()
    return [_light_stem(w) for w in _WORD.findall(fold(text)) if w not in stop]

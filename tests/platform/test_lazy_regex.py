"""The deferred compile of spaCy's French TOKEN_MATCH: same tokens, same serialisation, no cost
for the EDS pipeline (issue 4, item 7)."""

from __future__ import annotations

import pickle
import re
import subprocess
import sys

import spacy

import hopia  # noqa: F401  (installs the hook, as every Hopia entry point does)
from hopia.platform.lazy_regex import LAZY_MIN_CHARS, LazyPattern, _lazy_compile

FRENCH = (
    "Aujourd'hui l'après-midi, le porte-monnaie du sous-officier est tombé ; "
    "c'est-à-dire qu'entr'ouvert, le va-et-vient reprend. Rendez-vous à Saint-Étienne-du-Rouvray."
)


def test_french_token_match_is_lazy_and_tokenises_as_the_compiled_regex() -> None:
    from spacy.lang.fr import tokenizer_exceptions as fr

    lazy = fr.TOKEN_MATCH.__self__
    assert isinstance(lazy, LazyPattern)
    lazy_tokens = [t.text for t in spacy.blank("fr")(FRENCH)]

    eager = spacy.blank("fr")
    eager.tokenizer.token_match = re.compile(lazy.pattern).match
    assert lazy_tokens == [t.text for t in eager(FRENCH)]
    assert "porte-monnaie" in lazy_tokens and "après-midi" in lazy_tokens
    assert lazy.compiled and lazy.flags == re.compile(lazy.pattern).flags


def test_tokenizer_serialisation_reads_the_pattern() -> None:
    nlp = spacy.blank("fr")
    restored = spacy.blank("fr")
    restored.tokenizer.from_bytes(nlp.tokenizer.to_bytes())
    pattern = nlp.tokenizer.token_match.__self__.pattern
    assert restored.tokenizer.token_match.__self__.pattern == pattern
    assert [t.text for t in restored(FRENCH)] == [t.text for t in nlp(FRENCH)]


def test_only_huge_patterns_are_deferred_and_they_pickle_as_patterns() -> None:
    assert isinstance(_lazy_compile(r"\d+"), re.Pattern)
    huge = "|".join(f"mot{i}\\b" for i in range(LAZY_MIN_CHARS // 5))
    lazy = _lazy_compile(huge)
    assert isinstance(lazy, LazyPattern) and not lazy.compiled
    assert lazy.match("mot42").group() == "mot42"
    assert lazy.search("le mot7").group() == "mot7"
    assert isinstance(pickle.loads(pickle.dumps(lazy)), re.Pattern)
    assert re.compile is not _lazy_compile  # the swap lasts only while spaCy's module executes


def test_eds_pipeline_never_compiles_the_french_regex() -> None:
    code = (
        "from hopia.data.nlp.pipeline import get_nlp\n"
        "from hopia.platform.config import Settings\n"
        "nlp = get_nlp(cache_dir=Settings().cache_dir)\n"
        "doc = nlp('Motif : fièvre. Antécédents : HTA. Pas de toux.')\n"
        "from spacy.lang.fr import tokenizer_exceptions as fr\n"
        "assert len(doc) > 5\n"
        "print(fr.TOKEN_MATCH.__self__.compiled)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"

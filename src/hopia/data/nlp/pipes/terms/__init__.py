"""``hopia.terms``: broad clinical mention detection over a compiled, disk-cached lexicon."""

from hopia.data.nlp.pipes.terms.terms import TermsMatcher

__all__ = ["TermsMatcher"]

"""``hopia.cim10``: CIM-10 labels and explicit codes over a compiled, disk-cached lexicon."""

from hopia.data.nlp.pipes.cim10.cim10 import Cim10Matcher

__all__ = ["Cim10Matcher"]

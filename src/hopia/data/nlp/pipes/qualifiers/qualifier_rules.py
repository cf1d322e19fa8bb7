"""``hopia.qualifier_rules``: corrections to EDS-NLP's qualifiers that their cue lists cannot
express. It runs after ``eds.negation``, ``eds.hypothesis``, ``eds.family`` (with
``explain=True``, for its cues), ``eds.history`` (with ``use_sections=False``) and
``eds.reported_speech``, over the same mentions, in text order.

1. **Family is whose condition it is, not who tells it.** A family cue that reports or brings
   ("*Sa fille rapporte* une confusion", "amenée *par sa fille* pour chutes", "*selon son
   épouse*") does not make the mention the relative's: the confusion is the patient's (the
   mention stays reported speech when ``eds.reported_speech`` says so). "Sa mère a eu un cancer
   du sein" stays family.
2. **Lists continue a cue's scope.** EDS-NLP stops a scope at "," and "et", so in "pas de
   fièvre, de toux ni de dyspnée" or "aux antécédents d'IRC, d'HTA et de diabète" only the first
   item is qualified. A mention whose gap to the previous mention is a list connector followed
   by a bare "de"/"d'" (", de", "et de", "ou d'", ", ni de") takes the previous mention's
   negation, hypothesis, family and history. With an article ("pas de fièvre et de la toux",
   partitive "de la"/"du"/"des") or none ("absence de douleur, dyspnée d'effort") the next item
   is a new, affirmed finding: French drops the article only under the negation.
3. **Sections.** Everything in an *Antécédents familiaux* section is family
   (``family_sections``; ``eds.family``'s own section rule only reaches the first clause of the
   section). History comes from the history sections (``history_sections``: *Antécédents*,
   personal, medical or surgical) and from explicit cues ("aux antécédents de", found by
   ``eds.history``), not from *Histoire de la maladie*, which tells the current episode: "Pas
   de fièvre" there is no history, whereas ``eds.history`` with ``use_sections=True`` flags the
   whole section.
4. **A relative's condition is not the patient's history**: family and history are exclusive,
   family wins ("Antécédents familiaux : mère diabétique" is family only).
5. **Tests carry results, they are not denied.** A test or examination followed by a written
   result ("la sérologie VIH est négative", "ECG normal") is affirmed and gets ``span._.result``
   (:mod:`.results`); one that did not show something ("le scanner n'a pas montré
   d'épanchement") is affirmed, unless the negation bears on the test ("scanner non réalisé")
   (:mod:`.clauses`, rule 2).
6. **"non" inside a term** ("diabète non insulino-dépendant", "toux non productive") negates
   nothing, neither the mention it follows nor the others of its clause ("fracture non
   déplacée du col fémoral") (:mod:`.clauses`, rules 1 and 3).
7. **"compatible avec"** makes a hypothesis: EDS-NLP ends every scope at "avec", which cuts
   the cue from its mention ("tableau compatible avec une sarcoïdose").

Rules 5 to 7 run first: the list rule then carries corrected flags. A demonstrative before a
family word points at the patient ("streptotest négatif chez cet enfant"): no family (rule 1).
"""

import re
from collections.abc import Callable, Iterable
from typing import Any

from spacy.tokens import Doc, Span

from hopia.data.nlp.pipes.qualifiers.clauses import (
    modifier_non,
    negation_on_test,
    not_done,
    only_modifier_non,
)
from hopia.data.nlp.pipes.qualifiers.results import is_test, read_result
from hopia.platform.text import fold

#: Sections whose mentions are the patient's history (``hopia.sections`` labels).
HISTORY_SECTIONS: tuple[str, ...] = ("antécédents",)
#: Sections whose mentions are the family's.
FAMILY_SECTIONS: tuple[str, ...] = ("antécédents familiaux",)

QUALIFIERS: tuple[str, ...] = ("negation", "hypothesis", "family", "history")

# A list connector then a bare "de": the next item of a qualified enumeration (token text of
# the gap, lower case).
_LIST_GAP = re.compile(r"(?:,\s*(?:(?:et|ou|ni)\s+)?|(?:et|ou|ni)\s+)(?:de|d['’])")
_MAX_GAP_TOKENS = 4

# Family cues that name who brings or reports, not whose condition it is (folded text).
_BROUGHT_BY = re.compile(
    r"(?:\bpar|\bselon|\bd'apres|\bavec|\baccompagnee?s? de|\ben presence de)"
    r"\s+(?:(?:sa|son|ses|leurs?|la|le|les|l'|une?|des)\s*)?$"
)
_REPORTS = re.compile(
    r"(?:(?:du|de la|de l')\s*(?:patiente?|malade)\s*)?"  # "la fille du patient"
    r"(?:,[^,.\n]{0,30},\s*)?"  # "sa fille, présente à l'entretien,"
    r"(?:(?:nous|lui|me|m'|l'|s')\s*)?(?:(?:a|ont|avait|avaient)\s+)?"
    r"(?:rapport|signal|decri|dit\b|disent\b|expliqu|racont|indiqu|note|notent|constat|"
    r"trouv|retrouv|confirm|evoqu|mentionn|precis|relat|declar|affirm|inquiet|alert|appel|"
    r"appren|remarqu|observ|temoign|decouvr)"
)
_CONTEXT_TOKENS = 10
# "chez cet enfant", "cette fille de 16 ans": a demonstrative points at the patient
_DEMONSTRATIVE = re.compile(r"\b(?:cet|cette|ce)\s*$")
# "compatible avec une sarcoïdose": EDS-NLP's "avec" termination cuts the cue from the mention
_COMPATIBLE = re.compile(r"\bcompatibles? avec (?:(?:un|une|des|le|la|les|l')\s*)?$")


# Declared at import: a pipeline loaded from its pickle does not run __init__.
if not Span.has_extension("result"):
    Span.set_extension("result", default=None)


def _is_bystander(cue: Span) -> bool:
    """A family cue that brings or reports the patient ("amené par sa fille", "sa fille
    rapporte") rather than being the subject of the mention."""
    doc = cue.doc
    before = fold(doc[max(0, cue.start - _CONTEXT_TOKENS) : cue.start].text)
    if _BROUGHT_BY.search(before) or _DEMONSTRATIVE.search(before):
        return True
    after = fold(doc[cue.end : cue.end + _CONTEXT_TOKENS].text)
    return _REPORTS.match(after) is not None


def _tests_terms_compatible(span: Span, flags: dict[str, bool]) -> None:
    """Rules 5 to 7 (module docstring): a test's result or the finding it did not show, "non"
    inside a term, "compatible avec". Updates ``flags``; sets the result on the span."""
    if is_test(span):
        result = read_result(span)
        if result is not None:
            span._.result = result
            span._.attributes = {**(span._.attributes or {}), "result": result}
            flags["negation"] = False
        elif flags["negation"] and not negation_on_test(span):
            flags["negation"] = False
        elif not flags["negation"] and not_done(span):
            flags["negation"] = True  # "l'IRM ne peut pas être réalisée"
    elif flags["negation"] and (modifier_non(span) or only_modifier_non(span)):
        flags["negation"] = False
    if not flags["hypothesis"]:
        lead = fold(span.doc[max(0, span.start - 5) : span.start].text)
        flags["hypothesis"] = _COMPATIBLE.search(lead) is not None


class QualifierRules:
    """Post-pass over the qualified mentions (see the module docstring for the rules).

    Parameters
    ----------
    nlp : the pipeline (unused, for the factory protocol).
    name : component name.
    span_getter : the mentions to correct, as given to the EDS-NLP qualifiers; a callable
        returning them sorted by position (``pipeline.SortedGroupsGetter``).
    history_sections : labels of the sections whose mentions are history.
    family_sections : labels of the sections whose mentions are the family's.
    """

    def __init__(
        self,
        nlp: Any = None,
        name: str = "qualifier_rules",
        *,
        span_getter: Any = None,
        history_sections: Iterable[str] = HISTORY_SECTIONS,
        family_sections: Iterable[str] = FAMILY_SECTIONS,
    ):
        if not callable(span_getter):
            raise ValueError("qualifier_rules: span_getter doit être un appelable (doc -> spans)")
        self.name = name
        self.span_getter: Callable[[Doc], list[Span]] = span_getter
        self.history_sections = frozenset(history_sections)
        self.family_sections = frozenset(family_sections)
        for ext in (*QUALIFIERS, "family_cues"):  # after EDS-NLP's pipes declared theirs
            if not Span.has_extension(ext):
                Span.set_extension(ext, default=None)

    @staticmethod
    def _ranges(doc: Doc, labels: frozenset[str]) -> list[tuple[int, int]]:
        """Token ranges of the sections labelled with one of ``labels``."""
        if "sections" not in doc.spans:
            return []
        return [(s.start, s.end) for s in doc.spans["sections"] if s.label_ in labels]

    def __call__(self, doc: Doc) -> Doc:
        spans = self.span_getter(doc)
        if not spans:
            return doc
        history_ranges = self._ranges(doc, self.history_sections)
        family_ranges = self._ranges(doc, self.family_sections)
        # the mention ending last before the current one, and its final qualifiers
        previous_end, previous_flags = -1, (False,) * len(QUALIFIERS)
        for span in spans:
            ext = span._
            before = tuple(bool(getattr(ext, q)) for q in QUALIFIERS)
            flags = dict(zip(QUALIFIERS, before, strict=True))
            _tests_terms_compatible(span, flags)  # rules 5 to 7
            # 1. family: drop cues that bring or report the patient
            if flags["family"] and ext.family_cues:
                kept = [c for c in ext.family_cues if c.label_ != "family" or not _is_bystander(c)]
                flags["family"] = bool(kept)
                ext.family_cues = kept
            # 2. lists: the previous item's qualifiers carry over "..., de X"
            if (
                any(previous_flags)
                and 0 < span.start - previous_end <= _MAX_GAP_TOKENS
                and _LIST_GAP.fullmatch(doc[previous_end : span.start].text.lower())
            ):
                for q, carried in zip(QUALIFIERS, previous_flags, strict=True):
                    flags[q] = flags[q] or carried
            # 3. family and history from their sections
            if any(s <= span.start < e for s, e in family_ranges):
                flags["family"] = True
            if any(s <= span.start < e for s, e in history_ranges):
                flags["history"] = True
            # 4. a relative's condition is not the patient's history
            if flags["family"]:
                flags["history"] = False
            after = tuple(flags.values())
            if after != before:
                for q, value, old in zip(QUALIFIERS, after, before, strict=True):
                    if value != old:
                        setattr(ext, q, value)
            if span.end >= previous_end:
                previous_end, previous_flags = span.end, after
        return doc

"""``hopia.zones``: zones of a document that never state a clinical fact, and one concept per
mention.

Runs after the entity pipes, before the qualifiers. It

1. classifies the text (:func:`find_zones`): letterhead, signature, administrative lines,
   headings that only name a topic, reference ranges, services named in a sentence (see
   :mod:`.patterns`), and writes them to ``doc.spans["zones"]``;
2. removes from the disorder groups (``cim10``, ``terms``, ``clinical_ner``, COVID and the
   comorbidity pipes) every mention that touches such a zone: "Service de Néphrologie -
   Dialyse" on a letterhead is not a dialysis, "Allergies :" above "Pas d'allergie connue" is
   not an allergy;
3. gives each comorbidity mention the CIM-10 code of what it names when the Charlson item
   gathers several diseases ("HTA" is I10, not a peripheral vascular disease), in
   ``span._.attributes["cim10"]``; then reads the words BEFORE and after every coded mention
   (:mod:`.context`): "occlusion de l'" before "IVA ... stent" is an acute infarction (I21),
   "séquelles d'" before "infarctus" an old one (I25.2), a lumbar pain radiating to the
   genitals a renal colic (N23), "VIH" alone no condition; a bleeding or perforated peptic
   ulcer is one concept (K26.4), its bleeding words no second fact;
4. keeps one coded concept per mention (:func:`resolve_overlaps`): "diabète de type 2"
   found by ``hopia.cim10`` (E11) and ``eds.diabetes`` (E14) is one fact, E11; the other
   mention stays in ``note_nlp``, marked ``same_mention_as``. The coded disorder mentions of
   ``hopia.terms`` compete too: "hépatite C" (terms, B18.2) beats "hépatite" (cim10, B15.9)
   and is marked ``supersedes`` (the groups it beat): it becomes the fact (the mapping also
   writes a lexicon disease no coding pipe found: :func:`hopia.data.omop.mapping.terms_fact`).
   A precise code beats a vague one (a Charlson item's code, a sign) whatever their
   lengths, then the longer span wins;
5. marks ``not_a_condition`` the coded mentions named as what is vaccinated against or
   tested for ("vacciné contre l'hépatite B", "sérologie hépatite B", "recherche de BK").

A text with no zone and no overlap goes through unchanged. Everything is a few regular
expression passes over the text plus a sort of the coded spans: cheap per document.
"""

# No `from __future__ import annotations`: confit validates the factory from live hints.
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from spacy.tokens import Doc

from hopia.data.nlp.pipes.zones import context, patterns
from hopia.platform.text import fold


class Zone(NamedTuple):
    """A stretch of text ``[start, end)`` (character offsets) that states no clinical fact."""

    start: int
    end: int
    label: str


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line, the newline excluded."""
    out: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


def _short(line: str) -> bool:
    """A line that may be a header or signature line: short, and not a sentence that ends."""
    stripped = line.strip()
    return 0 < len(stripped) <= patterns.MAX_ZONE_LINE and not stripped.endswith((".", "!", "?"))


def _line_label(line: str, after_signatory: bool) -> str | None:
    """The zone of a whole line, or None for a line that may state facts."""
    if not line.strip():
        return None
    if patterns.ADMIN_FIELD.match(line) or patterns.ADMIN_LINE.match(line):
        return "administratif"
    if patterns.PLACE_DATE.match(line):
        return "administratif"
    short = _short(line)
    if not short:
        # a long line may still be an address or contact line ending with a full stop
        stripped = line.strip()
        if len(stripped) <= patterns.MAX_ZONE_LINE and (
            patterns.ADDRESS.search(stripped.rstrip("."))
            or patterns.CONTACT.search(stripped)
            and len(patterns.CONTACT.sub("", stripped).split()) <= 6
        ):
            return "administratif"
        return None
    if patterns.SIGNATORY.match(line):
        return "signature"
    if patterns.ROLE.search(line) or after_signatory:
        return "signature"
    if patterns.LETTERHEAD.match(line) or patterns.CONSULTATION_OF.match(line):
        return "entete"
    if patterns.ADDRESS.search(line) or patterns.CONTACT.search(line):
        return "administratif"
    return None


def _heading_zone(text: str, lines: list[tuple[int, int]], i: int) -> bool:
    """Line ``i`` is a heading alone on its line with nothing, or a negation, under it."""
    start, end = lines[i]
    if not patterns.HEADING_LINE.match(text[start:end]):
        return False
    for s, e in lines[i + 1 :]:
        body = text[s:e]
        if not body.strip():
            return True  # a blank line: nothing under the heading
        if patterns.HEADING_LINE.match(body):
            return True  # the next heading: nothing under this one
        return bool(patterns.NOTHING.match(body))
    return True


def find_zones(text: str) -> list[Zone]:
    """Zones of ``text`` that state no clinical fact, sorted by start (see :mod:`.patterns`).

    Whole lines (letterhead, signature, administrative, empty headings), then inline zones
    (reference ranges, services named in a sentence).
    """
    zones: list[Zone] = []
    lines = _lines(text)
    after_signatory = False
    for i, (start, end) in enumerate(lines):
        line = text[start:end]
        label = _line_label(line, after_signatory)
        if label is None and _heading_zone(text, lines, i):
            label = "titre"
        if label is not None:
            zones.append(Zone(start, end, label))
        # the line after a signatory's name is their role, whatever its wording
        after_signatory = label == "signature" and bool(patterns.SIGNATORY.match(line))
    covered = [(z.start, z.end) for z in zones]
    for regex, label in (
        (patterns.REFERENCE_RANGE, "normes"),
        (patterns.ORGANISATION, "organisation"),
    ):
        for m in regex.finditer(text):
            s, e = (m.start("name"), m.end("name")) if "name" in regex.groupindex else m.span()
            if not _inside(covered, s, e):
                zones.append(Zone(s, e, label))
    zones.sort()
    return zones


def _inside(intervals: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in intervals)


def heading_titles(doc: Doc) -> list[Zone]:
    """Section titles that only name a topic: alone on their line (the content, if any, is
    below and speaks for itself), or followed on their line by "aucune", "néant"..."""
    if "section_titles" not in doc.spans:
        return []
    text = doc.text
    out: list[Zone] = []
    for title in doc.spans["section_titles"]:
        line_end = text.find("\n", title.end_char)
        line_end = len(text) if line_end < 0 else line_end
        rest = text[title.end_char : line_end].lstrip(" \t:*")
        if not rest.strip() or patterns.NOTHING.match(rest):
            out.append(Zone(title.start_char, title.end_char, "titre"))
    return out


class _Intervals:
    """Sorted, possibly overlapping intervals; does a span touch one of them?"""

    def __init__(self, zones: Iterable[Zone]) -> None:
        self.items = sorted((z.start, z.end) for z in zones)
        self.starts = [s for s, _ in self.items]
        # the furthest end among the intervals up to each index: a touching interval may
        # start well before the span
        self.reach: list[int] = []
        best = -1
        for _, e in self.items:
            best = max(best, e)
            self.reach.append(best)

    def touches(self, start: int, end: int) -> bool:
        i = bisect_right(self.starts, end - 1) - 1  # last interval starting before `end`
        return i >= 0 and self.reach[i] > start


def comorbidity_code(group: str, text: str, after: str = "") -> str | None:
    """The CIM-10 code (no dot) of what a comorbidity mention names, when narrower than the
    pipe's Charlson item; None keeps the item's code; "" when it names no such condition.

    ``after``: the text that follows the mention on its line (:data:`.patterns.CONTEXT_CODES`).
    """
    folded = fold(text)
    if after:
        rest = fold(after)
        for pipe, regex, context, code in _CONTEXT_CODES:
            if pipe == group and regex.search(folded) and context.match(rest):
                return code
    for pipe, regex, code in _COMORBIDITY_CODES:
        if pipe == group and regex.search(folded):
            return code
    return None


_COMORBIDITY_CODES = [(p, re.compile(r), c) for p, r, c in patterns.COMORBIDITY_CODES]
_CONTEXT_CODES = [(p, re.compile(r), re.compile(x), c) for p, r, x, c in patterns.CONTEXT_CODES]
_AFTER_CHARS = 60  # how far the words after a mention are read


#: Tie-break between coded mentions of the same length, most specific first (lower wins):
#: an exact CIM-10 label or code; a comorbidity mention coded as what it names ("HTA": I10)
#: or a COVID mention; a concept of Hopia's term lexicon; a comorbidity mention left at its
#: Charlson item's code ("néoplasie": C80, where the lexicon may say C34.9).
PRIORITY_CIM10, PRIORITY_NAMED, PRIORITY_TERMS, PRIORITY_CHARLSON = 0, 1, 2, 3


class Coded(NamedTuple):
    """A coded mention competing for its words."""

    start: int
    end: int
    group: str
    index: int  # position in its group
    #: tie-break rank (``PRIORITY_*``); None: from the group (cim10, terms, else named)
    priority: int | None = None
    #: True for the readings that say least: a Charlson item's code, or a sign (chapter R)
    vague: bool = False


def _priority(m: Coded) -> int:
    if m.priority is not None:
        return m.priority
    return {"cim10": PRIORITY_CIM10, "terms": PRIORITY_TERMS}.get(m.group, PRIORITY_NAMED)


def resolve_overlaps(mentions: Sequence[Coded]) -> dict[tuple[str, int], Coded]:
    """Each mention that loses to another on the same words -> the mention it loses to.

    Most specific wins: a precise code (a disease, not a Charlson item nor a sign) over a
    ``vague`` one whatever their lengths ("hémorragie digestive", K92.2, and "ulcère
    duodénal", K26.9, over EDS-NLP's "digestive haute sur ulcère" at the Charlson item K27);
    then the longer span (it says more: "bronchopneumopathie chronique obstructive" over
    "bronchopneumopathie", "hépatite C" over "hépatite"); then on the same words the more
    specific source (:data:`PRIORITY_CIM10` ... :data:`PRIORITY_CHARLSON`); then the first
    found.
    """

    def rank(m: Coded) -> tuple[bool, int, int, int]:
        return (m.vague, -(m.end - m.start), _priority(m), m.start)

    losers: dict[tuple[str, int], Coded] = {}
    kept: list[Coded] = []
    for m in sorted(mentions, key=rank):
        winner = next((k for k in kept if m.start < k.end and k.start < m.end), None)
        if winner is not None:
            losers[(m.group, m.index)] = winner
        else:
            kept.append(m)
    return losers


class ZoneFilter:
    """Drops disorder mentions in zones that state no fact; one coded concept per mention.

    Parameters
    ----------
    nlp : the pipeline (unused, for the factory protocol).
    name : component name.
    groups : span groups filtered by zone (default :data:`.patterns.CONDITION_GROUPS`).
    coded_groups : span groups that become coded condition facts, among which overlaps are
        resolved (default :data:`.patterns.CODED_GROUPS`).
    """

    def __init__(
        self,
        nlp: Any = None,
        name: str = "zones",
        *,
        groups: Sequence[str] | None = None,
        coded_groups: Sequence[str] | None = None,
    ) -> None:
        self.name = name
        # None: the lists of this version of the module, read at run time (a cached pipeline
        # pickle keeps the instance's state, not the module's constants)
        self._groups = None if groups is None else tuple(groups)
        self._coded_groups = None if coded_groups is None else tuple(coded_groups)

    @property
    def groups(self) -> tuple[str, ...]:
        return self._groups if self._groups is not None else patterns.CONDITION_GROUPS

    @property
    def coded_groups(self) -> tuple[str, ...]:
        return self._coded_groups if self._coded_groups is not None else patterns.CODED_GROUPS

    def __call__(self, doc: Doc) -> Doc:
        zones = find_zones(doc.text) + heading_titles(doc)
        zones.sort()
        doc.spans["zones"] = [
            s
            for z in zones
            if (s := doc.char_span(z.start, z.end, z.label, alignment_mode="expand")) is not None
        ]
        if zones:
            inside = _Intervals(zones)
            for group in self.groups:
                if group in doc.spans:
                    spans = list(doc.spans[group])
                    kept = [s for s in spans if not inside.touches(s.start_char, s.end_char)]
                    if len(kept) != len(spans):
                        doc.spans[group] = kept
        self._code_comorbidities(doc)
        self._code_in_context(doc)
        self._ulcer_complications(doc)
        self._not_conditions(doc)
        self._one_concept_per_mention(doc)
        return doc

    def _not_conditions(self, doc: Doc) -> None:
        """Marks the coded mentions named as what is vaccinated against, or tested for
        without a positive result."""
        for group in self.coded_groups:
            for span in doc.spans.get(group, ()):
                words = doc[max(0, span.start - 6) : span.start].text_with_ws
                before = fold(words.rsplit("\n", 1)[-1])
                if not before:
                    continue
                not_condition = bool(patterns.VACCINATED_BEFORE.search(before))
                if not not_condition and patterns.TESTED_BEFORE.search(before):
                    # the positive result written after the target, or before the test
                    # ("positivité de la sérologie VIH")
                    after = fold(_after(doc, span))
                    not_condition = not (
                        patterns.POSITIVE.search(after) or patterns.POSITIVE_BEFORE.search(before)
                    )
                if not_condition:
                    span._.attributes = {**(span._.attributes or {}), "not_a_condition": True}

    def _code_comorbidities(self, doc: Doc) -> None:
        for group in self.coded_groups:
            if group in ("cim10", "covid", "terms") or group not in doc.spans:
                continue
            for span in doc.spans[group]:
                code = comorbidity_code(group, span.text, _after(doc, span))
                if code is not None:
                    # "" (no condition of that kind): marked, never written as a fact
                    extra = {"cim10": code} if code else {"not_a_condition": True}
                    span._.attributes = {**(span._.attributes or {}), **extra}

    def _coded_spans(self, doc: Doc) -> Iterable[tuple[str, Any, str]]:
        """(group, span, current code) of the coded condition mentions not yet ruled out."""
        for group in self.coded_groups:
            for span in doc.spans.get(group, ()):
                attributes = span._.attributes or {}
                if attributes.get("not_a_condition") or attributes.get("same_mention_as"):
                    continue
                if group == "terms" and span._.category != "DISO":
                    continue
                code = current_code(group, span)
                if code:
                    yield group, span, code

    def _code_in_context(self, doc: Doc) -> None:
        """Codes read from the words before and after a mention (:data:`.context.RULES`):
        "occlusion de l'" before "IVA ... stent" is an acute infarction, "séquelles d'"
        before "infarctus" an old one; "VIH" alone is no condition."""
        text = doc.text
        for _group, span, code in list(self._coded_spans(doc)):
            before, after = context.before_window(text, span.start_char), _after(doc, span)
            found = context.context_code(code, span.text, before, after)
            extra: dict[str, Any] = {}
            if found is not None:
                new, acute = found
                extra = {"cim10": new} if new else {"not_a_condition": True}
                if acute:
                    extra["acute"] = True
                code = new
            if context.DATED_CODES.match(code) and (when := context.written_when(before, after)):
                # an infarction in the history is an old one unless dated within the month
                # before the note (hopia.data.omop.mapping, which knows the note's date)
                extra["when"] = when
            if extra:
                span._.attributes = {**(span._.attributes or {}), **extra}

    def _ulcer_complications(self, doc: Doc) -> None:
        """A peptic ulcer that bled or perforated is one concept (K26.4 "ulcère duodénal
        hémorragique"): the ulcer mentions get the complication's code, the bleeding
        mentions of its words (R58, K92.x) are the same mention."""
        text = doc.text
        coded = list(self._coded_spans(doc))
        for group, span, code in coded:
            found = context.ulcer_complication(code, text, span.start_char, span.end_char)
            if found is None:
                continue
            new, bleeding = found
            span._.attributes = {**(span._.attributes or {}), "cim10": new}
            for _other_group, other, other_code in coded:
                if context.BLEEDING_CODES.match(other_code) and any(
                    other.start_char < e and s < other.end_char for s, e in bleeding
                ):
                    other._.attributes = {
                        **(other._.attributes or {}),
                        "same_mention_as": group,
                    }

    def _one_concept_per_mention(self, doc: Doc) -> None:
        """Marks the mentions that repeat another on the same words: they stay in their group
        (``note_nlp``, cohorts by pipe label) but are no second fact
        (``attributes["same_mention_as"]``, read by :func:`hopia.data.omop.mapping.target_table`).
        A ``terms`` mention that wins over a coding pipe's mention is marked
        ``attributes["supersedes"]`` (those pipes): the fact is written from it.
        """
        mentions = [
            _coded(g, i, s)
            for g in self.coded_groups
            if g in doc.spans
            for i, s in enumerate(doc.spans[g])
            if _competes(g, s)
        ]
        if len(mentions) < 2:
            return
        superseded: dict[int, set[str]] = {}
        for (group, index), winner in resolve_overlaps(mentions).items():
            span = doc.spans[group][index]
            span._.attributes = {**(span._.attributes or {}), "same_mention_as": winner.group}
            if winner.group == "terms" and group != "terms":
                superseded.setdefault(winner.index, set()).add(group)
        if superseded:
            terms = doc.spans["terms"]
            for index, groups in superseded.items():
                span = terms[index]
                span._.attributes = {**(span._.attributes or {}), "supersedes": sorted(groups)}


def _after(doc: Doc, span: Any) -> str:
    """The words after ``span`` on its line (a few tokens: no ``doc.text`` per mention)."""
    after = doc[span.end : min(len(doc), span.end + 12)].text[:_AFTER_CHARS]
    return after.split("\n", 1)[0]


def _competes(group: str, span: Any) -> bool:
    """A mention that may be a coded condition: a ``terms`` mention only when it is a coded
    disorder; never one marked as naming no condition ("hématome" read as a stroke)."""
    attributes = span._.attributes or {}
    if attributes.get("not_a_condition") or attributes.get("same_mention_as"):
        return False  # ruled out, or part of another mention's concept (a bleeding ulcer)
    if group == "terms":
        return span._.category == "DISO" and bool(attributes.get("cim10"))
    return True


def _coded(group: str, index: int, span: Any) -> Coded:
    """A mention as it competes: a comorbidity mention left at its Charlson item's code ranks
    after a lexicon concept and is vague, as is a sign (CIM-10 chapter R)."""
    attributes = span._.attributes or {}
    code = current_code(group, span)
    priority = None
    if group not in ("cim10", "terms", "covid") and not attributes.get("cim10"):
        priority = PRIORITY_CHARLSON
    vague = priority == PRIORITY_CHARLSON or code.startswith("R")
    return Coded(span.start_char, span.end_char, group, index, priority, vague)


def current_code(group: str, span: Any) -> str:
    """The CIM-10 code (no dot) a coded mention has now: the one ``hopia.zones`` gave it, else
    its pipe's ("" for an uncoded ``terms`` mention)."""
    narrower = (span._.attributes or {}).get("cim10")
    if narrower:
        return str(narrower)
    if group == "cim10":
        return str(span.kb_id_)
    if group == "covid":
        return "U071"
    if group == "terms":
        return ""
    return context.ITEM_CODES.get(group, "")

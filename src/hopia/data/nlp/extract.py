"""From processed spaCy docs to plain :class:`Entity` records, and their JSON form."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hopia.data.nlp.pipeline import COMORBIDITIES, ENTITY_GROUPS, SCORES, get_nlp
from hopia.platform.text import fold

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span

QUALIFIERS: tuple[str, ...] = ("negation", "hypothesis", "family", "history", "reported_speech")


@dataclass(frozen=True, slots=True)
class Entity:
    """One mention found in a text. Offsets are character offsets into that text."""

    start: int
    end: int
    label: str
    text: str
    negation: bool
    hypothesis: bool
    family: bool
    history: bool
    reported_speech: bool
    codes: dict[str, str]
    pipe: str
    lexical_variant: str
    section: str | None
    value: float | str | None
    unit: str | None


Attrs = tuple[dict[str, str], float | str | None, str | None]  # codes, value, unit


def _kb(system: str) -> Callable[[Span], Attrs]:
    def attrs(span: Span) -> Attrs:
        return ({system: span.kb_id_} if span.kb_id_ else {}), None, None

    return attrs


def _date(span: Span) -> Attrs:
    # AbsoluteDate.norm() -> "2024-03-12" ("????-03-12" when the year is missing); relative
    # dates and durations -> "-3 days", "during 3 days".
    value = span._.value
    return {}, (str(value) if value is not None else None), None


def _quantity(span: Span) -> Attrs:
    q = span._.value
    if q is None:
        return {}, None, None
    return {}, float(q.value), str(q.unit)


def _tnm(span: Span) -> Attrs:
    tnm = span._.value
    return ({"tnm": tnm.norm()} if tnm is not None else {}), None, None


def _adicap(span: Span) -> Attrs:
    code = span._.value
    return ({"adicap": code.code} if code is not None else {}), None, None


def _score(span: Span) -> Attrs:
    value = span._.value
    if value is None or isinstance(value, (int, float)):
        return {}, value, None
    return {}, str(value), None


def _comorbidity(span: Span) -> Attrs:
    # detailed_status is None for "present" in most pipes (their mapping is {1: None}).
    return {}, span._.detailed_status or "PRESENT", None


def _nothing(span: Span) -> Attrs:
    return {}, None, None


_ATTRS: dict[str, Callable[[Span], Attrs]] = {
    "cim10": _kb("cim10"),
    "drug": _kb("atc"),
    "dates": _date,
    "durations": _date,
    "quantities": _quantity,
    "tnm": _tnm,
    "adicap": _adicap,
    **{name: _score for _, name in SCORES},
    **{name: _comorbidity for name in COMORBIDITIES},
}


def doc_entities(doc: Doc, groups: Iterable[str] = ENTITY_GROUPS) -> list[Entity]:
    """Entities of one processed doc, sorted by position then pipe."""
    sections = list(doc.spans["sections"]) if "sections" in doc.spans else []
    section_starts = [s.start_char for s in sections]
    out: list[Entity] = []
    for group in groups:
        if group not in doc.spans:
            continue
        attrs = _ATTRS.get(group, _nothing)
        for span in doc.spans[group]:
            start, end = span.start_char, span.end_char
            section = None
            i = bisect_right(section_starts, start) - 1
            if i >= 0 and start < sections[i].end_char:
                section = sections[i].label_
            ext = span._
            codes, value, unit = attrs(span)
            out.append(
                Entity(
                    start=start,
                    end=end,
                    label=span.label_,
                    text=span.text,
                    negation=bool(ext.negation),
                    hypothesis=bool(ext.hypothesis),
                    family=bool(ext.family),
                    history=bool(ext.history),
                    reported_speech=bool(ext.reported_speech),
                    codes=codes,
                    pipe=group,
                    # Same folding as eds.normalizer (lower case, no accents), without
                    # walking the span's tokens: that walk cost 2 ms per document.
                    lexical_variant=fold(span.text),
                    section=section,
                    value=value,
                    unit=unit,
                )
            )
    if "tnm" in doc.spans and doc.spans["tnm"]:
        out = _drop_quantities_inside_tnm(out)
    text = doc.text  # spaCy rebuilds this string on every access
    out = [e for e in out if e.pipe != "cim10" or not _stray_code(e, text)]
    out.sort(key=lambda e: (e.start, -e.end, e.pipe))
    return out


def _drop_quantities_inside_tnm(entities: list[Entity]) -> list[Entity]:
    # eds.quantities reads "M0" in "pT2N0M0" as a size of 0 m: noise for the warehouse.
    tnm = [(e.start, e.end) for e in entities if e.pipe == "tnm"]
    return [
        e
        for e in entities
        if e.pipe != "quantities" or not any(s <= e.start and e.end <= t for s, t in tnm)
    ]


_CODE_LIKE = re.compile(r"[^\W\d_]\s*\d{2}(?:[.,]?\d{1,2})?", re.IGNORECASE)
_CODE_CONTEXT = re.compile(r"(?:\bcim\s*-?\s*10|\bcode|\bicd|\bdiagnostic|\bDP|\bDAS|\()\W*$", re.I)
_STRICT_CODE = re.compile(r"[A-Z]\d{2}(?:\.?\d{1,2})?")


def _stray_code(e: Entity, text: str) -> bool:
    """A code-shaped CIM-10 match outside a coding context ("à 06h37" read as A06).

    eds.cim10 matches codes as well as labels; without "CIM-10", "code", "DP"… or an opening
    parenthesis just before, a letter followed by digits is almost always a time, a score or a
    quantity. Explicit codes such as "(U07.1)" or "CIM-10 : I10" are kept.
    """
    if not _CODE_LIKE.fullmatch(e.text):
        return False
    if not _STRICT_CODE.fullmatch(e.text):
        return True
    return not _CODE_CONTEXT.search(text[max(0, e.start - 25) : e.start])


def extract(texts: Iterable[str], batch_size: int | None = None) -> Iterator[list[Entity]]:
    """Run the pipeline over ``texts``, yielding one entity list per text, in order.

    Streams: texts are consumed lazily in batches of ``batch_size`` (default
    ``settings.nlp.batch_size``), so the input may be a generator over a large file.
    """
    if batch_size is None:
        from hopia.platform.config import get_settings

        batch_size = get_settings().nlp.batch_size
    nlp = get_nlp()
    # edsnlp's lazy stream on the "simple" backend: in this process, in order; the
    # multiprocessing backend needs torch, which the platform does not ship.
    stream = nlp.pipe(texts, batch_size=batch_size).set_processing(backend="simple")
    for doc in stream:
        yield doc_entities(doc)


def entity_to_json(e: Entity) -> dict[str, Any]:
    """The ``nlp extract`` contract fields first, then the extra ones."""
    return {
        "start": e.start,
        "end": e.end,
        "label": e.label,
        "text": e.text,
        "negation": e.negation,
        "hypothesis": e.hypothesis,
        "family": e.family,
        "history": e.history,
        "reported_speech": e.reported_speech,
        "codes": dict(e.codes),
        "pipe": e.pipe,
        "lexical_variant": e.lexical_variant,
        "section": e.section,
        "value": e.value,
        "unit": e.unit,
    }

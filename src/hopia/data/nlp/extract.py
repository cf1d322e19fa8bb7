"""From processed spaCy docs to plain :class:`Entity` records, and their JSON form."""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import hopia.data.nlp.pipes  # noqa: F401  (declares span._.category / span._.attributes)
from hopia.data.nlp.isolation import PipeError, make_docs, run_pipes
from hopia.data.nlp.pipeline import COMORBIDITIES, ENTITY_GROUPS, SCORES
from hopia.platform.text import fold

if TYPE_CHECKING:
    import edsnlp
    from spacy.tokens import Doc, Span

log = logging.getLogger(__name__)

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
    #: semantic group: DISO, CHEM, PROC, ANAT, LAB… (see :mod:`hopia.data.nlp.pipes`)
    category: str | None = None
    #: extra structured facts set by Hopia's pipes (LOINC code, range flag, posology…)
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Extraction:
    """What the pipeline made of one text: its entities, and the pipes that failed on it."""

    entities: list[Entity]
    errors: tuple[PipeError, ...] = ()


#: Semantic group of the EDS-NLP pipes' mentions, when the span does not set ``_.category``.
GROUP_CATEGORY: dict[str, str] = {
    "cim10": "DISO",
    "covid": "DISO",
    "drug": "CHEM",
    **{name: "DISO" for name in COMORBIDITIES},
}


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


def _lab(span: Span) -> Attrs:
    # hopia.labs: value in the analyte's canonical unit, LOINC code
    a = span._.attributes or {}
    return ({"loinc": a["loinc"]} if a.get("loinc") else {}), a.get("value"), a.get("unit")


def _drug(span: Span) -> Attrs:
    # eds.drugs + hopia.posology: ATC code, dose and its unit when written
    a = span._.attributes or {}
    codes = {"atc": span.kb_id_} if span.kb_id_ else {}
    return codes, a.get("dose"), a.get("dose_unit")


_ATTRS: dict[str, Callable[[Span], Attrs]] = {
    "cim10": _kb("cim10"),
    "drug": _drug,
    "labs": _lab,
    "dates": _date,
    "durations": _date,
    "quantities": _quantity,
    "tnm": _tnm,
    "adicap": _adicap,
    **{name: _score for _, name in SCORES},
    **{name: _comorbidity for name in COMORBIDITIES},
}


def _flag(ext: Any, name: str) -> bool:
    # A pipeline without some qualifier (tools, tests) never registered its extension.
    return ext.has(name) and bool(getattr(ext, name))


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
                    negation=_flag(ext, "negation"),
                    hypothesis=_flag(ext, "hypothesis"),
                    family=_flag(ext, "family"),
                    history=_flag(ext, "history"),
                    reported_speech=_flag(ext, "reported_speech"),
                    codes=codes,
                    pipe=group,
                    # Same folding as eds.normalizer (lower case, no accents), without
                    # walking the span's tokens: that walk cost 2 ms per document.
                    lexical_variant=fold(span.text),
                    section=section,
                    value=value,
                    unit=unit,
                    category=ext.category or GROUP_CATEGORY.get(group),
                    attributes=dict(ext.attributes or {}),
                )
            )
    if "tnm" in doc.spans and doc.spans["tnm"]:
        out = _drop_quantities_inside_tnm(out)
    # Code-shaped strings outside a coding context ("TA à 150/90") are rejected by hopia.cim10.
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


def extract(
    texts: Iterable[str],
    *,
    nlp: edsnlp.Pipeline,
    batch_size: int,
    clinical_ner_spans: Iterable[Sequence[tuple[int, int, str]] | None] | None = None,
) -> Iterator[list[Entity]]:
    """Run ``nlp`` over ``texts``, yielding one entity list per text, in order.

    Streams: texts are consumed lazily in batches of ``batch_size``
    (``settings.data.nlp.batch_size``, passed by the caller), so the input may be a generator
    over a large file. ``nlp`` is the pipeline of :func:`~hopia.data.nlp.pipeline.get_nlp`
    (or any pipeline with the same span groups).

    ``clinical_ner_spans``, parallel to ``texts``: the statistical NER's ``(start, end,
    label)`` for each text when already computed elsewhere (the ingest's worker process); the
    ``clinical_ner`` pipe then takes them instead of running its model. None: the pipe runs.

    A pipe that fails on a text costs that text that pipe's output only (see
    :func:`extract_with_errors`, which also says which pipe failed); here the failure is
    logged (pipe and error class, never the text).
    """
    for found in extract_with_errors(
        texts, nlp=nlp, batch_size=batch_size, clinical_ner_spans=clinical_ner_spans
    ):
        for error in found.errors:
            log.warning("pipe %s en échec sur un texte : %s", error.pipe, error.error)
        yield found.entities


def extract_with_errors(
    texts: Iterable[str],
    *,
    nlp: edsnlp.Pipeline,
    batch_size: int,
    clinical_ner_spans: Iterable[Sequence[tuple[int, int, str]] | None] | None = None,
) -> Iterator[Extraction]:
    """As :func:`extract`, one :class:`Extraction` (entities and pipe failures) per text.

    Each pipe runs in isolation (:func:`~hopia.data.nlp.isolation.run_pipes`): a pipe that
    raises on a text leaves that text as it was before the pipe, the later pipes run on it, and
    the failure is reported with the text's entities; the other texts of the batch are not
    affected.
    """
    spans = iter(clinical_ner_spans) if clinical_ner_spans is not None else None
    batch: list[str] = []
    for text in texts:
        batch.append(text)
        if len(batch) >= batch_size:
            yield from _extract_batch(nlp, batch, spans)
            batch = []
    if batch:
        yield from _extract_batch(nlp, batch, spans)
    if spans is not None and next(spans, _END) is not _END:
        raise ValueError("clinical_ner_spans is longer than texts")


_END = object()


def _extract_batch(
    nlp: Any, texts: list[str], spans: Iterator[Sequence[tuple[int, int, str]] | None] | None
) -> Iterator[Extraction]:
    docs, errors = make_docs(nlp, texts)
    if spans is not None:
        for doc in docs:
            found = next(spans, _END)
            if found is _END:
                raise ValueError("clinical_ner_spans is shorter than texts")
            doc._.clinical_ner_spans = None if found is None else list(found)  # type: ignore[arg-type]
    docs = run_pipes(nlp, docs, errors)
    for text, doc, errs in zip(texts, docs, errors, strict=True):
        try:
            entities = doc_entities(doc)
        except Exception as exc:  # noqa: BLE001 - one text's entities, not the batch
            entities, errs = [], [*errs, PipeError.of("entities", exc)]
        if doc.text != text and len(doc.text) == len(text):
            # EDS-NLP's tokenizer writes unusual spaces (no-break, thin, U+2028…) as plain
            # ones, same length: offsets hold, but an entity's text is the input's
            entities = [
                e if text[e.start : e.end] == e.text else replace(e, text=text[e.start : e.end])
                for e in entities
            ]
        yield Extraction(entities, tuple(errs))


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
        "category": e.category,
        "attributes": dict(e.attributes),
    }

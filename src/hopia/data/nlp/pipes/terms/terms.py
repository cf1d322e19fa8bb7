"""``hopia.terms``: broad clinical mentions (disorders, signs, procedures, drugs, anatomy).

One compiled lexicon over three openly licensed offline sources (``SOURCES.md``): Hopia's own
lexicon of signs, symptoms, common diagnoses, procedures and anatomy; the drug names edsnlp ships
with their ATC codes; CIM-10 labels. Matching is the normalised word walk of
:mod:`hopia.data.nlp.pipes._lexicon`. Each span has ``label_`` and ``_.category`` set to its
semantic group (DISO, PROC, ANAT, CHEM) and ``_.attributes`` to ``{"code", "vocabulary"}``
plus ``"cim10"`` when the entry has a CIM-10 code (a Hopia concept that maps to one, or a
CIM-10 label). ``hopia.zones`` lets those coded disorder mentions compete with the coding pipes'
mentions on the same words: "hépatite C" here (B18.2) wins over the "hépatite" of
``hopia.cim10`` (B15.9).

A span with exactly the offsets of a ``cim10`` or ``drug`` span (same mention, found by the
dedicated pipe, which also carries the code) is not repeated here.
"""

# No `from __future__ import annotations`: confit validates the factory from live hints.
from pathlib import Path
from typing import Any

from spacy.tokens import Doc, Span

from hopia.data.nlp.pipes import _lexicon
from hopia.data.nlp.pipes._lexicon import Lexicon, LexiconComponent, doc_keys
from hopia.data.nlp.pipes.cim10 import patterns as cim10_patterns
from hopia.data.nlp.pipes.cim10.cim10 import sense_window
from hopia.data.nlp.pipes.terms import patterns

#: Groups whose spans are not repeated by this pipe (same offsets).
DEDICATED_GROUPS: tuple[str, ...] = ("cim10", "drug")


class TermsMatcher(LexiconComponent):
    """Clinical mentions from Hopia's lexicon, ATC drug names and CIM-10 labels.

    Parameters
    ----------
    nlp : the pipeline (unused, for the factory protocol).
    name : component name.
    span_setter : where spans go (``{"terms": True}``).
    cache_dir : folder of the compiled-lexicon cache; default: the folder the pipeline is
        loaded with (:func:`~hopia.data.nlp.pipeline.use_cache_dir`), else compiled in memory.
    """

    lexicon_name = "terms"

    def __init__(
        self,
        nlp: Any = None,
        name: str = "terms",
        *,
        span_setter: Any = {"terms": True},  # noqa: B006  (edsnlp's factory convention)
        cache_dir: str | None = None,
    ) -> None:
        super().__init__(nlp, name, span_setter=span_setter, cache_dir=cache_dir)

    def lexicon_files(self) -> list[Path]:
        return [*patterns.source_files(), Path(patterns.__file__), Path(_lexicon.__file__)]

    def build_lexicon(self) -> Lexicon:
        return Lexicon.compile(patterns.all_terms())

    def __call__(self, doc: Doc) -> Doc:
        lexicon = self.lexicon
        taken = {
            (s.start, s.end)
            for group in DEDICATED_GROUPS
            if group in doc.spans
            for s in doc.spans[group]
        }
        spans: list[Span] = []
        for start, end, entry_id in lexicon.find(doc_keys(doc)):
            if (start, end) in taken:
                continue
            code, category, vocabulary, cim10, upper_only = lexicon.entries[entry_id]
            span = Span(doc, start, end, label=category, kb_id=code or "")
            if upper_only and not span.text.isupper():
                continue
            if cim10 in cim10_patterns.SENSE_CONTEXT and not cim10_patterns.in_sense(
                cim10, sense_window(doc, start, end)
            ):
                continue  # a CIM-10 label in another sense, as in hopia.cim10
            span._.category = category
            attributes = {"code": code, "vocabulary": vocabulary}
            if cim10:  # one place for the code of a coded disorder, whatever its source
                attributes["cim10"] = cim10
            if upper_only and span.text in patterns.AMBIGUOUS_ACRONYMS:
                attributes["ambiguous"] = True
            span._.attributes = attributes
            spans.append(span)
        self.set_spans(doc, spans)
        return doc

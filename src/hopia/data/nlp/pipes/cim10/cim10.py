"""``hopia.cim10``: CIM-10 labels and explicit codes, a drop-in for ``eds.cim10``.

Same output as ``eds.cim10`` (label ``cim10``, ``kb_id_`` the code without a dot, e.g. ``I500``)
with three differences:

- labels match on normalised words (accents, case, plurals, hyphens, articles: see
  :mod:`hopia.data.nlp.pipes._lexicon`), and residual qualifiers such as ", sans précision" are
  dropped from the labels, so "insuffisances cardiaques congestives" finds I500;
- codes are found only in a coding context: "(U07.1)", "CIM-10 : I10", "DP I50.0, E11.9";
  "TA à 150/90", "1m75" or "MMSE à 22/30" give nothing;
- the compiled table is cached on disk and loaded lazily: no 60 s / 400 MB build.
"""

# No `from __future__ import annotations`: confit validates the factory from live hints.
import re
from pathlib import Path
from typing import Any

from spacy.tokens import Doc, Span

from hopia.data.nlp.pipes import _lexicon
from hopia.data.nlp.pipes._lexicon import Lexicon, LexiconComponent, doc_hashes_keys
from hopia.data.nlp.pipes.cim10 import patterns

# A code as written in notes: letter, two digits, optional dot and one or two digits.
_CODE = re.compile(r"(?<![\w.])([A-Z])(\d{2})(?:\.?(\d{1,2}))?(?![\w]|[.,]\d)")
# What makes a code-shaped string a code: "CIM-10", "code", "ICD", "diagnostic (principal)",
# "DP", "DAS", "DR" or an opening parenthesis just before it.
_CODE_CONTEXT = re.compile(
    r"(?:\bcim\s*-?\s*10|\bcodes?|\bicd(?:\s*-?\s*10)?|\bDP|\bDAS|\bDR|\("
    r"|\bdiagnostics?(?:\s+(?:principal|associ[ée]s?|reli[ée]))?)\W*$",
    re.IGNORECASE,
)
# A code right after an accepted one in a list: "CIM-10 : I10, E11.9 et N18.3".
_LIST_SEPARATOR = re.compile(r"\s*(?:[,;/+]|\bet\b|\bou\b)\s*")
_CONTEXT_CHARS = 25
_CONTEXT_TOKENS = 12  # enough tokens to hold the 25 characters before a code


def sense_window(doc: Doc, start: int, end: int) -> str:
    """The tokens around ``doc[start:end]`` that say in which sense a label is meant."""
    w = patterns.SENSE_WINDOW
    return doc[max(0, start - w) : min(len(doc), end + w)].text


class Cim10Matcher(LexiconComponent):
    """Finds CIM-10 labels (normalised match) and CIM-10 codes written in a coding context.

    Parameters
    ----------
    nlp : the pipeline (unused, for the factory protocol).
    name : component name.
    label : span label (``cim10``, as ``eds.cim10``).
    span_setter : where spans go (``{"cim10": True}``).
    cache_dir : folder of the compiled-lexicon cache; default: the folder the pipeline is
        loaded with (:func:`~hopia.data.nlp.pipeline.use_cache_dir`), else compiled in memory.
    """

    lexicon_name = "cim10"

    def __init__(
        self,
        nlp: Any = None,
        name: str = "cim10",
        *,
        label: str = "cim10",
        span_setter: Any = {"cim10": True},  # noqa: B006  (edsnlp's factory convention)
        cache_dir: str | None = None,
    ) -> None:
        super().__init__(nlp, name, span_setter=span_setter, cache_dir=cache_dir)
        self.label = label

    def lexicon_files(self) -> list[Path]:
        return [patterns.CIM10_FILE, Path(patterns.__file__), Path(_lexicon.__file__)]

    def build_lexicon(self) -> Lexicon:
        rows = patterns.read_rows()
        codes = {row["code"].strip() for row in rows}
        return Lexicon.compile(
            ((term, (code,)) for term, code in patterns.terms(rows)),
            extra={"codes": codes},
        )

    def code_spans(self, doc: Doc, hashes: list[int]) -> list[Span]:
        """Explicit codes in a coding context.

        Only tokens that may start a code are looked at, in a window of the text around them:
        building ``doc.text`` for every note would cost more than the whole search.
        """
        codes: set[str] = self.lexicon.extra["codes"]
        candidates = _lexicon.CODE_START_HASHES
        spans: list[Span] = []
        last_end = -1
        n = len(doc)
        for i in [i for i, h in enumerate(hashes) if h in candidates]:
            token = doc[i]
            text = token.text
            if not text[0].isupper() or (spans and i < spans[-1].end):
                continue
            if (
                len(text) == 1
                and (  # "I" "10": the tokenizer splits some codes
                    i + 1 >= n or token.whitespace_ or not doc[i + 1].text[:2].isdigit()
                )
            ):
                continue
            first = max(0, i - _CONTEXT_TOKENS)
            window = doc[first : min(n, i + 4)].text
            base = doc[first].idx
            start = token.idx - base
            m = _CODE.match(window, start)
            if m is None:
                continue
            chained = last_end >= base and _LIST_SEPARATOR.fullmatch(window, last_end - base, start)
            if not chained and not _CODE_CONTEXT.search(
                window, max(0, start - _CONTEXT_CHARS), start
            ):
                continue
            code = m.group(1) + m.group(2) + (m.group(3) or "")
            if code not in codes:
                continue
            span = doc.char_span(
                base + start,
                base + m.end(),
                label=self.label,
                kb_id=code,
                alignment_mode="expand",
            )
            if span is not None:
                self._describe(span, code, "code")
                spans.append(span)
                last_end = base + m.end()
        return spans

    def label_spans(self, doc: Doc, keys: list[str]) -> list[Span]:
        """CIM-10 labels and their variants."""
        lexicon = self.lexicon
        spans: list[Span] = []
        for start, end, entry in lexicon.find(keys):
            code = lexicon.entries[entry][0]
            if code in patterns.SENSE_CONTEXT and not patterns.in_sense(
                code, sense_window(doc, start, end)
            ):
                continue  # "isolement social" is no prophylactic isolation
            span = Span(doc, start, end, label=self.label, kb_id=code)
            self._describe(span, code, "label")
            spans.append(span)
        return spans

    @staticmethod
    def _describe(span: Span, code: str, how: str) -> None:
        span._.category = "DISO"
        span._.attributes = {"vocabulary": "CIM10", "code": code, "match": how}

    def __call__(self, doc: Doc) -> Doc:
        hashes, keys = doc_hashes_keys(doc)
        spans = self.code_spans(doc, hashes) + self.label_spans(doc, keys)
        spans.sort(key=lambda s: (s.start, s.end))
        self.set_spans(doc, spans)
        return doc

"""``hopia.clinical_ner``: statistical detection of disorders, drugs, procedures and anatomy.

The rule pipes find what their lists name; this small NER, trained on the QUAERO French Medical
Corpus (MEDLINE titles and EMEA drug leaflets, see ``SOURCES.md``), finds mentions that no list
holds ("douleurs intenses", "métastases hépatiques", "cholécystectomie"). Each mention is a span
of the group ``clinical_ner`` with ``span._.category`` set to its semantic group (DISO, CHEM,
PROC, ANAT); the qualifiers that run after it qualify it like any other entity.

Examples
--------
>>> import edsnlp, edsnlp.pipes as eds                                      # doctest: +SKIP
>>> nlp = edsnlp.blank("eds")                                               # doctest: +SKIP
>>> nlp.add_pipe(eds.sentences())                                           # doctest: +SKIP
>>> nlp.add_pipe("hopia.clinical_ner")                                      # doctest: +SKIP
>>> doc = nlp("Patiente suivie pour un cancer du sein.")                    # doctest: +SKIP
>>> [(s.text, s._.category) for s in doc.spans["clinical_ner"]]             # doctest: +SKIP
[('cancer du sein', 'DISO')]

Performance
-----------
See ``docs/benchmarks.md`` (QUAERO dev and test, overlap and exact match; docs/s on synthetic
notes). The model (HashEmbedCNN, no vectors) is a few MB and runs on one CPU thread; documents
are predicted in batches through ``batch_process``.

Parameters
----------
nlp : the EDS-NLP pipeline (unused; its tokens are read from each doc).
name : component name.
weights : folder of the spaCy model; default the shipped ``model_weights/``.
labels : the groups to keep among the model's labels.
span_setter : where spans go; default the group ``clinical_ner``.
batch_size : documents per spaCy ``pipe`` batch.

Pickling: the loaded spaCy model is dropped from the state and reloaded lazily from
``weights`` on first use, so the pipeline pickle stays small and never embeds the weights.
"""

# No `from __future__ import annotations`: confit validates the factory from live hints.
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from edsnlp.pipes.base import BaseNERComponent, SpanSetterArg
from spacy.tokens import Doc

from hopia.data.nlp.pipes.clinical_ner.model import (
    LABELS,
    WEIGHTS_DIR,
    load_model,
    model_doc,
    tokens_of,
)

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Span

GROUP = "clinical_ner"

# Spans computed elsewhere for this doc (the ingest's worker), or None: run the model.
if not Doc.has_extension("clinical_ner_spans"):
    Doc.set_extension("clinical_ner_spans", default=None)


class ClinicalNer(BaseNERComponent):
    """Mentions predicted by the statistical clinical NER (see the module docstring)."""

    def __init__(
        self,
        nlp: Any = None,
        name: str = "clinical_ner",
        *,
        weights: str | None = None,
        labels: Sequence[str] = LABELS,
        span_setter: SpanSetterArg = {GROUP: True},  # noqa: B006 (edsnlp's convention)
        batch_size: int = 32,
    ) -> None:
        super().__init__(nlp, name, span_setter=span_setter)
        self.weights = weights
        self.labels = tuple(labels)
        self.batch_size = batch_size
        self._model: Optional["Language"] = None  # noqa: UP037, UP045 (live hints)

    @property
    def model(self) -> "Language":  # noqa: UP037
        if self._model is None:
            self._model = load_model(Path(self.weights) if self.weights else WEIGHTS_DIR)
        return self._model

    def use_weights(self, weights: str | None) -> None:
        """Read the model from ``weights`` (None: the shipped weights) from now on: a runtime
        setting (``data.nlp.clinical_ner_model``), like the cache folder of the lexicon pipes."""
        if weights != self.weights:
            self.weights = weights
            self._model = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_model"] = None  # reloaded from ``weights`` on first use
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._model = None

    def __call__(self, doc: "Doc") -> "Doc":  # noqa: UP037
        return self.batch_process([doc])[0]

    def batch_process(self, docs: Sequence["Doc"]) -> list["Doc"]:  # noqa: UP037
        """Predict every doc of the batch with one spaCy ``pipe`` call.

        A doc whose ``doc._.clinical_ner_spans`` is set (the ingest computed them in its worker
        process, see :func:`predict_char_spans`) takes those spans instead of the model's.
        """
        docs = list(docs)
        todo = [doc for doc in docs if doc._.clinical_ner_spans is None]
        predicted = iter(predict_token_spans(self.model, todo, self.labels, self.batch_size))
        for doc in docs:
            if doc._.clinical_ner_spans is None:
                found = next(predicted)
            else:
                found = _char_to_token_spans(doc, doc._.clinical_ner_spans)
            spans: list[Span] = []  # noqa: F821 (annotation only)
            for start, end, label in found:
                span = doc[start:end]
                span.label_ = label
                span._.category = label
                spans.append(span)
            self.set_spans(doc, spans)
        return docs


def predict_token_spans(
    model: "Language",  # noqa: UP037
    docs: Sequence["Doc"],  # noqa: UP037
    labels: Sequence[str] = LABELS,
    batch_size: int = 32,
) -> list[list[tuple[int, int, str]]]:
    """``(start_token, end_token, label)`` predicted in each EDS-NLP-tokenised doc.

    Docs of another vocabulary (the pipeline's) are rebuilt in the model's from their tokens;
    docs already in it (see :func:`predict_char_spans`) are predicted as they are."""
    if not docs:
        return []
    ner = model.get_pipe("ner")
    copies = [
        doc if doc.vocab is model.vocab else model_doc(model, *tokens_of(doc)) for doc in docs
    ]
    wanted = set(labels)
    out = []
    for doc, predicted in zip(docs, ner.pipe(copies, batch_size=batch_size), strict=True):
        spans = []
        for ent in predicted.ents:
            if ent.label_ not in wanted:
                continue
            # same tokens on both sides: token indices carry over unchanged
            start, end = _within_line(doc, ent.start, ent.end)
            if start < end:
                spans.append((start, end, ent.label_))
        out.append(spans)
    return out


def predict_char_spans(
    texts: Sequence[str],
    weights: str | None = None,
    labels: Sequence[str] = LABELS,
    batch_size: int = 32,
) -> list[list[tuple[int, int, str]]]:
    """``(start_char, end_char, label)`` in each text: what the pipe finds, without the pipe.

    For the ingest's worker process, which runs it on the original texts while the main
    process runs the rule pipes; the same EDS-NLP tokenizer, model and line trimming, hence the
    same spans as the pipe on the same text.
    """
    model = load_model(Path(weights) if weights else WEIGHTS_DIR)
    tokenizer = _eds_tokenizer(model)
    docs = [tokenizer(text) for text in texts]  # in the model's vocabulary: no copy
    predicted = predict_token_spans(model, docs, labels, batch_size)
    return [
        [(doc[s:e].start_char, doc[s:e].end_char, label) for s, e, label in spans]
        for doc, spans in zip(docs, predicted, strict=True)
    ]


_tokenizers: dict[int, Any] = {}


def _eds_tokenizer(model: "Language") -> Any:  # noqa: UP037
    """EDS-NLP's tokenizer (the pipeline's: same tokens) writing into the model's vocabulary."""
    tokenizer = _tokenizers.get(id(model))
    if tokenizer is None:
        from edsnlp.language import EDSTokenizer

        tokenizer = _tokenizers[id(model)] = EDSTokenizer(model.vocab)
    return tokenizer


def _char_to_token_spans(
    doc: "Doc",  # noqa: UP037
    spans: Sequence[tuple[int, int, str]],
) -> list[tuple[int, int, str]]:
    """Character spans as token spans of ``doc`` (contracted to whole tokens; empty ones dropped).

    The ingest maps the worker's spans from the original text to the pseudonymised one, whose
    tokens are the same away from the replaced identifiers."""
    out = []
    for start, end, label in spans:
        span = doc.char_span(start, end, alignment_mode="contract")
        if span is not None and len(span):
            out.append((span.start, span.end, label))
    return out


def _within_line(doc: "Doc", start: int, end: int) -> tuple[int, int]:  # noqa: UP037
    """Token bounds without blank tokens at the edges, cut at the first line break inside.

    The model learnt from single lines; a span across a line break is two mentions at best.
    """
    while start < end and doc[start].is_space:
        start += 1
    for i in range(start, end):
        if "\n" in doc[i].text:
            end = i
            break
    while end > start and doc[end - 1].is_space:
        end -= 1
    return start, end

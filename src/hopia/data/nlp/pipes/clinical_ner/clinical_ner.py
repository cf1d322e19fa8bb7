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

from hopia.data.nlp.pipes.clinical_ner.model import (
    LABELS,
    WEIGHTS_DIR,
    load_model,
    model_doc,
    tokens_of,
)

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span

GROUP = "clinical_ner"


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
        """Predict every doc of the batch with one spaCy ``pipe`` call."""
        model = self.model
        ner = model.get_pipe("ner")
        docs = list(docs)
        copies = [model_doc(model, *tokens_of(doc)) for doc in docs]
        wanted = set(self.labels)
        for doc, predicted in zip(docs, ner.pipe(copies, batch_size=self.batch_size), strict=True):
            spans: list[Span] = []  # noqa: F821 (annotation only)
            for ent in predicted.ents:
                if ent.label_ not in wanted:
                    continue
                # same tokens on both sides: token indices carry over unchanged
                start, end = _within_line(doc, ent.start, ent.end)
                if start >= end:
                    continue
                span = doc[start:end]
                span.label_ = ent.label_
                span._.category = ent.label_
                spans.append(span)
            self.set_spans(doc, spans)
        return docs


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

"""The two systems compared by ``hopia nlp eval``: Hopia's pipeline and raw EDS-NLP.

- **Hopia**: the platform pipeline as it stands (:func:`hopia.data.nlp.extract`, every pipe of
  :data:`~hopia.data.nlp.pipeline.PIPELINE`); each entity counts under its ``category``
  (entities without one — dates, quantities, scores — are not scored).
- **EDS-NLP**: the same base EDS-NLP pipes and nothing of Hopia's (:data:`EDS_BASELINE`):
  sentences, normalizer, sections, dates, quantities, drugs, cim10, covid, the comorbidities and
  the qualifiers, with EDS-NLP's own output (no Hopia post-processing). Its mentions count under
  :data:`~hopia.data.nlp.extract.GROUP_CATEGORY`. Built once, then pickled in
  ``<cache_dir>/eds-baseline/nlp/`` (a folder of its own: the platform pipeline's cache keeps
  one file and prunes the others).

Texts longer than :data:`MAX_CHARS` are cut (at a paragraph, line or sentence break) and
predicted piece by piece, offsets shifted back; shorter ones are processed whole.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hopia.data.nlp.evaluate.gold import QUALIFIERS
from hopia.data.nlp.evaluate.scoring import Prediction
from hopia.data.nlp.pipeline import COMORBIDITIES, PipeSpec, SortedGroupsGetter
from hopia.platform.text import chunk_bounds

if TYPE_CHECKING:
    import edsnlp
    from spacy.tokens import Doc

MAX_CHARS = 50_000
BATCH_SIZE = 16

_EDS_NER: tuple[PipeSpec, ...] = (
    ("eds.dates", "dates", {"span_setter": {"dates": ["date"], "durations": ["duration"]}}),
    ("eds.quantities", "quantities", {"span_setter": {"quantities": True}}),
    ("eds.drugs", "drugs", {"span_setter": {"drug": True}}),
    ("eds.cim10", "cim10", {"span_setter": {"cim10": True}}),
    ("eds.covid", "covid", {"span_setter": {"covid": True}}),
    *((f"eds.{n}", n, {"span_setter": {n: True}}) for n in COMORBIDITIES),
)
EDS_GROUPS: tuple[str, ...] = tuple(g for _, _, cfg in _EDS_NER for g in cfg["span_setter"])
_EDS_QUALIFIED = SortedGroupsGetter(EDS_GROUPS)

#: Raw EDS-NLP: the base pipes of :data:`hopia.data.nlp.pipeline.PIPELINE`, with the same names
#: and configurations, without any ``hopia.*`` pipe.
EDS_BASELINE: tuple[PipeSpec, ...] = (
    ("eds.sentences", "sentences", {}),
    ("eds.normalizer", "normalizer", {}),
    ("eds.sections", "sections", {}),
    *_EDS_NER,
    ("eds.negation", "negation", {"span_getter": _EDS_QUALIFIED}),
    ("eds.hypothesis", "hypothesis", {"span_getter": _EDS_QUALIFIED}),
    ("eds.family", "family", {"span_getter": _EDS_QUALIFIED, "use_sections": True}),
    ("eds.history", "history", {"span_getter": _EDS_QUALIFIED, "use_sections": True}),
    ("eds.reported_speech", "reported_speech", {"span_getter": _EDS_QUALIFIED}),
)

Predictor = Callable[[list[str]], Iterator[list[Prediction]]]


@dataclass(frozen=True)
class System:
    key: str  # "hopia", "eds"
    title: str  # for the table headers
    predict: Predictor


def hopia_system(
    cache_dir: Path,
    groups: Sequence[str] | None = None,
    *,
    cache: bool = True,
    clinical_ner_weights: Path | None = None,
) -> System:
    """Hopia's pipeline (:func:`~hopia.data.nlp.pipeline.get_nlp` with ``cache_dir``,
    ``cache`` and ``clinical_ner_weights``, loaded on the first prediction); ``groups``
    restricts the span groups counted (an ablation)."""
    wanted = set(groups) if groups else None

    def predict(texts: list[str]) -> Iterator[list[Prediction]]:
        from hopia.data.nlp.extract import extract
        from hopia.data.nlp.pipeline import get_nlp

        nlp = get_nlp(cache_dir=cache_dir, cache=cache, clinical_ner_weights=clinical_ner_weights)
        for entities in extract(texts, nlp=nlp, batch_size=BATCH_SIZE):
            yield [
                Prediction(
                    e.start,
                    e.end,
                    e.category,
                    {q: bool(getattr(e, q)) for q in QUALIFIERS},
                    e.pipe,
                )
                for e in entities
                if e.category and (wanted is None or e.pipe in wanted)
            ]

    title = "Hopia" if not groups else f"Hopia [{','.join(groups)}]"
    return System("hopia", title, predict)


_eds: dict[str, edsnlp.Pipeline] = {}  # per cache folder: loaded once per process


def eds_pipeline(cache_dir: Path) -> edsnlp.Pipeline:
    """The raw EDS-NLP pipeline, from its disk cache under ``<cache_dir>/eds-baseline/`` (built
    the first time, ~30-60 s)."""
    from hopia.data.nlp.pipeline import load_or_build

    folder = Path(cache_dir) / "eds-baseline"
    if str(folder) not in _eds:
        _eds[str(folder)] = load_or_build(folder, EDS_BASELINE, speedups=False)[0]
    return _eds[str(folder)]


def eds_predictions(doc: Doc) -> list[Prediction]:
    """The scored mentions of one doc processed by :func:`eds_pipeline`."""
    from hopia.data.nlp.extract import GROUP_CATEGORY

    out = []
    for group in EDS_GROUPS:
        category = GROUP_CATEGORY.get(group)
        if category is None or group not in doc.spans:
            continue
        for span in doc.spans[group]:
            flags = {q: bool(getattr(span._, q)) for q in QUALIFIERS}
            out.append(Prediction(span.start_char, span.end_char, category, flags, group))
    return out


def eds_system(cache_dir: Path) -> System:
    """Raw EDS-NLP (:func:`eds_pipeline`, cached under ``cache_dir``)."""

    def predict(texts: list[str]) -> Iterator[list[Prediction]]:
        nlp = eds_pipeline(cache_dir)
        stream = nlp.pipe(texts, batch_size=BATCH_SIZE).set_processing(backend="simple")
        for doc in stream:
            yield eds_predictions(doc)

    return System("eds", "EDS-NLP", predict)


def run_system(
    system: System, texts: Sequence[str], on_doc: Callable[[], None] | None = None
) -> tuple[list[list[Prediction]], float]:
    """Predictions for every text (long ones in pieces) and the seconds spent predicting,
    pipeline loading excluded (a first empty call warms it up)."""
    list(system.predict([""]))  # load/build the pipeline outside the timing
    pieces: list[tuple[int, int]] = []  # (text index, offset)
    chunks: list[str] = []
    for i, text in enumerate(texts):
        for start, end in chunk_bounds(text, MAX_CHARS):
            pieces.append((i, start))
            chunks.append(text[start:end])
    out: list[list[Prediction]] = [[] for _ in texts]
    t0 = time.perf_counter()
    last = -1
    for (i, offset), preds in zip(pieces, _stream(system.predict, chunks), strict=True):
        out[i].extend(
            Prediction(p.start + offset, p.end + offset, p.label, p.qualifiers, p.pipe)
            for p in preds
        )
        if on_doc is not None and i != last:
            on_doc()
            last = i
    return out, time.perf_counter() - t0


def _stream(predict: Predictor, chunks: list[str]) -> Iterable[list[Prediction]]:
    return predict(chunks) if chunks else iter(())

"""NLP stage: EDS-NLP rule pipes over clinical texts, as plain :class:`Entity` records.

>>> from hopia.data.nlp import extract, get_nlp
>>> nlp = get_nlp(cache_dir=settings.cache_dir)  # doctest: +SKIP
>>> texts = ["Pas de fièvre, insuffisance cardiaque."]
>>> [e.label for e in next(extract(texts, nlp=nlp, batch_size=32))]  # doctest: +SKIP

The pipeline is built once per machine and cached on disk under the cache folder the caller
passes (see :mod:`.pipeline`); :mod:`hopia.services.nlp` is the entry point of the front ends.
"""

from hopia.data.nlp.extract import (
    QUALIFIERS,
    Entity,
    Extraction,
    doc_entities,
    entity_to_json,
    extract,
    extract_with_errors,
)
from hopia.data.nlp.isolation import PipeError
from hopia.data.nlp.pipeline import (
    ENTITY_GROUPS,
    PIPELINE,
    PIPELINE_FINGERPRINT,
    PIPELINE_SYSTEM,
    build_nlp,
    fingerprint,
    get_nlp,
)

__all__ = [
    "ENTITY_GROUPS",
    "PIPELINE",
    "PIPELINE_FINGERPRINT",
    "PIPELINE_SYSTEM",
    "QUALIFIERS",
    "Entity",
    "Extraction",
    "PipeError",
    "build_nlp",
    "doc_entities",
    "entity_to_json",
    "extract",
    "extract_with_errors",
    "fingerprint",
    "get_nlp",
]

"""NLP stage: EDS-NLP rule pipes over clinical texts, as plain :class:`Entity` records.

>>> from hopia.data.nlp import extract
>>> [e.label for e in next(extract(["Pas de fièvre, insuffisance cardiaque."]))]  # doctest: +SKIP

The pipeline is built once per machine and cached on disk (see :mod:`.pipeline`).
"""

from hopia.data.nlp.extract import QUALIFIERS, Entity, doc_entities, entity_to_json, extract
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
    "build_nlp",
    "doc_entities",
    "entity_to_json",
    "extract",
    "fingerprint",
    "get_nlp",
]

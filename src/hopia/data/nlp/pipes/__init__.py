"""Hopia's own NLP pipes, one folder per pipe, registered in EDS-NLP's factory registry as
``hopia.<name>``.

Importing this package registers every pipe (each ``factory.py`` runs its
``registry.factory.register``) and declares the span extensions they share:

- ``span._.category``: the semantic group of a mention (``DISO`` disorders and signs, ``CHEM``
  drugs and chemicals, ``PROC`` procedures, ``ANAT`` anatomy, ``LAB`` labs and vitals…), the
  UMLS semantic groups that QUAERO uses, so evaluation and cohorts speak one vocabulary;
- ``span._.attributes``: a dict of extra structured facts (LOINC code, reference-range flag,
  posology…), copied as is to :class:`hopia.data.nlp.Entity` ``attributes``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spacy.tokens import Span


# spaCy keys a span extension by the span's character offsets only, so two spans on the same
# words ("insuffisance cardiaque" from cim10, a comorbidity pipe and the NER) would share one
# value. Hopia's extensions are keyed by offsets, label and kb_id too.
def _key(span: Span, name: str) -> tuple[Any, ...]:
    return ("hopia._.", name, span.start_char, span.end_char, span.label, span.kb_id)


def _getter(name: str) -> Callable[[Span], Any]:
    def get(span: Span) -> Any:
        return span.doc.user_data.get(_key(span, name))

    return get


def _setter(name: str) -> Callable[[Span, Any], None]:
    def set_(span: Span, value: Any) -> None:
        span.doc.user_data[_key(span, name)] = value

    return set_


for _name in ("category", "attributes"):
    if not Span.has_extension(_name):
        Span.set_extension(_name, getter=_getter(_name), setter=_setter(_name))

from hopia.data.nlp.pipes.cim10 import factory as _cim10_factory  # noqa: E402, F401
from hopia.data.nlp.pipes.clinical_ner import factory as _clinical_ner_factory  # noqa: E402, F401
from hopia.data.nlp.pipes.labs import factory as _labs_factory  # noqa: E402, F401
from hopia.data.nlp.pipes.posology import factory as _posology_factory  # noqa: E402, F401
from hopia.data.nlp.pipes.qualifiers import factory as _qualifiers_factory  # noqa: E402, F401
from hopia.data.nlp.pipes.sections import factory as _sections_factory  # noqa: E402, F401
from hopia.data.nlp.pipes.terms import factory as _terms_factory  # noqa: E402, F401
from hopia.data.nlp.pipes.zones import factory as _zones_factory  # noqa: E402, F401

"""Registers :class:`~.clinical_ner.ClinicalNer` as ``hopia.clinical_ner``."""

from __future__ import annotations

from edsnlp.core.registries import registry

from hopia.data.nlp.pipes.clinical_ner.clinical_ner import ClinicalNer

create_component = registry.factory.register(
    "hopia.clinical_ner",
    assigns=["doc.spans"],
)(ClinicalNer)

"""Registers ``hopia.terms`` in EDS-NLP's factory registry."""

from edsnlp.core.registries import registry

from hopia.data.nlp.pipes.terms.terms import TermsMatcher

create_component = registry.factory.register(
    "hopia.terms",
    assigns=["doc.spans"],
)(TermsMatcher)

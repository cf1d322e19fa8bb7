"""Registers ``hopia.sections`` in EDS-NLP's factory registry."""

from edsnlp.core.registries import registry

from hopia.data.nlp.pipes.sections.sections import SectionsMatcher

create_component = registry.factory.register(
    "hopia.sections",
    assigns=["doc.spans"],
)(SectionsMatcher)

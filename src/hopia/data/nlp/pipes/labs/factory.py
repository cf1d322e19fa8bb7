"""Registers ``hopia.labs`` in EDS-NLP's factory registry."""

from edsnlp.core.registries import registry

from hopia.data.nlp.pipes.labs.labs import LabsMatcher

create_component = registry.factory.register(
    "hopia.labs",
    assigns=["doc.spans"],
)(LabsMatcher)

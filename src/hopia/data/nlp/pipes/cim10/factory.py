"""Registers ``hopia.cim10`` in EDS-NLP's factory registry."""

from edsnlp.core.registries import registry

from hopia.data.nlp.pipes.cim10.cim10 import Cim10Matcher

create_component = registry.factory.register(
    "hopia.cim10",
    assigns=["doc.spans"],
)(Cim10Matcher)

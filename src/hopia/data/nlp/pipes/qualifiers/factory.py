"""Registers ``hopia.qualifier_rules`` in EDS-NLP's factory registry."""

from edsnlp.core.registries import registry

from hopia.data.nlp.pipes.qualifiers.qualifier_rules import QualifierRules

create_component = registry.factory.register(
    "hopia.qualifier_rules",
    assigns=[
        "span._.negation",
        "span._.hypothesis",
        "span._.family",
        "span._.history",
        "span._.result",
    ],
)(QualifierRules)

"""Registers ``hopia.zones`` in EDS-NLP's factory registry."""

from edsnlp.core.registries import registry

from hopia.data.nlp.pipes.zones.zones import ZoneFilter

create_component = registry.factory.register(
    "hopia.zones",
    assigns=["doc.spans"],
)(ZoneFilter)

"""Registers ``hopia.posology`` in EDS-NLP's factory registry."""

from edsnlp.core.registries import registry

from hopia.data.nlp.pipes.posology.posology import PosologyReader

create_component = registry.factory.register(
    "hopia.posology",
    assigns=["doc.spans"],
)(PosologyReader)

"""Hopia: a sovereign AI platform for a French university hospital.

Layout (see docs/architecture.md): ``hopia.platform`` is the shared layer (config,
warehouse, caches); ``hopia.data`` is axis 1 (ingest -> pseudonymise -> NLP -> OMOP);
``hopia.cli`` is a thin typer front-end over them.
"""

__version__ = "0.1.0"

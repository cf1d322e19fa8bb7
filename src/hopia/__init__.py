"""Hopia: a sovereign AI platform for a French university hospital.

Layout (see docs/architecture.md): ``hopia.platform`` is the shared layer (config,
warehouse, caches); ``hopia.data`` is axis 1 (ingest -> pseudonymise -> NLP -> OMOP);
``hopia.cli`` is a thin typer front-end over them.
"""

__version__ = "0.3.0"

from hopia.platform import lazy_regex as _lazy_regex

# Before anything imports EDS-NLP: its ``eds`` language imports spaCy's French module, which
# would compile a 2 s regex that EDS-NLP's tokenizer never uses (see platform/lazy_regex.py).
_lazy_regex.install()

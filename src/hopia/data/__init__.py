"""Axis 1, clinical data: ingest -> pseudonymise -> NLP -> OMOP warehouse."""

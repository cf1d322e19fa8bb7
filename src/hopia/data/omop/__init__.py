"""OMOP CDM: loading OMOP CSV sets and mapping NLP results to CDM rows."""

"""OMOP CDM: the one writer of the research space (``writer``), its ids (``research_ids``), the
mapping of NLP mentions to CDM rows, concepts, and loading OMOP CSV sets."""

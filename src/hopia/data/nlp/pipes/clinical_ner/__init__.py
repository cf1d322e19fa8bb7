"""Statistical clinical NER (DISO, CHEM, PROC, ANAT) trained on QUAERO: ``hopia.clinical_ner``."""

from hopia.data.nlp.pipes.clinical_ner.clinical_ner import GROUP, ClinicalNer
from hopia.data.nlp.pipes.clinical_ner.model import LABELS, WEIGHTS_DIR

__all__ = ["GROUP", "LABELS", "WEIGHTS_DIR", "ClinicalNer"]

"""Pseudonymisation of clinical texts (rule-based v1: fast, deterministic, offline).

>>> from hopia.data.pseudo import Pseudonymiser
>>> result = Pseudonymiser(b"un secret assez long").pseudonymise("Vu M. Jean DUPONT le 12/03/2024")
>>> [s.label for s in result.spans]
['PRENOM', 'NOM', 'DATE']
"""

from hopia.data.pseudo.identity import IdentityMatcher
from hopia.data.pseudo.nir import compute_key, is_valid_nir, parse_nir
from hopia.data.pseudo.patterns import LABELS
from hopia.data.pseudo.pseudonymiser import (
    LABEL_PRIORITY,
    POLICIES,
    Policy,
    Pseudonymiser,
    PseudoResult,
    merge_spans,
)
from hopia.data.pseudo.rules import PhiSpan, detect_rules

__all__ = [
    "LABELS",
    "LABEL_PRIORITY",
    "POLICIES",
    "IdentityMatcher",
    "PhiSpan",
    "Policy",
    "PseudoResult",
    "Pseudonymiser",
    "compute_key",
    "detect_rules",
    "is_valid_nir",
    "merge_spans",
    "parse_nir",
]

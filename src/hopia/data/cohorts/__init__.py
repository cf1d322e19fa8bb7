"""Cohorts: versioned definitions (YAML/JSON, pydantic), compiled to portable SQL, run with
attrition, characterisation and small-cell suppression. See ``docs/cohorts.md``.

>>> from hopia.data.cohorts import parse_definition, compile_cohort
>>> d = parse_definition({
...     "name": "adultes_diabete", "title": "Adultes diabétiques",
...     "inclusion": [{"demographics": {"age_min": 18}}, {"condition": {"cim10": ["E11"]}}],
... })
>>> [s.label for s in compile_cohort(d).steps]
["Personnes de l'entrepôt", 'Inclusion 1 : âge / sexe', 'Inclusion 2 : diagnostic']
"""

from __future__ import annotations

from hopia.data.cohorts.compile import CompiledCohort, compile_cohort
from hopia.data.cohorts.load import (
    definition_hash,
    load_definition,
    parse_definition,
)
from hopia.data.cohorts.run import (
    CohortResult,
    identified_patients,
    run_cohort,
)
from hopia.data.cohorts.schema import CohortDefinition, Criterion

__all__ = [
    "CohortDefinition",
    "CohortResult",
    "CompiledCohort",
    "Criterion",
    "compile_cohort",
    "definition_hash",
    "identified_patients",
    "load_definition",
    "parse_definition",
    "run_cohort",
]

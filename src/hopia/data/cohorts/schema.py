"""Cohort definitions: a versioned, documented pydantic v2 schema (written as YAML or JSON).

A definition names an optional **index event** (the first or last occurrence of an event per
patient: its date is day 0), then **inclusion** criteria (all must hold, in order: attrition is
counted after each) and **exclusion** criteria (any removes the patient). A criterion is one of:

- an expression on the person: ``demographics`` (age at index, sex);
- an event in a clinical table: ``visit``, ``condition``, ``drug``, ``measurement``, ``text``
  (a mention in ``note_nlp``), restricted by ``window`` (days relative to the index event),
  ``date_from``/``date_to`` and ``count`` (occurrences);
- a combination: ``all_of``, ``any_of``, ``not``.

Within one event filter, the ways of naming the thing (codes, concept ids, source values,
terms) are alternatives (OR); value thresholds, qualifiers, windows and dates restrict (AND).
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FORMAT_VERSION = 1
EVENT_KINDS = ("visit", "condition", "drug", "measurement", "text")
CRITERION_KINDS = ("demographics", *EVENT_KINDS, "all_of", "any_of", "not_")

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]*$")
NonEmptyStr = Annotated[str, Field(min_length=1, max_length=255)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def _codes(values: list[str] | None, what: str) -> list[str] | None:
    for v in values or []:
        if not _CODE.match(v):
            raise ValueError(f"code {what} invalide : {v!r}")
    return values


class Qualifier(StrEnum):
    """What to do with mentions that carry a qualifier (negation, hypothesis…)."""

    EXCLUDE = "exclude"  # drop them (default)
    INCLUDE = "include"  # keep them, like any other mention
    ONLY = "only"  # keep only them


class Window(_Model):
    """Days relative to the index date (day 0), both ends included: ``[-365, 0]`` = the year
    before the index event, ``[0, 30]`` = the month after."""

    start: int = Field(description="First day, relative to the index date (negative: before).")
    end: int = Field(description="Last day, relative to the index date.")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.start > self.end:
            raise ValueError(f"fenêtre vide : start ({self.start}) après end ({self.end})")
        return self


class Count(_Model):
    """Occurrences required (rows; for ``text``, distinct notes). ``max`` alone allows zero."""

    min: int = Field(1, ge=0, description="At least this many occurrences.")
    max: int | None = Field(None, ge=0, description="At most this many occurrences.")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.max is not None and self.max < self.min:
            raise ValueError(f"max ({self.max}) inférieur à min ({self.min})")
        if self.min == 0 and self.max is None:
            raise ValueError("min 0 sans max : le critère serait toujours vrai")
        return self


class ValueRange(_Model):
    """Thresholds on ``value_as_number``: strictly greater (``gt``), at least (``ge``)…"""

    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None

    @model_validator(mode="after")
    def _some(self) -> Self:
        if all(v is None for v in (self.gt, self.ge, self.lt, self.le)):
            raise ValueError("au moins un seuil attendu (gt, ge, lt ou le)")
        return self


class DemographicsFilter(_Model):
    """Age in whole years at the index date (or at ``reference_date`` without index) and sex."""

    age_min: int | None = Field(None, ge=0, le=130, description="Minimum age, included.")
    age_max: int | None = Field(None, ge=0, le=130, description="Maximum age, included.")
    sex: list[Literal["M", "F"]] | None = Field(None, min_length=1, description="M and/or F.")

    @model_validator(mode="after")
    def _some(self) -> Self:
        if self.age_min is None and self.age_max is None and self.sex is None:
            raise ValueError("au moins un de age_min, age_max, sex attendu")
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise ValueError(f"age_min ({self.age_min}) supérieur à age_max ({self.age_max})")
        return self


class _CodedFilter(_Model):
    """Fields shared by the coded domains: OMOP concept ids and source values."""

    concept_ids: list[int] | None = Field(
        None, min_length=1, description="OMOP concept ids (SNOMED, RxNorm, LOINC… or local)."
    )
    descendants: bool = Field(
        True,
        description="Also match descendants: CIM-10 sub-codes (I50 -> I50.9) and, for "
        "concept ids, the descendants listed in concept_ancestor.",
    )
    source_values: list[NonEmptyStr] | None = Field(
        None, min_length=1, description="Source values, compared without regard to case."
    )

    def _named(self, *fields: str) -> None:
        if all(getattr(self, f) is None for f in (*fields, "concept_ids", "source_values")):
            names = ", ".join((*fields, "concept_ids", "source_values"))
            raise ValueError(f"au moins un de {names} attendu")


class VisitFilter(_Model):
    """Visits (``visit_occurrence``), dated by their start. No field: any visit."""

    types: list[Literal["inpatient", "outpatient", "emergency"]] | None = Field(
        None,
        min_length=1,
        description="Visit type (OMOP 9201, 9202, 9203; a stay admitted through the ER, 262, "
        "is both inpatient and emergency).",
    )
    concept_ids: list[int] | None = Field(None, min_length=1, description="visit_concept_id.")
    care_sites: list[NonEmptyStr] | None = Field(
        None, min_length=1, description="Care site or service: care_site name or source value."
    )
    source_values: list[NonEmptyStr] | None = Field(
        None,
        min_length=1,
        description="visit_source_value: the document type of a per-day visit; for a stay, "
        "a keyed hash of its number ('V…'), never the number itself.",
    )


class ConditionFilter(_CodedFilter):
    """Conditions (``condition_occurrence``), dated by their start."""

    cim10: list[str] | None = Field(
        None, min_length=1, description="CIM-10 codes (I50, E11.9); sub-codes with descendants."
    )
    cim10_prefixes: list[str] | None = Field(
        None, min_length=1, description="CIM-10 code prefixes, without the dot (I5 = I50-I59)."
    )
    include_history: bool = Field(
        True, description="Count conditions recorded as history ('antecedent')."
    )

    @field_validator("cim10", "cim10_prefixes")
    @classmethod
    def _check_cim10(cls, v: list[str] | None) -> list[str] | None:
        return _codes(v, "CIM-10")

    @model_validator(mode="after")
    def _some(self) -> Self:
        self._named("cim10", "cim10_prefixes")
        return self


class DrugFilter(_CodedFilter):
    """Drug exposures (``drug_exposure``), dated by their start."""

    atc: list[str] | None = Field(
        None, min_length=1, description="ATC codes or prefixes (C03C = loop diuretics)."
    )

    @field_validator("atc")
    @classmethod
    def _check_atc(cls, v: list[str] | None) -> list[str] | None:
        return _codes(v, "ATC")

    @model_validator(mode="after")
    def _some(self) -> Self:
        self._named("atc")
        return self


class MeasurementFilter(_CodedFilter):
    """Measurements (``measurement``): a LOINC code or an analyte name, with thresholds."""

    loinc: list[str] | None = Field(
        None,
        min_length=1,
        description="LOINC codes: matched on the LOINC concept or on measurement_source_value.",
    )
    value: ValueRange | None = Field(None, description="Thresholds on value_as_number.")

    @field_validator("loinc")
    @classmethod
    def _check_loinc(cls, v: list[str] | None) -> list[str] | None:
        return _codes(v, "LOINC")

    @model_validator(mode="after")
    def _some(self) -> Self:
        self._named("loinc")
        return self


class TextFilter(_Model):
    """Mentions found by NLP in notes (``note_nlp``), dated by their note.

    By default only mentions that are affirmed, about the patient, certain and current count:
    each qualifier is ``exclude`` (drop such mentions), ``include`` or ``only``.
    """

    terms: list[NonEmptyStr] | None = Field(
        None, min_length=1, description="Words of the mention (lexical_variant), any case."
    )
    match: Literal["contains", "exact"] = Field(
        "contains", description="Terms are contained in the mention, or are the whole mention."
    )
    cim10: list[str] | None = Field(None, min_length=1, description="CIM-10 code of the mention.")
    atc: list[str] | None = Field(None, min_length=1, description="ATC code of the mention.")
    concept_ids: list[int] | None = Field(None, min_length=1, description="note_nlp_concept_id.")
    labels: list[NonEmptyStr] | None = Field(
        None, min_length=1, description="NLP label in term_modifiers (e.g. diabetes)."
    )
    negation: Qualifier = Field(Qualifier.EXCLUDE, description="Negated mentions.")
    hypothesis: Qualifier = Field(Qualifier.EXCLUDE, description="Hypothetical mentions.")
    family: Qualifier = Field(Qualifier.EXCLUDE, description="Mentions about a relative.")
    history: Qualifier = Field(Qualifier.EXCLUDE, description="Mentions of past history.")

    @field_validator("cim10", "atc")
    @classmethod
    def _check_codes(cls, v: list[str] | None) -> list[str] | None:
        return _codes(v, "CIM-10/ATC")

    @model_validator(mode="after")
    def _some(self) -> Self:
        named = ("terms", "cim10", "atc", "concept_ids", "labels")
        if all(getattr(self, f) is None for f in named):
            raise ValueError(f"au moins un de {', '.join(named)} attendu")
        return self


class _EventFields(_Model):
    visit: VisitFilter | None = None
    condition: ConditionFilter | None = None
    drug: DrugFilter | None = None
    measurement: MeasurementFilter | None = None
    text: TextFilter | None = None
    date_from: date | None = Field(None, description="Events on or after this date.")
    date_to: date | None = Field(None, description="Events on or before this date.")

    def event(self) -> tuple[str, BaseModel] | None:
        """(kind, filter) of the one event this names, or None."""
        for kind in EVENT_KINDS:
            if getattr(self, kind) is not None:
                return kind, getattr(self, kind)
        return None


class IndexEvent(_EventFields):
    """The event that sets each patient's index date (day 0). Patients without it leave."""

    label: str | None = Field(None, max_length=200, description="Shown in the attrition table.")
    occurrence: Literal["first", "last"] = Field("first", description="Which occurrence.")

    @model_validator(mode="after")
    def _one(self) -> Self:
        kinds = [k for k in EVENT_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                f"l'événement index doit nommer exactement un de {', '.join(EVENT_KINDS)} "
                f"(trouvé : {', '.join(kinds) or 'aucun'})"
            )
        return self


class Criterion(_EventFields):
    """One criterion: exactly one of demographics, an event kind, all_of, any_of, not."""

    label: str | None = Field(None, max_length=200, description="Shown in the attrition table.")
    demographics: DemographicsFilter | None = None
    all_of: list[Criterion] | None = Field(None, min_length=1, description="All must hold.")
    any_of: list[Criterion] | None = Field(None, min_length=1, description="One must hold.")
    not_: Criterion | None = Field(None, alias="not", description="Must not hold.")
    window: Window | None = Field(None, description="Days relative to the index date.")
    count: Count | None = Field(None, description="Occurrences required (default: at least 1).")

    @model_validator(mode="after")
    def _one(self) -> Self:
        kinds = [k for k in CRITERION_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            names = ", ".join(k.rstrip("_") for k in CRITERION_KINDS)
            found = ", ".join(k.rstrip("_") for k in kinds) or "aucun"
            raise ValueError(f"un critère nomme exactement un de {names} (trouvé : {found})")
        if kinds[0] not in EVENT_KINDS:
            extra = [f for f in ("window", "count", "date_from", "date_to") if getattr(self, f)]
            if extra:
                raise ValueError(
                    f"{', '.join(extra)} ne s'applique(nt) qu'à un événement "
                    f"({', '.join(EVENT_KINDS)}), pas à {kinds[0].rstrip('_')}"
                )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in CRITERION_KINDS if getattr(self, k) is not None).rstrip("_")

    def walk(self) -> list[Criterion]:
        """This criterion and every nested one."""
        children = [*(self.all_of or []), *(self.any_of or []), *([self.not_] if self.not_ else [])]
        return [self, *(c for child in children for c in child.walk())]


class CohortDefinition(_Model):
    """A cohort definition, versioned: ``format`` is this schema's version, ``version`` the
    definition's own (bump it when the criteria change: results record both, and a hash)."""

    format: Literal[1] = Field(FORMAT_VERSION, description="Version of the definition format.")
    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_\-]{0,79}$",
        description="Identifier: lowercase letters, digits, '_' and '-'.",
    )
    version: str = Field("1", min_length=1, max_length=20, description="Definition version.")
    title: str = Field(min_length=1, max_length=200, description="Human-readable title.")
    description: str = Field("", max_length=5000, description="What the cohort is for.")
    reference_date: date | None = Field(
        None, description="Date at which age is computed when there is no index event."
    )
    index: IndexEvent | None = Field(None, description="Index event (day 0).")
    inclusion: list[Criterion] = Field(default_factory=list, description="All must hold.")
    exclusion: list[Criterion] = Field(default_factory=list, description="Any one excludes.")

    @model_validator(mode="after")
    def _windows_need_index(self) -> Self:
        if self.index is None:
            for criterion in (*self.inclusion, *self.exclusion):
                if any(c.window is not None for c in criterion.walk()):
                    raise ValueError(
                        "une fenêtre (window) est relative à l'événement index : "
                        "définissez index, ou utilisez date_from/date_to"
                    )
        if not self.inclusion and not self.exclusion and self.index is None:
            raise ValueError("définition vide : ni index, ni inclusion, ni exclusion")
        return self

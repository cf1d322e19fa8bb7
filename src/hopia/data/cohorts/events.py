"""Event sources: one SELECT per filter, with the columns ``person_id``, ``event_date`` and
``event_key`` (what an occurrence count counts), in SQLAlchemy Core for DuckDB and PostgreSQL.

Codes are matched through the ``concept`` table inside the query (no look-up beforehand), so
the compiled SQL is self-contained: CIM-10 and ATC codes are Hopia's local concepts (or Athena's
CIM10/ICD10 and ATC vocabularies), LOINC codes are matched on the concept or on the source value.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    Boolean,
    ColumnElement,
    CompoundSelect,
    Select,
    String,
    func,
    or_,
    select,
    union,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from hopia.data.cohorts.schema import (
    ConditionFilter,
    DrugFilter,
    MeasurementFilter,
    Qualifier,
    TextFilter,
    VisitFilter,
)
from hopia.platform.warehouse import schema

CONCEPT = schema.CDM["concept"]
ANCESTOR = schema.CDM["concept_ancestor"]
# An "ER and inpatient" stay (262) is both an inpatient and an emergency visit.
VISIT_TYPES = {"inpatient": (9201, 262), "outpatient": (9202,), "emergency": (9203, 262)}
CIM10_VOCABULARIES = ("CIM10", "ICD10")
# Keys of Hopia's term_modifiers JSON that a definition may read (never user text in SQL).
MODIFIER_KEYS = {"negation", "hypothesis", "family", "history", "label"}


class json_text(FunctionElement):
    """``term_modifiers`` key as text ('true', 'false', a label), per dialect."""

    type = String()
    inherit_cache = True
    name = "json_text"


def _json_key(element: json_text) -> str:
    key = element.clauses.clauses[1].value
    if key not in MODIFIER_KEYS:  # the key is inlined: only known keys
        raise ValueError(f"unknown term_modifiers key {key!r}")
    return key


@compiles(json_text, "duckdb")
def _json_duckdb(element: json_text, compiler, **kw) -> str:  # noqa: ANN001
    column = compiler.process(element.clauses.clauses[0], **kw)
    return f"json_extract_string({column}, '$.{_json_key(element)}')"


@compiles(json_text, "postgresql")
def _json_postgresql(element: json_text, compiler, **kw) -> str:  # noqa: ANN001
    column = compiler.process(element.clauses.clauses[0], **kw)
    return f"(CAST({column} AS JSONB) ->> '{_json_key(element)}')"


@compiles(json_text)
def _json_default(element: json_text, compiler, **kw) -> str:  # noqa: ANN001
    column = compiler.process(element.clauses.clauses[0], **kw)
    return f"json_extract({column}, '$.{_json_key(element)}')"


class by_dialect(FunctionElement):
    """The first expression, or on PostgreSQL the second (both mean the same)."""

    type = Boolean()
    inherit_cache = True
    name = "by_dialect"


@compiles(by_dialect)
def _by_dialect_default(element: by_dialect, compiler, **kw) -> str:  # noqa: ANN001
    return compiler.process(element.clauses.clauses[0], **kw)


@compiles(by_dialect, "postgresql")
def _by_dialect_postgresql(element: by_dialect, compiler, **kw) -> str:  # noqa: ANN001
    return compiler.process(element.clauses.clauses[1], **kw)


def _compact(column: ColumnElement) -> ColumnElement:
    return func.upper(func.replace(column, ".", ""))


def _lower_in(column: ColumnElement, values: list[str]) -> ColumnElement[bool]:
    return func.lower(column).in_(sorted({v.lower() for v in values}))


def cim10_concepts(
    codes: list[str] | None, prefixes: list[str] | None, descendants: bool
) -> Select:
    """concept_ids of CIM-10 codes (with their sub-codes when ``descendants``) and prefixes."""
    code = _compact(CONCEPT.c.concept_code)
    wanted = [c.replace(".", "").upper() for c in codes or []]
    starts = [p.replace(".", "").upper() for p in prefixes or []]
    conditions = [code.in_(wanted)] if wanted and not descendants else []
    starts += wanted if descendants else []
    conditions += [code.startswith(p, autoescape=True) for p in sorted(set(starts))]
    return select(CONCEPT.c.concept_id).where(
        CONCEPT.c.vocabulary_id.in_(CIM10_VOCABULARIES), or_(*conditions)
    )


def atc_concepts(prefixes: list[str]) -> Select:
    """concept_ids of ATC codes starting with any prefix (ATC is hierarchical by prefix)."""
    return select(CONCEPT.c.concept_id).where(
        CONCEPT.c.vocabulary_id == "ATC",
        or_(*(CONCEPT.c.concept_code.startswith(p.upper(), autoescape=True) for p in prefixes)),
    )


def _with_descendants(
    columns: list[ColumnElement], concepts: Select | list[int], deep: bool
) -> ColumnElement[bool]:
    """Any of ``columns`` is in ``concepts`` (or, when ``deep``, one of their descendants).

    One set per column (a UNION, not an OR of two IN): each IN is a join over the events."""
    if isinstance(concepts, list):  # literal ids: a plain IN list, cheap
        matches = [c.in_(concepts) for c in columns]
        if deep:
            below = select(ANCESTOR.c.descendant_concept_id).where(
                ANCESTOR.c.ancestor_concept_id.in_(concepts)
            )
            matches += [c.in_(below) for c in columns]
        return or_(*matches)
    wanted: Select | CompoundSelect = concepts
    if deep:
        below = select(ANCESTOR.c.descendant_concept_id).where(
            ANCESTOR.c.ancestor_concept_id.in_(concepts)
        )
        wanted = union(concepts, below)
    return or_(*(c.in_(wanted) for c in columns))


def _dated(query: Select, column: ColumnElement, start: date | None, end: date | None) -> Select:
    if start is not None:
        query = query.where(column >= start)
    if end is not None:
        query = query.where(column <= end)
    return query


def visit_events(f: VisitFilter, start: date | None, end: date | None) -> Select:
    v = schema.CDM["visit_occurrence"]
    site = schema.CDM["care_site"]
    query = select(
        v.c.person_id,
        v.c.visit_start_date.label("event_date"),
        v.c.visit_occurrence_id.label("event_key"),
    )
    if f.types:
        wanted = {k for t in f.types for k in VISIT_TYPES[t]}
        query = query.where(v.c.visit_concept_id.in_(sorted(wanted)))
    if f.concept_ids:
        query = query.where(v.c.visit_concept_id.in_(f.concept_ids))
    if f.source_values:
        query = query.where(_lower_in(v.c.visit_source_value, f.source_values))
    if f.care_sites:
        sites = select(site.c.care_site_id).where(
            or_(
                _lower_in(site.c.care_site_name, f.care_sites),
                _lower_in(site.c.care_site_source_value, f.care_sites),
            )
        )
        query = query.where(v.c.care_site_id.in_(sites))
    return _dated(query, v.c.visit_start_date, start, end)


def condition_events(f: ConditionFilter, start: date | None, end: date | None) -> Select:
    co = schema.CDM["condition_occurrence"]
    # The CIM-10 concept is the source concept when the ETL mapped it to SNOMED, and both
    # columns otherwise (Hopia): one expression, so one join over the conditions, not two.
    source_or_standard = func.coalesce(
        func.nullif(co.c.condition_source_concept_id, 0), co.c.condition_concept_id
    )
    named: list[ColumnElement[bool]] = []
    if f.cim10 or f.cim10_prefixes:
        concepts = cim10_concepts(f.cim10, f.cim10_prefixes, f.descendants)
        named.append(source_or_standard.in_(concepts))
    if f.concept_ids:
        named.append(_with_descendants([co.c.condition_concept_id], f.concept_ids, f.descendants))
    if f.source_values:
        named.append(_lower_in(co.c.condition_source_value, f.source_values))
    query = select(
        co.c.person_id,
        co.c.condition_start_date.label("event_date"),
        co.c.condition_occurrence_id.label("event_key"),
    ).where(or_(*named))
    if not f.include_history:
        status = func.coalesce(co.c.condition_status_source_value, "")
        query = query.where(status != "antecedent")
    return _dated(query, co.c.condition_start_date, start, end)


def drug_events(f: DrugFilter, start: date | None, end: date | None) -> Select:
    d = schema.CDM["drug_exposure"]
    named: list[ColumnElement[bool]] = []
    if f.atc:
        # Hopia's drugs are ATC concepts; Athena's RxNorm drugs descend from ATC classes.
        named.append(_with_descendants([d.c.drug_concept_id], atc_concepts(f.atc), f.descendants))
    if f.concept_ids:
        named.append(_with_descendants([d.c.drug_concept_id], f.concept_ids, f.descendants))
    if f.source_values:
        named.append(_lower_in(d.c.drug_source_value, f.source_values))
    query = select(
        d.c.person_id,
        d.c.drug_exposure_start_date.label("event_date"),
        d.c.drug_exposure_id.label("event_key"),
    ).where(or_(*named))
    return _dated(query, d.c.drug_exposure_start_date, start, end)


def measurement_events(f: MeasurementFilter, start: date | None, end: date | None) -> Select:
    m = schema.CDM["measurement"]
    named: list[ColumnElement[bool]] = []
    if f.loinc:
        loinc = select(CONCEPT.c.concept_id).where(
            CONCEPT.c.vocabulary_id == "LOINC", CONCEPT.c.concept_code.in_(f.loinc)
        )
        named += [m.c.measurement_concept_id.in_(loinc), m.c.measurement_source_value.in_(f.loinc)]
    if f.concept_ids:
        named.append(_with_descendants([m.c.measurement_concept_id], f.concept_ids, f.descendants))
    if f.source_values:
        named.append(_lower_in(m.c.measurement_source_value, f.source_values))
    query = select(
        m.c.person_id,
        m.c.measurement_date.label("event_date"),
        m.c.measurement_id.label("event_key"),
    ).where(or_(*named))
    if (bounds := f.value) is not None:
        value = m.c.value_as_number
        query = query.where(
            *([value > bounds.gt] if bounds.gt is not None else []),
            *([value >= bounds.ge] if bounds.ge is not None else []),
            *([value < bounds.lt] if bounds.lt is not None else []),
            *([value <= bounds.le] if bounds.le is not None else []),
        )
    return _dated(query, m.c.measurement_date, start, end)


def _qualifier(flag: ColumnElement[bool], mode: Qualifier) -> ColumnElement[bool] | None:
    if mode is Qualifier.EXCLUDE:
        return ~flag
    if mode is Qualifier.ONLY:
        return flag
    return None


def text_events(f: TextFilter, start: date | None, end: date | None) -> Select:
    nlp, note = schema.CDM["note_nlp"], schema.CDM["note"]
    named: list[ColumnElement[bool]] = []
    variant = func.lower(nlp.c.lexical_variant)
    for term in f.terms or []:
        lowered = term.lower()
        if f.match == "exact":
            named.append(variant == lowered)
            continue
        # DuckDB: strpos, not LIKE (no wildcard to escape; LIKE … ESCAPE runs 3-5x slower).
        # PostgreSQL: LIKE '%term%', which the trigram index of migration 17 answers (strpos
        # cannot use an index: a scan of note_nlp, 2 s at 1 M persons, docs/benchmarks.md).
        contains = variant.contains(lowered, autoescape=True)
        named.append(by_dialect(func.strpos(variant, lowered) > 0, contains))
    concept = nlp.c.note_nlp_concept_id
    if f.cim10:
        named.append(concept.in_(cim10_concepts(f.cim10, None, descendants=True)))
    if f.atc:
        named.append(concept.in_(atc_concepts(f.atc)))
    if f.concept_ids:
        named.append(concept.in_(f.concept_ids))
    if f.labels:
        named.append(json_text(nlp.c.term_modifiers, "label").in_(sorted(set(f.labels))))
    query = (
        select(
            note.c.person_id,
            note.c.note_date.label("event_date"),
            nlp.c.note_id.label("event_key"),
        )
        .select_from(nlp.join(note, note.c.note_id == nlp.c.note_id))
        .where(or_(*named))
    )
    modes = (f.negation, f.hypothesis, f.family)
    if all(m is Qualifier.EXCLUDE for m in modes):
        # OMOP's term_exists is 'Y' exactly when the mention is affirmed, certain and about
        # the patient: no JSON to read for the default case.
        query = query.where(nlp.c.term_exists == "Y")
    else:
        for key, mode in zip(("negation", "hypothesis", "family"), modes, strict=True):
            flag = func.coalesce(json_text(nlp.c.term_modifiers, key), "false") == "true"
            if (restriction := _qualifier(flag, mode)) is not None:
                query = query.where(restriction)
    history = func.coalesce(nlp.c.term_temporal, "") == "history"
    if (restriction := _qualifier(history, f.history)) is not None:
        query = query.where(restriction)
    return _dated(query, note.c.note_date, start, end)


def event_select(kind: str, f: object, start: date | None, end: date | None) -> Select:
    """The SELECT for one event filter of the given kind."""
    builders = {
        "visit": visit_events,
        "condition": condition_events,
        "drug": drug_events,
        "measurement": measurement_events,
        "text": text_events,
    }
    return builders[kind](f, start, end)  # type: ignore[operator]

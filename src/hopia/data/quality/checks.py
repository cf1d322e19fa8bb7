"""SQL for each check type, in SQLAlchemy Core: the same query runs on DuckDB and PostgreSQL.

Every builder returns one ``SELECT`` of two counts, ``violated`` and ``denominator``, after
DQD's templates (``inst/sql/sql_server/*.sql``); differences are listed in ``check_types.yaml``.
The three structural checks (cdmTable, cdmField, cdmDatatype) read the reflected schema
instead, in :mod:`hopia.data.quality.runner`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    Select,
    and_,
    case,
    cast,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FromClause

from hopia.data.quality.model import Check
from hopia.platform.registry import Registry
from hopia.platform.warehouse import schema

T = schema.CDM
MALE, FEMALE = 8507, 8532
GRACE_AFTER_DEATH_DAYS = 60  # DQD: records up to 60 days after death are plausible
VISIT_MARGIN_DAYS = 7  # DQD: events within a week of their visit's dates

Bound = float | int | date
Builder = Callable[[Check, date], Select]

_RELATIVE = re.compile(r"^(today|year)([+-]\d+)?$")


def parse_bound(value: str) -> tuple[str, float | int | date]:
    """('number'|'date'|'today'|'year', value) for a catalogue bound; ValueError otherwise."""
    if match := _RELATIVE.match(value):
        return match.group(1), int(match.group(2) or 0)
    if re.match(r"^\d{4}-\d{2}-\d{2}$", value):
        return "date", date.fromisoformat(value)
    return "number", float(value)


def resolve_bound(value: str, today: date) -> Bound:
    kind, parsed = parse_bound(value)
    if kind == "today":
        return today + timedelta(days=int(parsed))
    if kind == "year":
        return today.year + int(parsed)
    return parsed


def _days(n: int) -> ColumnElement:
    # Inlined: DuckDB cannot type a bound parameter in ``date + ?``.
    return literal_column(str(int(n)), Integer)


def _count(source: FromClause, *where: ColumnElement) -> ColumnElement:
    return select(func.count()).select_from(source).where(*where).scalar_subquery()


def _count_rows(query: Select) -> ColumnElement:
    return select(func.count()).select_from(query.subquery()).scalar_subquery()


def _measure(violated: ColumnElement, denominator: ColumnElement) -> Select:
    return select(violated.label("violated"), denominator.label("denominator"))


def _as_date(column: ColumnElement) -> ColumnElement:
    return cast(column, Date) if isinstance(column.type, DateTime) else column


def birth_date(person: FromClause) -> ColumnElement:
    """birth_datetime, else year/month/day_of_birth (1st month/day when missing), as DQD."""
    c = person.c
    year = case((c.year_of_birth.between(1, 9999), c.year_of_birth), else_=null())
    month = case((c.month_of_birth.between(1, 12), c.month_of_birth), else_=_days(1))
    day = case((c.day_of_birth.between(1, 28), c.day_of_birth), else_=_days(1))
    return func.coalesce(cast(c.birth_datetime, Date), func.make_date(year, month, day))


def _deaths() -> FromClause:
    d = T["death"]
    return (
        select(d.c.person_id, func.min(d.c.death_date).label("death_date"))
        .group_by(d.c.person_id)
        .subquery("d")
    )


# -- table level --------------------------------------------------------------------------------


def person_completeness(check: Check, today: date) -> Select:
    p, t = T["person"], T[check.table]
    missing = ~exists().where(t.c.person_id == p.c.person_id)
    return _measure(_count(p, missing), _count(p))


def condition_era_completeness(check: Check, today: date) -> Select:
    co, era = T["condition_occurrence"], T[check.table]
    persons = select(co.c.person_id).distinct()
    without_era = persons.where(~exists().where(era.c.person_id == co.c.person_id))
    return _measure(_count_rows(without_era), _count_rows(persons))


def observation_period_overlap(check: Check, today: date) -> Select:
    op = T["observation_period"]
    a, b = op.alias("a"), op.alias("b")
    pair = and_(
        a.c.person_id == b.c.person_id, a.c.observation_period_id != b.c.observation_period_id
    )
    overlapping = or_(
        and_(
            a.c.observation_period_start_date <= b.c.observation_period_end_date,
            a.c.observation_period_end_date >= b.c.observation_period_start_date,
        ),
        a.c.observation_period_end_date + _days(1) == b.c.observation_period_start_date,
        b.c.observation_period_end_date + _days(1) == a.c.observation_period_start_date,
    )
    bad = select(a.c.person_id).distinct().select_from(a.join(b, pair)).where(overlapping)
    return _measure(_count_rows(bad), _count_rows(select(op.c.person_id).distinct()))


# -- field level --------------------------------------------------------------------------------


def is_required(check: Check, today: date) -> Select:
    t = T[check.table]
    return _measure(_count(t, t.c[check.field].is_(None)), _count(t))


def is_primary_key(check: Check, today: date) -> Select:
    t = T[check.table]
    col = t.c[check.field]
    duplicated = select(col).group_by(col).having(func.count() > 1)
    return _measure(_count(t, col.in_(duplicated)), _count(t))


def is_foreign_key(check: Check, today: date) -> Select:
    t = T[check.table]
    col = t.c[check.field]
    fk_table, _, fk_field = (check.argument or "").partition(".")
    ref = T[fk_table].alias("fk")
    where = [col.is_not(None), ~exists().where(ref.c[fk_field] == col)]
    if fk_table == "concept":
        where.append(col != 0)  # "No matching concept": see check_types.yaml
    return _measure(_count(t, *where), _count(t))


def _concept_attribute(check: Check, predicate: Callable[[FromClause], ColumnElement]) -> Select:
    t = T[check.table]
    c = T["concept"].alias("c")
    joined = t.join(c, c.c.concept_id == t.c[check.field])
    return _measure(_count(joined, c.c.concept_id != 0, predicate(c)), _count(t))


def fk_domain(check: Check, today: date) -> Select:
    return _concept_attribute(check, lambda c: c.c.domain_id != check.argument)


def fk_class(check: Check, today: date) -> Select:
    return _concept_attribute(check, lambda c: c.c.concept_class_id != check.argument)


def is_standard_valid_concept(check: Check, today: date) -> Select:
    return _concept_attribute(
        check,
        lambda c: or_(
            c.c.standard_concept.is_(None),
            c.c.standard_concept != "S",
            c.c.invalid_reason.is_not(None),
        ),
    )


def value_completeness(check: Check, today: date) -> Select:
    t = T[check.table]
    return _measure(_count(t, t.c[check.field].is_(None)), _count(t))


def concept_record_completeness(check: Check, today: date) -> Select:
    t = T[check.table]
    return _measure(_count(t, t.c[check.field] == 0), _count(t))


def source_value_completeness(check: Check, today: date) -> Select:
    t = T[check.table]
    col, standard = t.c[check.field], t.c[check.argument]
    values = select(col).distinct()  # NULL counts as one source value, as in DQD
    return _measure(_count_rows(values.where(standard == 0)), _count_rows(values))


def plausible_value_low(check: Check, today: date) -> Select:
    return _value_bound(check, today, low=True)


def plausible_value_high(check: Check, today: date) -> Select:
    return _value_bound(check, today, low=False)


def _value_bound(check: Check, today: date, low: bool) -> Select:
    if check.level == "CONCEPT":
        return _concept_value_bound(check, today, low)
    t = T[check.table]
    col = t.c[check.field]
    bound = resolve_bound(check.argument or "", today)
    outside = col < bound if low else col > bound
    return _measure(_count(t, outside), _count(t, col.is_not(None)))


def plausible_temporal_after(check: Check, today: date) -> Select:
    t = T[check.table]
    col = t.c[check.field]
    other_table, _, other_field = (check.argument or "").partition(".")
    denominator = _count(t, col.is_not(None))
    if other_table == check.table:
        return _measure(_count(t, t.c[other_field] > col), denominator)
    other = T[other_table].alias("o")
    reference = (
        birth_date(other)
        if (other_table, other_field) == ("person", "birth_datetime")
        else _as_date(other.c[other_field])
    )
    joined = t.join(other, other.c.person_id == t.c.person_id)
    return _measure(_count(joined, reference > _as_date(col)), denominator)


def plausible_before_death(check: Check, today: date) -> Select:
    t = T[check.table]
    col = t.c[check.field]
    d = _deaths()
    joined = t.join(d, d.c.person_id == t.c.person_id)
    late = _as_date(col) > d.c.death_date + _days(GRACE_AFTER_DEATH_DAYS)
    return _measure(_count(joined, col.is_not(None), late), _count(joined, col.is_not(None)))


def within_visit_dates(check: Check, today: date) -> Select:
    t = T[check.table]
    col = _as_date(t.c[check.field])
    vo = T["visit_occurrence"].alias("vo")
    joined = t.join(vo, vo.c.visit_occurrence_id == t.c.visit_occurrence_id)
    outside = or_(
        col < vo.c.visit_start_date - _days(VISIT_MARGIN_DAYS),
        col > vo.c.visit_end_date + _days(VISIT_MARGIN_DAYS),
    )
    return _measure(_count(joined, outside), _count(joined))


def plausible_after_birth(check: Check, today: date) -> Select:
    t = T[check.table]
    col = t.c[check.field]
    p = T["person"].alias("p")
    joined = t.join(p, p.c.person_id == t.c.person_id)
    early = _as_date(col) < birth_date(p)
    return _measure(_count(joined, col.is_not(None), early), _count(t, col.is_not(None)))


def plausible_start_before_end(check: Check, today: date) -> Select:
    t = T[check.table]
    start, end = t.c[check.field], t.c[check.argument]
    both = and_(start.is_not(None), end.is_not(None))
    return _measure(_count(t, start > end), _count(t, both))


# -- concept level ------------------------------------------------------------------------------


def concept_filter(check: Check, t: FromClause) -> ColumnElement:
    """The rows a concept-level check is about."""
    if check.source_value is not None:  # a Hopia NLP analyte
        where = [t.c.measurement_source_value == check.source_value]
        if check.unit_source_value:
            where.append(t.c.unit_source_value == check.unit_source_value)
        return and_(*where)
    col = t.c[check.field]
    if check.codes is not None:  # Hopia's local concepts, by code prefix
        c = T["concept"].alias("sel")
        codes = or_(*(c.c.concept_code.like(f"{p}%") for p in check.codes.prefixes))
        picked = select(c.c.concept_id).where(c.c.vocabulary_id == check.codes.vocabulary, codes)
        return col.in_(picked)
    if check.check_type == "plausibleGenderUseDescendants":
        ca = T["concept_ancestor"]
        descendants = select(ca.c.descendant_concept_id).where(
            ca.c.ancestor_concept_id.in_(check.concept_ids)
        )
        return col.in_(descendants)
    where = [col.in_(check.concept_ids)]
    if check.unit_concept_id is not None:
        where.append(t.c.unit_concept_id == check.unit_concept_id)
    return and_(*where)


def plausible_gender(check: Check, today: date) -> Select:
    t = T[check.table]
    p = T["person"].alias("p")
    about = concept_filter(check, t)
    opposite = FEMALE if check.argument == "Male" else MALE
    joined = t.join(p, p.c.person_id == t.c.person_id)
    return _measure(_count(joined, about, p.c.gender_concept_id == opposite), _count(t, about))


def _concept_value_bound(check: Check, today: date, low: bool) -> Select:
    t = T[check.table]
    value = t.c.value_as_number
    about = concept_filter(check, t)
    bound = float(check.argument or 0)
    outside = value < bound if low else value > bound
    return _measure(_count(t, about, outside), _count(t, about, value.is_not(None)))


def plausible_unit_concept_ids(check: Check, today: date) -> Select:
    t = T[check.table]
    allowed = [int(i) for i in (check.argument or "").split(";") if i and int(i) != -1]
    about = and_(
        concept_filter(check, t),
        t.c.value_as_number.is_not(None),
        t.c.unit_source_value.is_not(None),
    )
    unit = t.c.unit_concept_id
    wrong = and_(unit.is_not(None), unit.not_in(allowed)) if allowed else unit.is_not(None)
    return _measure(_count(t, about, wrong), _count(t, about))


# Check types by name, DQD's SQL templates as builders; a site adds its own check types as a
# plug-in package (entry-point group ``hopia.quality_checks``) or with ``BUILDERS.register``:
# the catalogue names the type, the builder returns one SELECT of ``violated, denominator``.
_HERE = __name__
BUILDERS: Registry[Builder] = Registry(
    "contrôle qualité",
    "hopia.quality_checks",
    {
        "measurePersonCompleteness": f"{_HERE}:person_completeness",
        "measureConditionEraCompleteness": f"{_HERE}:condition_era_completeness",
        "measureObservationPeriodOverlap": f"{_HERE}:observation_period_overlap",
        "isRequired": f"{_HERE}:is_required",
        "isPrimaryKey": f"{_HERE}:is_primary_key",
        "isForeignKey": f"{_HERE}:is_foreign_key",
        "fkDomain": f"{_HERE}:fk_domain",
        "fkClass": f"{_HERE}:fk_class",
        "isStandardValidConcept": f"{_HERE}:is_standard_valid_concept",
        "measureValueCompleteness": f"{_HERE}:value_completeness",
        "standardConceptRecordCompleteness": f"{_HERE}:concept_record_completeness",
        "sourceConceptRecordCompleteness": f"{_HERE}:concept_record_completeness",
        "sourceValueCompleteness": f"{_HERE}:source_value_completeness",
        "plausibleValueLow": f"{_HERE}:plausible_value_low",
        "plausibleValueHigh": f"{_HERE}:plausible_value_high",
        "plausibleTemporalAfter": f"{_HERE}:plausible_temporal_after",
        # plausibleDuringLife: the same query as plausibleBeforeDeath in DQD (60-day grace)
        "plausibleDuringLife": f"{_HERE}:plausible_before_death",
        "withinVisitDates": f"{_HERE}:within_visit_dates",
        "plausibleAfterBirth": f"{_HERE}:plausible_after_birth",
        "plausibleBeforeDeath": f"{_HERE}:plausible_before_death",
        "plausibleStartBeforeEnd": f"{_HERE}:plausible_start_before_end",
        "plausibleGender": f"{_HERE}:plausible_gender",
        "plausibleGenderUseDescendants": f"{_HERE}:plausible_gender",
        "plausibleUnitConceptIds": f"{_HERE}:plausible_unit_concept_ids",
    },
)
REFLECTED = ("cdmTable", "cdmField", "cdmDatatype")  # answered from the schema, no query

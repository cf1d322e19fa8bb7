"""Compile a cohort definition into SQL (SQLAlchemy Core, portable to DuckDB and PostgreSQL).

Each criterion becomes a boolean expression on one ``person`` row (joined to its index date):
an event criterion is the set of persons it holds for (one row per person), LEFT JOINed to the
persons, and its expression is "this person is in the set"; ``all_of``/``any_of``/``not`` are
AND/OR/NOT of those. Attrition is then one statement: one flag per step, computed once per
person, summed cumulatively.

Why joins, not ``person_id IN (SELECT …)``: inside a select list or under OR/NOT, PostgreSQL
cannot turn an IN into a semi-join; it runs a SubPlan, hashed only while the set fits
``work_mem``, else scanned once per person. At 1 M persons the loop diuretic's set (480 k rows)
did not fit the default 4 MB: 68,489 index persons x 19,302 rows each, 110 s for the
three-criteria cohort instead of a few seconds (docs/benchmarks.md, issue 16). A hash join has
no such cliff (it spills to disk in batches), and DuckDB runs both the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    CTE,
    ColumnElement,
    FromClause,
    Integer,
    Select,
    and_,
    case,
    cast,
    extract,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.engine import Dialect

from hopia.data.cohorts.events import event_select
from hopia.data.cohorts.schema import CohortDefinition, Count, Criterion
from hopia.platform.warehouse import schema

PERSON = schema.CDM["person"]
MALE, FEMALE = 8507, 8532
KIND_LABELS = {
    "demographics": "âge / sexe",
    "visit": "séjour",
    "condition": "diagnostic",
    "drug": "médicament",
    "measurement": "mesure",
    "text": "mention dans les notes",
    "all_of": "toutes les conditions",
    "any_of": "au moins une condition",
    "not": "absence",
}


@dataclass(frozen=True)
class Step:
    """One line of the attrition table. ``condition`` is None for the population lines."""

    label: str
    kind: str  # population | index | inclusion | exclusion
    condition: ColumnElement[bool] | None


def age_expression(birth_year, birth_month, birth_day, ref_year, ref_month_day) -> ColumnElement:  # noqa: ANN001
    """Whole years between the birth date and the reference date (unknown month/day: 1st)."""
    birth_md = func.coalesce(birth_month, 1) * 100 + func.coalesce(birth_day, 1)
    before_birthday = case((ref_month_day < birth_md, 1), else_=0)
    return cast(ref_year - birth_year - before_birthday, Integer)


class CompiledCohort:
    """The SQL of one definition: attrition, members. Build with :func:`compile_cohort`."""

    def __init__(self, definition: CohortDefinition, reference_date: date) -> None:
        self.definition = definition
        self.reference_date = reference_date
        self.index: CTE | None = self._index_cte()
        if self.index is not None:
            self.base: FromClause = PERSON.join(
                self.index, self.index.c.person_id == PERSON.c.person_id
            )
            self.index_date: ColumnElement = self.index.c.index_date
            ref_year = extract("year", self.index_date)
            ref_md = extract("month", self.index_date) * 100 + extract("day", self.index_date)
        else:
            self.base = PERSON
            self.index_date = literal(reference_date)
            ref_year = literal(reference_date.year)
            ref_md = literal(reference_date.month * 100 + reference_date.day)
        self._sets: list[FromClause] = []  # per-person sets of the event criteria, in order
        self.age: ColumnElement[int] = age_expression(
            PERSON.c.year_of_birth, PERSON.c.month_of_birth, PERSON.c.day_of_birth, ref_year, ref_md
        )
        self.steps = self._steps()

    # -- criteria -------------------------------------------------------------------------

    def _index_cte(self) -> CTE | None:
        index = self.definition.index
        if index is None:
            return None
        kind, f = index.event()  # type: ignore[misc]
        events = event_select(kind, f, index.date_from, index.date_to).subquery("index_events")
        first = func.min if index.occurrence == "first" else func.max
        return (
            select(events.c.person_id, first(events.c.event_date).label("index_date"))
            .group_by(events.c.person_id)
            .cte("cohort_index")
        )

    def condition(self, c: Criterion) -> ColumnElement[bool]:
        """The boolean expression of a criterion, on the current person row."""
        kind = c.kind
        if kind == "demographics":
            d = c.demographics
            parts: list[ColumnElement[bool]] = []
            if d.age_min is not None:
                parts.append(self.age >= d.age_min)
            if d.age_max is not None:
                parts.append(self.age <= d.age_max)
            if d.sex:
                genders = sorted({MALE if s == "M" else FEMALE for s in d.sex})
                parts.append(PERSON.c.gender_concept_id.in_(genders))
            return and_(*parts)
        if kind == "all_of":
            return and_(*(self.condition(child) for child in c.all_of))
        if kind == "any_of":
            return or_(*(self.condition(child) for child in c.any_of))
        if kind == "not":
            return not_(self.condition(c.not_))
        return self._event_condition(c, kind)

    def _event_condition(self, c: Criterion, kind: str) -> ColumnElement[bool]:
        events = event_select(kind, getattr(c, kind), c.date_from, c.date_to).subquery()
        query = select(events.c.person_id)
        if c.window is not None:
            assert self.index is not None  # the schema refuses windows without index
            offset = events.c.event_date - self.index.c.index_date
            query = query.join(self.index, self.index.c.person_id == events.c.person_id).where(
                offset.between(c.window.start, c.window.end)
            )
        query = query.group_by(events.c.person_id)  # one row per person: the join keeps rows
        count = c.count or Count()
        absent = False
        if count.min != 1 or count.max is not None:
            # Texts count notes (a note may repeat a mention); other events count rows.
            n = func.count(events.c.event_key.distinct()) if kind == "text" else func.count()
            if count.min == 0:  # at most `max`, zero included: not more than max
                query, absent = query.having(n > count.max), True
            else:
                having = [n >= count.min, *([n <= count.max] if count.max is not None else [])]
                query = query.having(and_(*having))
        persons = query.subquery(f"criterion_{len(self._sets)}")
        self._sets.append(persons)
        held = persons.c.person_id.is_(None) if absent else persons.c.person_id.is_not(None)
        return held

    def _source(self) -> FromClause:
        """The persons (joined to their index date) with every criterion's set."""
        source = self.base
        for persons in self._sets:
            source = source.outerjoin(persons, persons.c.person_id == PERSON.c.person_id)
        return source

    # -- steps and queries ----------------------------------------------------------------

    def _steps(self) -> list[Step]:
        d = self.definition
        steps = [Step("Personnes de l'entrepôt", "population", None)]
        if d.index is not None:
            label = d.index.label or f"Événement index ({KIND_LABELS[d.index.event()[0]]})"
            steps.append(Step(label, "index", None))
        for i, c in enumerate(d.inclusion, 1):
            label = c.label or f"Inclusion {i} : {KIND_LABELS[c.kind]}"
            steps.append(Step(label, "inclusion", self.condition(c)))
        for i, c in enumerate(d.exclusion, 1):
            label = c.label or f"Exclusion {i} : {KIND_LABELS[c.kind]}"
            steps.append(Step(label, "exclusion", not_(self.condition(c))))
        return steps

    def _criteria(self) -> list[ColumnElement[bool]]:
        return [s.condition for s in self.steps if s.condition is not None]

    def attrition_query(self) -> Select:
        """One row: the count after each step, in order."""
        criteria = self._criteria()
        flags = (
            select(
                PERSON.c.person_id,
                *(func.coalesce(cond, false()).label(f"c{i}") for i, cond in enumerate(criteria)),
            )
            .select_from(self._source())
            .cte("cohort_flags")
        )
        population = select(func.count()).select_from(PERSON).scalar_subquery()
        counts = [population.label("population")]
        if self.index is not None:
            counts.append(func.count().label("index"))
        for i in range(len(criteria)):
            held = and_(*(flags.c[f"c{j}"] for j in range(i + 1)))
            counts.append(func.sum(case((held, 1), else_=0)).label(f"step{i}"))
        query = select(*counts)
        return query.select_from(flags) if len(counts) > 1 else query

    def members_query(self) -> Select:
        """Members: person_id, index_date, age, gender_concept_id. Research space only."""
        where = and_(*self._criteria()) if self._criteria() else true()
        return (
            select(
                PERSON.c.person_id,
                self.index_date.label("index_date"),
                self.age.label("age"),
                PERSON.c.gender_concept_id,
            )
            .select_from(self._source())
            .where(where)
        )

    def sql(self, dialect: Dialect) -> str:
        """The members query as SQL text with inlined values, as a person pastes it into a SQL
        console (for review, ``hopia cohort sql``)."""
        # A driver's "format"/"pyformat" paramstyle doubles every "%" ("LIKE '%%I50%%'"): the
        # text is printed, not executed, so compile it as for named parameters (none is left).
        printable = type(dialect)(paramstyle="named")
        compiled = self.members_query().compile(
            dialect=printable, compile_kwargs={"literal_binds": True}
        )
        return str(compiled)


def compile_cohort(
    definition: CohortDefinition, reference_date: date | None = None
) -> CompiledCohort:
    """``reference_date``: for age without an index event (default: the definition's, else
    today)."""
    return CompiledCohort(definition, reference_date or definition.reference_date or date.today())

"""Characterise a cohort: age and sex, most frequent conditions, drugs and measurements.

Everything here is computed in the research space and returned *unsuppressed*; the caller
(:class:`hopia.data.cohorts.run.CohortResult`) suppresses small cells before anything leaves.
Top lists count distinct patients over all their records in the warehouse.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import BigInteger, Column, Connection, Integer, MetaData, Table, case, func, select

from hopia.data.cohorts.compile import FEMALE, MALE, CompiledCohort
from hopia.platform.warehouse import schema

# The most-frequent lists of a characterisation, with their French titles.
TOP_TITLES = {
    "conditions": "Diagnostics les plus fréquents",
    "drugs": "Médicaments les plus fréquents",
    "measurements": "Mesures les plus fréquentes",
}

CONCEPT = schema.CDM["concept"]
# The event tables the characterisation ranks (a choice among schema.CLINICAL_EVENT_TABLES).
TOP_TABLES = {
    "conditions": "condition_occurrence",
    "drugs": "drug_exposure",
    "measurements": "measurement",
}
AGE_BINS = [(0, 17), (18, 29), (30, 39), (40, 49), (50, 59), (60, 69), (70, 79), (80, 89)]


@dataclass(frozen=True)
class TopItem:
    concept_id: int
    code: str | None
    name: str
    vocabulary: str | None
    persons: int
    median_value: float | None = None  # measurements only
    unit: str | None = None


@dataclass
class Characterisation:
    persons: int
    sex: dict[str, int]
    ages: Counter[int]  # age in years -> persons
    top: dict[str, list[TopItem]] = field(default_factory=dict)

    def age_bins(self) -> dict[str, int]:
        bins = {f"{lo}-{hi}": 0 for lo, hi in AGE_BINS} | {"90+": 0}
        for age, n in self.ages.items():
            key = next((f"{lo}-{hi}" for lo, hi in AGE_BINS if lo <= age <= hi), "90+")
            bins[key] += n
        return bins

    def age_quantiles(self) -> dict[str, float]:
        """Mean, quartiles and median of age (empty when nobody)."""
        values = sorted(a for a, n in self.ages.items() for _ in range(n))
        if not values:
            return {}

        def q(p: float) -> float:  # linear interpolation, as percentile_cont
            pos = p * (len(values) - 1)
            lo = int(pos)
            hi = min(lo + 1, len(values) - 1)
            return values[lo] + (values[hi] - values[lo]) * (pos - lo)

        mean = sum(values) / len(values)
        return {"mean": round(mean, 1), "q1": q(0.25), "median": q(0.5), "q3": q(0.75)}


def _top(conn: Connection, members: Table, table: Table, limit: int) -> list[TopItem]:
    """Most frequent concepts among members; uncoded rows (concept 0) by source value."""
    prefix = schema.event_domain(table.name)
    concept_col = table.c[f"{prefix}_concept_id"]
    source = case((concept_col == 0, table.c[f"{prefix}_source_value"]), else_=None)
    persons = func.count(table.c.person_id.distinct())
    measured = table.name == "measurement"
    extra = (
        [
            func.percentile_cont(0.5).within_group(table.c.value_as_number).label("median"),
            func.min(table.c.unit_source_value).label("unit"),
        ]
        if measured
        else []
    )
    inner = (
        select(concept_col.label("concept_id"), source.label("source"), persons.label("n"), *extra)
        .where(table.c.person_id.in_(select(members.c.person_id)))
        .group_by(concept_col, source)
        .order_by(persons.desc(), concept_col, source)
        .limit(limit)
        .subquery()
    )
    rows = conn.execute(
        select(inner, CONCEPT.c.concept_code, CONCEPT.c.concept_name, CONCEPT.c.vocabulary_id)
        .select_from(inner.outerjoin(CONCEPT, CONCEPT.c.concept_id == inner.c.concept_id))
        .order_by(inner.c.n.desc(), inner.c.concept_id, inner.c.source)
    ).mappings()
    return [
        TopItem(
            concept_id=int(r["concept_id"]),
            code=r["concept_code"],
            name=r["concept_name"] or r["source"] or "(non codé)",
            vocabulary=r["vocabulary_id"],
            persons=int(r["n"]),
            median_value=float(r["median"]) if measured and r["median"] is not None else None,
            unit=r["unit"] if measured else None,
        )
        for r in rows
    ]


def _members_table() -> Table:
    return Table(
        "hopia_cohort_members",
        MetaData(),
        Column("person_id", BigInteger, primary_key=True, autoincrement=False),
        Column("age", Integer),
        Column("gender_concept_id", BigInteger),
        prefixes=["TEMPORARY"],
    )


def characterise(conn: Connection, compiled: CompiledCohort, top: int = 10) -> Characterisation:
    """Run the cohort once into a temporary table (dropped after), then describe it."""
    members = _members_table()
    members.create(conn)
    try:
        query = compiled.members_query().subquery()
        columns = ["person_id", "age", "gender_concept_id"]
        conn.execute(members.insert().from_select(columns, select(*(query.c[c] for c in columns))))
        return _describe(conn, members, top)
    finally:
        members.drop(conn)


def _describe(conn: Connection, members: Table, top: int) -> Characterisation:
    sex: dict[str, int] = {"M": 0, "F": 0, "inconnu": 0}
    for gender, n in conn.execute(
        select(members.c.gender_concept_id, func.count()).group_by(members.c.gender_concept_id)
    ):
        key = "M" if gender == MALE else "F" if gender == FEMALE else "inconnu"
        sex[key] += int(n)
    ages: Counter[int] = Counter()
    for age, n in conn.execute(select(members.c.age, func.count()).group_by(members.c.age)):
        ages[int(age)] += int(n)
    result = Characterisation(persons=sum(sex.values()), sex=sex, ages=ages)
    for key, table in TOP_TABLES.items():
        result.top[key] = _top(conn, members, schema.CDM[table], top)
    return result

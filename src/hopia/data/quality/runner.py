"""Run a catalogue against the warehouse: one read-only connection, one query per check.

Before querying, a profile of the warehouse (tables, columns, row counts, non-null counts, the
concepts present) marks checks "not applicable" the way DQD does, without a query: table
absent or empty, field entirely NULL, concept absent. A check that ran over no row at all is
not applicable too (DQD would call it passed).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, column, func, select, table
from sqlalchemy.exc import SQLAlchemyError

from hopia.data.quality.catalogue import Catalogue, load_catalogue
from hopia.data.quality.checks import BUILDERS, REFLECTED, Builder
from hopia.data.quality.model import (
    Check,
    CheckResult,
    CheckType,
    Level,
    QualityRun,
    Status,
)
from hopia.platform.warehouse import Warehouse, schema
from hopia.platform.warehouse.analytics import for_analytics

# Table-level completeness measures what is missing: an empty table is their worst case, not a
# reason to skip them (DQD marks them not applicable; see docs/quality.md).
RUN_ON_EMPTY_TABLE = {"measurePersonCompleteness", "measureConditionEraCompleteness"}
# These count NULLs: a field that is entirely NULL is what they report.
RUN_ON_EMPTY_FIELD = {"measureValueCompleteness", "isRequired"}
# NULL counts come with the profile: no query of their own.
PROFILED = {"measureValueCompleteness", "isRequired"}
INTEGER_TYPES = {"smallint", "integer", "bigint", "int", "int2", "int4", "int8", "hugeint"}

# information_schema rather than SQLAlchemy's inspector: duckdb_engine's column reflection
# queries pg_catalog tables that DuckDB 2 no longer has.
_COLUMNS = table(
    "columns",
    column("table_schema"),
    column("table_name"),
    column("column_name"),
    column("data_type"),
    schema="information_schema",
)


@dataclass
class Profile:
    tables: set[str]
    columns: dict[str, dict[str, str]]  # table -> column -> SQL data type, lower case
    rows: dict[str, int] = field(default_factory=dict)
    non_null: dict[tuple[str, str], int] = field(default_factory=dict)
    concepts: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    concept_units: dict[tuple[str, str], set[tuple[int, int | None]]] = field(default_factory=dict)


def profile_warehouse(conn: Connection, catalogue: Catalogue) -> Profile:
    columns: dict[str, dict[str, str]] = defaultdict(dict)
    c = _COLUMNS.c
    rows = conn.execute(
        select(c.table_name, c.column_name, c.data_type).where(c.table_schema == schema.OMOP)
    )
    for table_name, column_name, data_type in rows:
        columns[table_name][column_name] = str(data_type).lower()
    tables = set(columns)
    wanted = {check.table for check in catalogue.checks} & tables
    profile = Profile(tables=tables, columns=dict(columns))
    fields_by_table: dict[str, set[str]] = defaultdict(set)
    concept_fields: set[tuple[str, str]] = set()
    unit_fields: set[tuple[str, str]] = set()
    for check in catalogue.checks:
        if check.field and check.table in tables and check.field in columns[check.table]:
            fields_by_table[check.table].add(check.field)
            if check.concept_ids and check.check_type != "plausibleGenderUseDescendants":
                (unit_fields if check.unit_concept_id is not None else concept_fields).add(
                    (check.table, check.field)
                )
    for name in sorted(wanted):
        table = schema.CDM[name]
        profile.rows[name] = int(conn.execute(select(func.count()).select_from(table)).scalar())
        present = sorted(fields_by_table[name])
        if profile.rows[name] and present:
            counts = conn.execute(select(*[func.count(table.c[f]) for f in present])).one()
            profile.non_null.update(
                {(name, f): int(n) for f, n in zip(present, counts, strict=True)}
            )
        else:
            profile.non_null.update({(name, f): 0 for f in present})
    for name, concept_field in sorted(concept_fields):
        col = schema.CDM[name].c[concept_field]
        profile.concepts[(name, concept_field)] = set(
            conn.execute(select(col).distinct().where(col.is_not(None))).scalars()
        )
    for name, concept_field in sorted(unit_fields):
        table = schema.CDM[name]
        rows = conn.execute(
            select(table.c[concept_field], table.c.unit_concept_id).distinct()
        ).all()
        profile.concept_units[(name, concept_field)] = {
            (int(c), u) for c, u in rows if c is not None
        }
    return profile


def not_applicable_reason(check: Check, profile: Profile) -> str | None:
    """Why ``check`` need not run on this warehouse, or None."""
    if check.check_type in REFLECTED:
        return None
    if check.table not in profile.tables:
        return "table absente"
    if not profile.rows.get(check.table) and check.check_type not in RUN_ON_EMPTY_TABLE:
        return "table vide"
    if check.field is None:
        return None
    if check.field not in profile.columns.get(check.table, {}):
        return "colonne absente"
    if not profile.non_null.get((check.table, check.field)) and (
        check.check_type not in RUN_ON_EMPTY_FIELD
    ):
        return "colonne entièrement vide"
    key = (check.table, check.field)
    if not check.concept_ids or check.check_type == "plausibleGenderUseDescendants":
        return None
    if check.unit_concept_id is not None and key in profile.concept_units:
        pairs = profile.concept_units[key]
        if not any((c, check.unit_concept_id) in pairs for c in check.concept_ids):
            return "concept et unité absents des données"
    elif key in profile.concepts and not set(check.concept_ids) & profile.concepts[key]:
        return "concept absent des données"
    return None


def describe(check: Check, kind: CheckType) -> str:
    template = kind.description
    if check.level == Level.CONCEPT and kind.concept_description:
        template = kind.concept_description
    argument = (check.argument or "").replace(";", ", ")
    return template.format(
        table=check.table,
        field=check.field or "",
        argument=argument,
        concept=check.name or "+".join(map(str, check.concept_ids)),
    )


def _reflected(check: Check, profile: Profile) -> tuple[int, int]:
    """(violated, denominator) of a structural check, from the reflected schema."""
    if check.check_type == "cdmTable":
        return (0 if check.table in profile.tables else 1), 1
    columns = profile.columns.get(check.table, {})
    if check.check_type == "cdmField":
        return (0 if check.field in columns else 1), 1
    return (0 if columns.get(check.field or "") in INTEGER_TYPES else 1), 1


def _result(check: Check, kind: CheckType, **values: object) -> CheckResult:
    return CheckResult(
        check_id=check.check_id,
        check_type=check.check_type,
        level=check.level,
        table=check.table,
        field=check.field,
        kahn_context=kind.kahn_context,
        kahn_category=kind.kahn_category,
        kahn_subcategory=kind.kahn_subcategory,
        severity=kind.severity,
        description=describe(check, kind),
        threshold=check.threshold,
        origin=check.origin,
        **values,
    )


def builders(catalogue: Catalogue) -> dict[str, Builder]:
    """The query builder of every check type the catalogue runs, from :data:`BUILDERS`
    (built-in or plug-in); an unknown type is a :class:`RegistryError` naming the known ones,
    raised before any query."""
    wanted = {c.check_type for c in catalogue.checks} - set(REFLECTED) - PROFILED
    return {name: BUILDERS.get(name) for name in sorted(wanted)}


def run_check(
    conn: Connection,
    check: Check,
    kind: CheckType,
    profile: Profile,
    today: date,
    builder: Builder | None = None,
) -> CheckResult:
    started = time.perf_counter()
    reason = not_applicable_reason(check, profile)
    if reason:
        return _result(check, kind, status=Status.NOT_APPLICABLE, detail=reason)
    try:
        if check.check_type in REFLECTED:
            violated, denominator = _reflected(check, profile)
        elif check.check_type in PROFILED:
            denominator = profile.rows[check.table]
            violated = denominator - profile.non_null[(check.table, check.field or "")]
        else:
            build = builder or BUILDERS.get(check.check_type)
            row = conn.execute(build(check, today)).one()
            violated, denominator = int(row.violated), int(row.denominator)
    except SQLAlchemyError as exc:
        conn.rollback()  # PostgreSQL refuses further statements in a failed transaction
        for_analytics(conn)  # the next transaction's settings
        cause = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0]
        return _result(check, kind, status=Status.ERROR, detail=cause[:500])
    elapsed = 1000 * (time.perf_counter() - started)
    if denominator == 0:
        return _result(
            check,
            kind,
            status=Status.NOT_APPLICABLE,
            detail="aucune ligne concernée",
            duration_ms=elapsed,
        )
    pct = 100.0 * violated / denominator
    return _result(
        check,
        kind,
        status=Status.FAILED if pct > check.threshold else Status.PASSED,
        num_violated=violated,
        num_denominator=denominator,
        pct_violated=pct,
        duration_ms=elapsed,
    )


def run_checks(
    wh: Warehouse,
    catalogue: Catalogue | None = None,
    *,
    today: date | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> QualityRun:
    """Run every check of ``catalogue`` (default: Hopia's) on ``wh``; read-only."""
    catalogue = catalogue or load_catalogue()
    queries = builders(catalogue)
    today = today or date.today()
    started = datetime.now()
    results = []
    with wh.engine.connect() as conn:
        for_analytics(conn)
        profile = profile_warehouse(conn, catalogue)
        for check in catalogue.checks:
            kind = catalogue.types[check.check_type]
            builder = queries.get(check.check_type)
            results.append(run_check(conn, check, kind, profile, today, builder))
            if on_progress:
                on_progress(1)
        conn.rollback()
    return QualityRun(
        started_at=started,
        finished_at=datetime.now(),
        dialect=wh.dialect,
        catalogue_version=catalogue.version,
        results=results,
    )

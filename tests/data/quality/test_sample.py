"""The whole catalogue on the sample warehouse (the synthetic CHU through the real ingest): what
Hopia's own ETL writes conforms to the CDM's structure, the violations found are the ones a plain
pandas recount finds, and DuckDB and PostgreSQL give the same results."""

from __future__ import annotations

from datetime import date

import pytest

from hopia.data.quality import Status, run_checks
from hopia.platform.warehouse import Warehouse
from tests.sample import frame

TODAY = date(2026, 12, 6)
STRUCTURE = {"cdmTable", "cdmField", "cdmDatatype", "isPrimaryKey", "isRequired"}


def _results(wh: Warehouse) -> dict[str, tuple[Status, int | None, int | None]]:
    run = run_checks(wh, today=TODAY)
    return {r.check_id: (r.status, r.num_violated, r.num_denominator) for r in run.results}


def test_ingest_output_conforms_and_violations_match_a_recount(sample: Warehouse) -> None:
    run = run_checks(sample, today=TODAY)
    assert {r.check_id: r.detail for r in run.results if r.status == Status.ERROR} == {}
    by_id = {r.check_id: r for r in run.results}
    structure = {r.check_id: r.status for r in run.results if r.check_type in STRUCTURE}
    assert len(structure) > 500
    assert set(structure.values()) <= {Status.PASSED, Status.NOT_APPLICABLE}

    person, concept = frame(sample, "person"), frame(sample, "concept").set_index("concept_id")
    standard = set(
        concept.index[(concept["standard_concept"] == "S") & concept["invalid_reason"].isna()]
    )
    for table, column in [
        ("condition_occurrence", "condition_concept_id"),
        ("drug_exposure", "drug_concept_id"),
        ("measurement", "measurement_concept_id"),
    ]:
        values = frame(sample, table)[column]
        result = by_id[f"isStandardValidConcept:{table}.{column}"]
        not_standard = int((values.ne(0) & ~values.isin(standard)).sum())
        assert (result.num_violated, result.num_denominator) == (not_standard, len(values))
    for table in ("observation_period", "drug_era", "condition_era", "visit_occurrence"):
        present = set(frame(sample, table)["person_id"])
        result = by_id[f"measurePersonCompleteness:{table}"]
        assert result.num_violated == int((~person["person_id"].isin(present)).sum()), table
    note = frame(sample, "note")
    orphans = int((~note["person_id"].isin(person["person_id"])).sum())
    assert by_id["isForeignKey:note.person_id"].num_violated == orphans


@pytest.mark.postgres
def test_duckdb_and_postgres_give_the_same_results(
    sample_duckdb: Warehouse, sample_postgres: Warehouse
) -> None:
    assert _results(sample_duckdb) == _results(sample_postgres)

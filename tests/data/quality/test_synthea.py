"""The catalogue on the Synthea27Nj OMOP fixture (../shared), loaded with Hopia's OMOP loader."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from hopia.data.omop.load_csv import load_omop
from hopia.data.quality import Status, run_checks
from hopia.data.quality.enrichment import enrichment_report
from hopia.platform.warehouse import Warehouse
from tests.conftest import shared_path
from tests.data.quality.builders import TODAY

# 14 MB of vocabulary relationships that no plausibility check reads: loading them takes
# minutes on a 2-core machine. docs/quality.md gives the figures of a full load.
SKIPPED = {"CONCEPT_RELATIONSHIP.csv"}


def _extract(archive: Path, folder: Path) -> Path:
    folder.mkdir()
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            name = Path(info.filename).name
            if name.endswith(".csv") and "__MACOSX" not in info.filename and name not in SKIPPED:
                (folder / name).write_bytes(zf.read(info))
    return folder


@pytest.mark.shared
@pytest.mark.slow  # loading Synthea27Nj and 1,500 checks: ~4 s
def test_quality_run_on_synthea(tmp_path: Path) -> None:
    folder = _extract(shared_path("omop", "Synthea27Nj_5.4.zip"), tmp_path / "synthea")
    wh = Warehouse(f"duckdb:///{tmp_path / 'synthea.duckdb'}")
    load_omop(wh, folder)
    run = run_checks(wh, today=TODAY)
    enrichment = enrichment_report(wh)
    wh.close()

    assert {r.check_id: r.detail for r in run.results if r.status == Status.ERROR} == {}
    status = {r.check_id: r.status for r in run.results}
    executed = sum(1 for s in status.values() if s in {Status.PASSED, Status.FAILED})
    assert executed > 1400
    # What the fixture gets right...
    for check_id in (
        "measurePersonCompleteness:observation_period",
        "measureObservationPeriodOverlap:observation_period",
        "plausibleAfterBirth:condition_occurrence.condition_start_date",
        "plausibleStartBeforeEnd:visit_occurrence.visit_start_date",
        "withinVisitDates:measurement.measurement_date",
        "isForeignKey:condition_occurrence.person_id",
        "plausibleValueHigh:measurement.measurement_concept_id:3025315:unit=9529",
    ):
        assert status[check_id] == Status.PASSED, check_id
    # ...and what it does not: a partial CONCEPT.csv (no gender or type concepts), no eras,
    # a few lab units outside DQD's lists.
    for check_id in (
        "isForeignKey:person.gender_concept_id",
        "isForeignKey:condition_occurrence.condition_type_concept_id",
        "measurePersonCompleteness:drug_era",
        "plausibleUnitConceptIds:measurement.measurement_concept_id:3013721",
    ):
        assert status[check_id] == Status.FAILED, check_id
    assert status["plausibleGender:condition_occurrence.condition_concept_id:cim10=O"] == (
        Status.NOT_APPLICABLE
    )
    # No NLP in this fixture: every fact is structured.
    assert enrichment.persons == 28
    assert enrichment.domains[0].structured_rows == 470
    assert enrichment.condition_pairs_text == 0

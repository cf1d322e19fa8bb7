"""The shipped Synthea example on the Synthea27Nj OMOP set (SNOMED/RxNorm/LOINC concept ids),
loaded with ``load_omop``, checked against the same cohort computed in pandas from the CSVs."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from hopia.data.cohorts import load_definition, run_cohort
from hopia.data.omop.load_csv import load_omop
from hopia.platform.warehouse import Warehouse
from tests.conftest import REPO, shared_path

pytestmark = pytest.mark.shared

# The tables the cohort reads (the 266,000 concept relationships are not needed).
TABLES = [
    "PERSON",
    "CONCEPT",
    "VISIT_OCCURRENCE",
    "CONDITION_OCCURRENCE",
    "DRUG_EXPOSURE",
    "MEASUREMENT",
    "CARE_SITE",
]


def _subset(archive: Path, folder: Path) -> dict[str, pd.DataFrame]:
    folder.mkdir()
    frames = {}
    with zipfile.ZipFile(archive) as z:
        for name in TABLES:
            content = z.read(f"{name}.csv")
            (folder / f"{name}.csv").write_bytes(content)
            frames[name] = pd.read_csv(io.BytesIO(content))
    return frames


def _expected(f: dict[str, pd.DataFrame]) -> list[int]:
    """Attrition of configs/cohorts/synthea_sinusite_virale.yaml, in plain pandas."""
    co = f["CONDITION_OCCURRENCE"].assign(d=lambda x: pd.to_datetime(x.condition_start_date))
    index = co[co.condition_concept_id == 40481087].groupby("person_id").d.min().rename("i")
    person = f["PERSON"].set_index("person_id").join(index, how="inner")
    birth_md = person.month_of_birth.fillna(1) * 100 + person.day_of_birth.fillna(1)
    ref_md = person.i.dt.month * 100 + person.i.dt.day
    age = person.i.dt.year - person.year_of_birth - (ref_md < birth_md).astype(int)
    adults = set(person.index[age >= 18])

    def within(frame: pd.DataFrame, date_col: str, lo: int, hi: int) -> set[int]:
        x = frame.join(index, on="person_id", how="inner")
        offset = (pd.to_datetime(x[date_col]) - x.i).dt.days
        return set(x.person_id[(offset >= lo) & (offset <= hi)])

    de = f["DRUG_EXPOSURE"]
    treated = within(de[de.drug_concept_id == 1713671], "drug_exposure_start_date", 0, 14)
    m = f["MEASUREMENT"]
    weighed = within(
        m[(m.measurement_source_value == "29463-7") & (m.value_as_number > 0)],
        "measurement_date",
        -365,
        365,
    )
    pharyngitis = within(co[co.condition_concept_id == 4112343], "condition_start_date", -365, -1)
    steps = [len(f["PERSON"]), len(index), len(adults)]
    steps.append(len(adults & treated))
    steps.append(len(adults & treated & weighed))
    steps.append(len((adults & treated & weighed) - pharyngitis))
    return steps


def test_synthea_cohort_matches_pandas(tmp_path: Path) -> None:
    archive = shared_path("omop", "Synthea27Nj_5.4.zip")
    frames = _subset(archive, tmp_path / "synthea")
    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    load_omop(wh, tmp_path / "synthea")
    definition = load_definition(REPO / "configs" / "cohorts" / "synthea_sinusite_virale.yaml")
    result = run_cohort(wh, definition)
    wh.close()
    counts = [s.count for s in result.attrition]
    assert counts == _expected(frames)
    assert counts[0] == 28 and counts[1] > 10 and counts[-1] >= 1  # a real, non-empty cohort
    public = result.public()
    # small counts hidden ("<10"), and the cells that would give them away ("*", "n.p.")
    assert all(s["count"] in ("<10", "*", "n.p.") or s["count"] >= 10 for s in public["attrition"])
    # Characterisation names SNOMED / RxNorm concepts from the loaded vocabulary.
    drugs = result.characterisation.top["drugs"]
    assert any(i.vocabulary == "RxNorm" and i.concept_id == 1713671 for i in drugs)

"""Exports of the sample warehouse (the synthetic CHU through the real ingest), on DuckDB and
PostgreSQL. At k = 1 nothing is generalised or dropped, so an export must carry every row of the
selected persons: the expected counts are the tables' own, counted with plain SQL."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd

from hopia.data.omop.load_csv import load_omop
from hopia.data.sharing.anonymity import plan
from hopia.data.sharing.export_omop import read_omop, write_omop
from hopia.data.sharing.extract import extract
from hopia.data.sharing.prepare import prepare
from hopia.data.sharing.quasi import population
from hopia.platform.warehouse import Warehouse
from hopia.platform.warehouse.schema import CLINICAL_TABLES
from tests.sample import frame

SECRET = b"sharing-test-secret-0123456789ab"
REFERENCE = date(2026, 12, 6)


def _prepared(wh: Warehouse) -> tuple[list[int], dict[str, int], object]:
    persons = sorted(frame(wh, "person")["person_id"])
    counts = {}
    for name in CLINICAL_TABLES:
        table = frame(wh, name)
        counts[name] = int(table["person_id"].isin(persons).sum())
    data = extract(wh, persons)
    dataset = prepare(data, plan(population(data, REFERENCE.year), k=1, l=1), SECRET)
    return persons, counts, dataset


def test_export_round_trips_through_csv_parquet_and_a_cdm_warehouse(
    sample: Warehouse, tmp_path: Path
) -> None:
    persons, counts, dataset = _prepared(sample)
    write_omop(dataset, tmp_path / "csv", "omop-csv")
    write_omop(dataset, tmp_path / "pq", "omop-parquet")
    csv, parquet = (
        read_omop(tmp_path / "csv", "omop-csv"),
        read_omop(tmp_path / "pq", "omop-parquet"),
    )
    assert csv.keys() == parquet.keys()
    for name in csv:
        pd.testing.assert_frame_equal(csv[name], parquet[name], check_dtype=False)
    # Every row of the selected persons leaves (k = 1), under fresh person ids.
    for name in CLINICAL_TABLES:
        assert len(csv[name]) == counts[name], name
    assert counts["condition_occurrence"] > 100 and counts["measurement"] > 100
    assert not set(csv["person"]["person_id"]) & set(persons)
    # ...and loads back into an empty CDM warehouse as it is.
    target = Warehouse(f"duckdb:///{tmp_path / 'recipient.duckdb'}")
    report = load_omop(target, tmp_path / "csv")
    target.close()
    assert {name: report.loaded[name] for name in csv if len(csv[name])} == {
        name: len(table) for name, table in csv.items() if len(table)
    }


def test_no_identity_of_the_identified_space_leaves(sample: Warehouse, tmp_path: Path) -> None:
    _, _, dataset = _prepared(sample)
    write_omop(dataset, tmp_path / "csv", "omop-csv")
    text = "\n".join(p.read_text("utf-8") for p in (tmp_path / "csv").glob("*.csv"))
    identities = frame(sample, "patient", schema="hopia_id")
    secrets = set()
    for column in ("ipp", "family_name", "given_name", "nir", "address", "phone", "email"):
        secrets |= {str(v) for v in identities[column].dropna() if len(str(v)) >= 4}
    assert len(secrets) > 60  # names, IPPs, addresses… of the 30 patients
    found = {s for s in secrets if s in text}  # then as whole words: "Rose" is not in "Rosel"
    leaked = {s for s in found if re.search(rf"(?<!\w){re.escape(s)}(?!\w)", text)}
    assert leaked == set()

"""Indicators read from a warehouse (DuckDB and PostgreSQL) against pandas on the generated
frames, and every published table attacked."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from hopia.management.steering import TOTAL, attack, compute, main_chapters, read_stays, trend
from hopia.platform.warehouse import Warehouse
from tests.management.steering import data

FIRST, LAST = date(2024, 1, 1), date(2025, 6, 30)
K = 10


@pytest.fixture(scope="module")
def result(hospital_wh: Warehouse):
    with hospital_wh.begin() as conn:
        stays = read_stays(conn, FIRST, LAST)
        mains = main_chapters(conn, FIRST, LAST)
    return compute(stays, mains, FIRST, LAST, K)


def _inpatient(hospital: dict[str, pd.DataFrame]) -> pd.DataFrame:
    v = hospital["visit_occurrence"]
    v = v[v["visit_concept_id"] != data.OUTPATIENT].copy()
    v["start"] = pd.to_datetime(v["visit_start_date"])
    v["end"] = pd.to_datetime(v["visit_end_date"])
    return v


def test_admissions_and_discharges_match_pandas(result, hospital) -> None:
    v = _inpatient(hospital)
    window = (v["start"] >= pd.Timestamp(FIRST)) & (v["start"] <= pd.Timestamp(LAST))
    expected = v[window].groupby(["care_site_id", v["start"].dt.to_period("M").astype(str)]).size()
    published = 0
    for (site, month), n in expected.items():
        cell = result.admissions.published(site, month)
        if cell is not None:
            assert cell == n
            published += 1
        else:
            assert result.admissions.cells.at[site, month] in (f"<{K}", "*")
    assert published > 40  # most of the big services' months are published
    assert result.admissions.published(TOTAL, TOTAL) == int(window.sum())
    out = (v["end"] >= pd.Timestamp(FIRST)) & (v["end"] <= pd.Timestamp(LAST))
    assert result.discharges.counts.at[TOTAL, TOTAL] == int(out.sum())


def test_length_of_stay_of_a_published_cell(result, hospital) -> None:
    v = _inpatient(hospital)
    cardio = v[(v["care_site_id"] == 1) & (v["end"].dt.to_period("M").astype(str) == "2024-03")]
    los = (cardio["end"] - cardio["start"]).dt.days
    row = result.tables["indicateurs"]
    line = row[(row["service"] == "Cardiologie") & (row["mois"] == "2024-03")].iloc[0]
    assert line["sorties"] == len(cardio)
    assert line["DMS (j)"] == round(los.mean(), 1)
    assert line["durée médiane (j)"] == round(los.median(), 1)
    assert line["durée P90 (j)"] == round(float(np.percentile(los, 90)), 1)
    # No length of stay where the discharges are hidden.
    hidden = row[row["sorties"].map(lambda x: isinstance(x, str))]
    assert len(hidden) and (hidden["DMS (j)"] == "n.d.").all()


def test_readmissions_follow_the_documented_definition(result, hospital) -> None:
    v = _inpatient(hospital).reset_index(drop=True)
    pairs = v.reset_index().merge(v, on="person_id", suffixes=("", "_p"))
    gap = (pairs["start"] - pairs["end_p"]).dt.days
    hit = (pairs["start_p"] < pairs["start"]) & gap.between(1, 30)
    readmitted = v.index.isin(pairs.loc[hit, "index"])
    window = (v["start"] >= pd.Timestamp(FIRST)) & (v["start"] <= pd.Timestamp(LAST))
    assert result.readmissions.counts.at[TOTAL, TOTAL] == int((readmitted & window).sum())
    assert result.readmissions.published(TOTAL, TOTAL) == int((readmitted & window).sum())


def test_case_mix_uses_the_main_diagnosis_not_the_history(result, hospital) -> None:
    from hopia.management.steering.chapters import chapter

    v = _inpatient(hospital)
    window = v[(v["start"] >= pd.Timestamp(FIRST)) & (v["start"] <= pd.Timestamp(LAST))]
    main = hospital["_main"].set_index("visit_occurrence_id")["code"].map(chapter)
    expected = window["visit_occurrence_id"].map(main).fillna("-").value_counts()
    counts = result.case_mix.counts
    for number, n in expected.items():
        assert counts.at[number, TOTAL] == n
    mix = result.tables["casemix"]
    assert mix.loc[mix["chapitre"] == "IX", "libellé"].item().startswith("Maladies de l'app")


@pytest.mark.parametrize("name", ["admissions", "discharges", "readmissions", "case_mix"])
def test_no_published_table_gives_a_small_cell_back(result, name: str) -> None:
    protected = getattr(result, name)
    assert protected.residual == []
    ranges = attack(protected.cells, K)
    assert ranges, "the synthetic hospital has small cells"
    assert all(hi - lo >= 0.5 for lo, hi in ranges.values())


def test_case_mix_service_totals_are_the_admissions_totals(result) -> None:
    for site in result.sites:
        assert result.case_mix.cells.at[TOTAL, site] == result.admissions.cells.at[site, TOTAL]


def test_trends_only_between_published_counts(result) -> None:
    mom = result.tables["evolution_mensuelle"].set_index("service")
    yoy = result.tables["evolution_annuelle"].set_index("service")
    adm = result.admissions
    assert (mom["2024-01"] == "n.d.").all()  # no previous month in the window
    assert (yoy["2024-12"] == "n.d.").all() and (yoy["2025-01"] != "n.d.").any()
    for site, name in [*result.sites.items(), (TOTAL, TOTAL)]:
        for i, m in enumerate(result.months[1:], start=1):
            now, before = adm.published(site, m), adm.published(site, result.months[i - 1])
            assert mom.at[name, m] == trend(now, before)
            if now is None or before is None:
                assert mom.at[name, m] == "n.d."
    assert trend(112, 100) == "↑ +12 %" and trend(92, 100) == "↓ -8 %"
    assert trend(101, 100) == "→ +1 %" and trend(5, None) == "n.d."


def test_one_service(hospital_wh: Warehouse) -> None:
    with hospital_wh.begin() as conn:
        stays = read_stays(conn, FIRST, LAST)
        mains = main_chapters(conn, FIRST, LAST)
    one = compute(stays, mains, FIRST, LAST, K, site=2)
    assert list(one.sites) == [2]
    assert one.tables["entrees"]["service"].tolist() == ["Pneumologie", TOTAL]

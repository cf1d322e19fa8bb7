"""``hopia.services.forecasts.admissions`` over the synthetic hospital of
``tests/management/steering/data.py``: the daily series read from the warehouse, the small-cell
rule on the actuals, one audit entry per read, and a forecast that only sees the days before its
origin. Expected counts come from the generator's frames with pandas."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from hopia.platform.exceptions import InvalidRequestError, NotFoundError
from hopia.platform.warehouse import Warehouse, schema
from hopia.services import forecasts
from hopia.services.context import Context
from tests import sample as sample_module
from tests.conftest import TEST_AUDIT_KEY
from tests.management.steering import data
from tests.web.conftest import settings_for

ORIGIN = date(2025, 3, 1)


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return data.frames()


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory, frames) -> Iterator[Context]:
    folder: Path = tmp_path_factory.mktemp("admissions")
    wh = Warehouse(f"duckdb:///{folder / 'w.duckdb'}")
    data.fill(wh, frames)
    sample_module.anchor_audit(wh, folder / "home" / "audit", TEST_AUDIT_KEY)
    context = Context.local(settings_for(folder / "home"), "test")
    context._warehouse, context._owns_warehouse = wh, False
    yield context
    wh.close()


def _expected(frames: dict[str, pd.DataFrame], site: int | None, first: date, last: date):
    v = frames["visit_occurrence"]
    v = v[v["visit_concept_id"].isin([data.INPATIENT, data.ER_INPATIENT])]
    if site is not None:
        v = v[v["care_site_id"] == site]
    days = pd.to_datetime(v["visit_start_date"])
    counts = days.value_counts()
    return counts.reindex(pd.date_range(first, last, freq="D"), fill_value=0)


def _audits(ctx: Context) -> int:
    with ctx.warehouse().engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM hopia_meta.audit_log WHERE action = 'forecast.admissions'")
        ).scalar_one()


@pytest.mark.parametrize("site", [None, 1, 5])
def test_actuals_are_the_warehouse_counts_with_small_cells_masked(ctx, frames, site) -> None:
    result = forecasts.admissions(
        ctx, forecasts.AdmissionsRequest.of(service=site, days=7, origin=ORIGIN)
    )
    first = ORIGIN - timedelta(days=forecasts.ACTUAL_DAYS)
    expected = _expected(frames, site, first, ORIGIN - timedelta(days=1))
    assert [a.day for a in result.actuals] == [d.date() for d in expected.index]
    k = result.small_cell
    assert k == 10
    shown = [int(n) if n == 0 or n >= k else f"<{k}" for n in expected]
    assert [a.admissions for a in result.actuals] == shown
    assert result.origin == ORIGIN and result.history_first == data.FIRST
    assert result.history_days == (ORIGIN - data.FIRST).days
    assert result.service == ("Tout l'hôpital" if site is None else data.SITES[site][0])
    assert [s.name for s in result.services][:2] == ["Tout l'hôpital", "Cardiologie"]


def test_quantiles_cover_the_levels_without_crossing(ctx) -> None:
    result = forecasts.admissions(ctx, forecasts.AdmissionsRequest.of(days=28))
    assert result.origin == data.LAST  # the day of the latest admission, forecast not used
    assert len(result.forecast) == 28 and result.forecast[0].day == data.LAST
    assert result.levels == pytest.approx(np.arange(1, 20) * 0.05)
    for f in result.forecast:
        assert len(f.values) == 19 and f.values == sorted(f.values) and f.values[0] >= 0
        assert f.p05 <= f.p25 <= f.p50 <= f.p75 <= f.p95
        assert (f.p05, f.p50, f.p95) == (f.values[0], f.values[9], f.values[18])
    # about 7.6 admissions a day on average, fewer at weekends: a plausible median
    medians = [f.p50 for f in result.forecast]
    assert 3 < np.mean(medians) < 12
    weekend = [f.p50 for f in result.forecast if f.day.weekday() >= 5]
    weekday = [f.p50 for f in result.forecast if f.day.weekday() < 5]
    assert max(weekend) < min(weekday)


def test_one_audit_entry_per_read(ctx) -> None:
    before = _audits(ctx)
    forecasts.admissions(ctx, forecasts.AdmissionsRequest.of(service=2, days=3))
    assert _audits(ctx) == before + 1
    with ctx.warehouse().engine.connect() as conn:
        details = conn.execute(
            text(
                "SELECT details FROM hopia_meta.audit_log WHERE action = 'forecast.admissions' "
                "ORDER BY audit_id DESC LIMIT 1"
            )
        ).scalar_one()
    found = json.loads(details) if isinstance(details, str) else details
    assert found == {
        "origin": "2025-06-30",
        "days": 3,
        "service": 2,
        "model": "negbin",
        "window_days": forecasts.HISTORY_DAYS,
    }


def test_admissions_after_the_origin_change_nothing(ctx, frames) -> None:
    request = forecasts.AdmissionsRequest.of(service=1, days=14, origin=ORIGIN)
    first = forecasts.admissions(ctx, request)
    visits = schema.CDM["visit_occurrence"]
    wh = ctx.warehouse()

    def add(day: date, n: int, start_id: int) -> None:
        rows = pd.DataFrame(
            {
                "visit_occurrence_id": np.arange(start_id, start_id + n),
                "person_id": 1,
                "visit_concept_id": data.INPATIENT,
                "visit_start_date": day,
                "visit_end_date": day + timedelta(days=2),
                "visit_type_concept_id": 32817,
                "care_site_id": 1,
            }
        )
        with wh.begin() as conn:
            wh.insert_frame(conn, visits, rows)

    try:
        add(ORIGIN, 40, 9_000_000)
        add(ORIGIN + timedelta(days=10), 40, 9_000_100)
        after = forecasts.admissions(ctx, request)
        assert after.forecast == first.forecast and after.actuals == first.actuals
        # ... while the same admissions the day before the origin do change it
        add(ORIGIN - timedelta(days=1), 40, 9_000_200)
        before = forecasts.admissions(ctx, request)
        eve = ORIGIN - timedelta(days=1)
        assert before.actuals[-1].admissions == _expected(frames, 1, eve, eve).iloc[0] + 40
        assert before.forecast != first.forecast
    finally:
        with wh.begin() as conn:
            conn.execute(visits.delete().where(visits.c.visit_occurrence_id >= 9_000_000))


def test_bad_requests_are_refused_in_french(ctx) -> None:
    with pytest.raises(InvalidRequestError, match="days"):
        forecasts.AdmissionsRequest.of(days=0)
    with pytest.raises(InvalidRequestError, match="days"):
        forecasts.AdmissionsRequest.of(days=91)
    with pytest.raises(InvalidRequestError, match="modèle inconnu"):
        forecasts.admissions(ctx, forecasts.AdmissionsRequest.of(model="prophet"))
    with pytest.raises(NotFoundError, match="service inconnu"):
        forecasts.admissions(ctx, forecasts.AdmissionsRequest.of(service=99))
    with pytest.raises(NotFoundError, match="aucune entrée"):
        forecasts.admissions(ctx, forecasts.AdmissionsRequest.of(origin=date(2020, 1, 1)))
    with pytest.raises(NotFoundError, match="historique trop court"):
        forecasts.admissions(
            ctx, forecasts.AdmissionsRequest.of(origin=data.FIRST + timedelta(days=10))
        )


def test_downloads_are_the_tables(ctx) -> None:
    result = forecasts.admissions(ctx, forecasts.AdmissionsRequest.of(service=3, days=5))
    table = pd.read_csv(
        io.BytesIO(forecasts.download(result, "csv")), sep=";", encoding="utf-8-sig"
    )
    assert list(table.columns) == ["service", "jour", "P5", "P25", "P50", "P75", "P95"]
    assert len(table) == 5 and (table["service"] == "Gériatrie").all()
    observed = pd.read_excel(
        io.BytesIO(forecasts.download(result, "xlsx", "observe")), sheet_name=None
    )
    assert list(observed) == ["Entrées observées"]
    assert len(observed["Entrées observées"]) == forecasts.ACTUAL_DAYS
    with pytest.raises(InvalidRequestError):
        forecasts.download(result, "pdf")  # type: ignore[arg-type]

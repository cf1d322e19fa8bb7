"""``/pilotage/lits`` and ``/api/v1/beds`` over the synthetic hospital: the forecast table, its
fans and downloads for managers; other roles refused."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install 'hopia[web]')")

from sqlalchemy import text  # noqa: E402

from tests.web.conftest import Web  # noqa: E402
from tests.web.management import management_site  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    made = management_site(tmp_path_factory.mktemp("beds-web"))
    yield made
    made.warehouse.close()


def test_page_table_fans_and_downloads(site: Web) -> None:
    client = site.clients["manager"]
    page = client.get("/pilotage/lits?jours=7")
    assert page.status_code == 200, page.text
    html = page.text
    assert html.count('<svg class="eventail"') == 5  # one fan per service
    assert "Cardiologie" in html and "30/06/2025" in html  # origin: the last admission day
    assert "<script" not in html and "style=" not in html
    assert 'href="/pilotage/lits.csv?jours=7"' in html
    csv = client.get("/pilotage/lits.csv?jours=7&service=2")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "service;jour;P50;P80;P95;capacité;dépassement P95"
    assert len(lines) == 1 + 7 and all(line.startswith("Pneumologie;") for line in lines[1:])
    xlsx = client.get("/pilotage/lits.xlsx?jours=3")
    from openpyxl import load_workbook

    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames == ["Besoins en lits"]


def test_api_forecast_backtest_and_audit(site: Web) -> None:
    client = site.clients["manager"]
    answer = client.get("/api/v1/beds/forecast", params={"site": 1, "days": 5, "paths": 200})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["origin"] == "2025-06-30" and len(body["needs"]) == 5
    assert all(n["p50"] <= n["p80"] <= n["p95"] for n in body["needs"])
    bt = client.get(
        "/api/v1/beds/backtest", params={"site": 1, "days": 7, "span": 28, "paths": 100}
    )
    assert bt.status_code == 200, bt.text
    methods = {s["method"] for s in bt.json()["scores"]}
    assert methods == {"monte-carlo", "naïf"} and bt.json()["origins"] == 4
    with site.warehouse.engine.connect() as conn:
        actions = {
            r.action
            for r in conn.execute(
                text("SELECT action FROM hopia_meta.audit_log WHERE actor = 'manager.test'")
            )
        }
    assert {"beds.forecast", "beds.backtest"} <= actions


def test_refusals_and_bad_requests(site: Web) -> None:
    assert site.clients["researcher"].get("/api/v1/beds/forecast").status_code == 403
    assert site.clients["researcher"].get("/pilotage/lits").status_code == 403
    client = site.clients["manager"]
    assert client.get("/api/v1/beds/forecast?site=99").status_code == 404
    assert client.get("/api/v1/beds/forecast?days=0").status_code == 422
    assert client.get("/pilotage/lits.pdf").status_code == 404
    # dates the arithmetic cannot hold, a backtest too heavy for a web request
    assert client.get("/api/v1/beds/forecast?origin=0001-01-01").status_code == 422
    assert client.get("/api/v1/beds/backtest?paths=20000").status_code == 422
    early = client.get("/api/v1/beds/forecast", params={"origin": "1950-01-01", "paths": 100})
    assert early.status_code == 404  # nothing admitted before it

"""``/pilotage/activite`` and ``/api/v1/steering/indicators`` over the synthetic hospital of
``tests/management/steering/data.py`` (its own small DuckDB warehouse: no sample build):
managers see the protected tables and download them, other roles are refused."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install 'hopia[web]')")

from sqlalchemy import text  # noqa: E402

from tests.web.conftest import Web  # noqa: E402
from tests.web.management import management_site  # noqa: E402

WINDOW = "du=2024-07&au=2025-06"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    made = management_site(tmp_path_factory.mktemp("steering-web"))
    yield made
    made.warehouse.close()


def test_the_page_shows_protected_tables_with_downloads(site: Web) -> None:
    page = site.clients["manager"].get(f"/pilotage/activite?{WINDOW}")
    assert page.status_code == 200, page.text
    html = page.text
    assert "Pilotage de l&#39;activité" in html or "Pilotage de l'activité" in html
    assert "Cardiologie" in html and "&lt;10" in html  # the tiny service is hidden
    for name in ("entrees", "sorties", "dms", "taux_readmission", "casemix", "indicateurs"):
        assert f'href="/pilotage/activite/{name}.csv?{WINDOW}"' in html.replace("&amp;", "&")
        assert f"/pilotage/activite/{name}.xlsx" in html
    assert "↑" in html or "↓" in html  # trends in words
    assert "<script" not in html and "style=" not in html
    assert '<a href="/pilotage" aria-current="page">' in html  # under "Pilotage"


def test_downloads(site: Web) -> None:
    client = site.clients["manager"]
    csv = client.get(f"/pilotage/activite/entrees.csv?{WINDOW}")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    body = csv.content.decode("utf-8-sig")
    assert body.splitlines()[0].startswith("service;2024-07;2024-08")
    assert "Unité de sommeil;<10" in body
    xlsx = client.get(f"/pilotage/activite.xlsx?{WINDOW}")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(xlsx.content))
    assert len(book.sheetnames) == 9
    assert client.get(f"/pilotage/activite/inconnu.csv?{WINDOW}").status_code == 404


def test_api_and_audit(site: Web) -> None:
    answer = site.clients["manager"].get(
        "/api/v1/steering/indicators", params={"first": "2024-07-01", "last": "2025-06-30"}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["small_cell"] == 10 and len(body["months"]) == 12
    entrees = next(t for t in body["tables"] if t["name"] == "entrees")
    total = next(r for r in entrees["rows"] if r[0] == "Total")
    with site.warehouse.engine.connect() as conn:
        expected = conn.execute(
            text(
                "SELECT count(*) FROM omop.visit_occurrence WHERE visit_concept_id IN (9201, 262)"
                " AND visit_start_date BETWEEN '2024-07-01' AND '2025-06-30'"
            )
        ).scalar()
        entries = conn.execute(
            text(
                "SELECT actor, details FROM hopia_meta.audit_log"
                " WHERE action = 'steering.indicators'"
            )
        ).all()
    assert total[-1] == expected
    assert entries and entries[-1].actor == "manager.test"
    assert '"2024-07-01"' in entries[-1].details


def test_other_roles_are_refused(site: Web) -> None:
    assert site.clients["researcher"].get("/api/v1/steering/indicators").status_code == 403
    assert site.clients["researcher"].get("/pilotage/activite").status_code == 403
    assert site.anon.get("/pilotage/activite", follow_redirects=False).status_code == 303


def test_bad_windows(site: Web) -> None:
    client = site.clients["manager"]
    assert client.get("/pilotage/activite?du=2025-06&au=2024-01").status_code == 422
    assert client.get("/api/v1/steering/indicators?site=99").status_code == 404
    assert client.get("/pilotage/activite?du=2025-13-01").status_code == 422
    assert client.get("/api/v1/steering/indicators?first=0001-01-01").status_code == 422
    too_long = client.get("/api/v1/steering/indicators?first=2015-01-01&last=2025-06-30")
    assert too_long.status_code == 422 and "trop longue" in too_long.json()["message"]
    empty = client.get("/api/v1/steering/indicators?first=1990-01-01&last=1990-12-31")
    assert empty.status_code == 200  # a window without stays: zeros, nothing to hide

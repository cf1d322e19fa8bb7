"""The carbon page ``/pilotage/carbone`` and ``/api/v1/carbon``: the manager sees the totals by
scope (SVG), the posts with their uncertainty, a chosen scenario's delta, the factors with their
sources, and downloads each table as CSV and XLSX; other roles are refused; a scenario that is
not a shipped one is no choice (never a file read)."""

from __future__ import annotations

import html
import io
import re

import pandas as pd
import pytest

from hopia.management import carbon as lib
from tests.web.conftest import Web
from tests.web.test_ui_pages import _check_page


def test_the_manager_reads_the_footprint_page(web: Web) -> None:
    manager = web.clients["manager"]
    answer = manager.get("/pilotage/carbone")
    assert answer.status_code == 200, answer.text[:500]
    page = html.unescape(answer.text)
    _check_page(answer.text)
    assert '<svg class="barres"' in page and 'class="incertitude"' in page
    assert "Calcul : assistant IA (Hopia)" in page
    table = lib.load_factors()
    expected = lib.build_report(table, "ar5", lib.load_inventory(table, lib.example_inventory()))
    total = re.search(r'class="total-carbone">([^<]+) tCO2e', page)
    assert total is not None
    assert float(total.group(1).replace("\u202f", "").replace(",", ".")) == pytest.approx(
        expected.baseline.total_t,
        abs=1,  # plus the compute line's few grams
    )
    assert "Sulbaek Andersen" in page and "Base Empreinte" in page  # the sources shown
    assert 'href="/pilotage/carbone/postes.csv"' in page
    assert '<a href="/pilotage" aria-current="page">' in page  # under "Pilotage"


def test_a_scenario_and_the_downloads(web: Web) -> None:
    manager = web.clients["manager"]
    page = html.unescape(
        manager.get("/pilotage/carbone?scenario=sortie-desflurane&methode=ar6").text
    )
    assert "Scénario : Sortie du desflurane" in page and "ecart-scenario" in page
    assert 'href="/pilotage/carbone/scenario.xlsx?scenario=sortie-desflurane&methode=ar6"' in page
    csv = manager.get("/pilotage/carbone/scenario.csv?scenario=sortie-desflurane&methode=ar6")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "carbone-scenario-ar6-sortie-desflurane.csv" in csv.headers["content-disposition"]
    frame = pd.read_csv(io.BytesIO(csv.content), sep=";", encoding="utf-8-sig")
    assert frame["Écart (tCO2e)"].iloc[-1] < 0
    book = manager.get("/pilotage/carbone/rapport.xlsx?scenario=sortie-desflurane")
    assert book.status_code == 200 and book.content[:2] == b"PK"
    assert "Facteurs" in pd.read_excel(io.BytesIO(book.content), sheet_name=None)
    assert manager.get("/pilotage/carbone/scenario.csv").status_code == 422  # no scenario chosen


def test_a_scenario_is_never_a_path(web: Web) -> None:
    manager = web.clients["manager"]
    page = manager.get("/pilotage/carbone?scenario=/etc/passwd")
    assert page.status_code == 200 and "Scénario :" not in html.unescape(page.text)
    assert manager.get("/api/v1/carbon/report?scenario=/etc/passwd").status_code == 422


def test_the_api_and_who_may_read(web: Web) -> None:
    answer = web.clients["manager"].get("/api/v1/carbon/report?scenario=gaz-moins-20")
    assert answer.status_code == 200
    body = answer.json()
    assert body["scenario"] == "gaz-moins-20" and body["delta_t"] < 0
    assert {s["scope"] for s in body["scopes"]} == {1, 2, 3}
    factors = web.clients["manager"].get("/api/v1/carbon/factors?method=ar6").json()
    assert all(f["source"] and f["year"] for f in factors["factors"])
    for role in ("clinician", "researcher"):
        assert web.clients[role].get("/pilotage/carbone").status_code == 403
        assert web.clients[role].get("/api/v1/carbon/report").status_code == 403

"""``/pilotage/stock``: the manager's stock page (alerts, policy by ABC × VEN, downloads), the
API, and who may see them."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from hopia.management.stock import synth
from tests.web.conftest import Web
from tests.web.test_ui_pages import _check_page


def test_the_page_says_where_to_put_the_files_then_shows_them(web: Web) -> None:
    manager = web.clients["manager"]
    folder = Path(web.settings.home) / "management" / "stock"
    empty = manager.get("/pilotage/stock")
    assert empty.status_code == 200 and "hopia stock synth --out" in empty.text
    _check_page(empty.text)

    synth.generate(25, seed=2, days=200).write(folder)
    page = manager.get("/pilotage/stock")
    assert page.status_code == 200, page.text[:300]
    _check_page(page.text)
    assert "Alertes" in page.text and "classe ABC × VEN" in page.text
    assert '<a href="/pilotage" aria-current="page">' in page.text  # under "Pilotage"
    for name in ("alertes", "classes", "politique", "stock"):
        assert f'href="/pilotage/stock/{name}.csv"' in page.text
        assert f'href="/pilotage/stock/{name}.xlsx"' in page.text

    policy = manager.get("/pilotage/stock/politique.csv")
    assert policy.status_code == 200 and policy.headers["content-type"].startswith("text/csv")
    frame = pd.read_csv(io.BytesIO(policy.content), sep=";", encoding="utf-8-sig")
    assert len(frame) == 25 and "point de commande" in frame.columns
    sheets = pd.read_excel(io.BytesIO(manager.get("/pilotage/stock/classes.xlsx").content), None)
    assert len(sheets["classes ABC x VEN"]) == 9
    assert manager.get("/pilotage/stock/inconnu.csv").status_code == 404

    api = manager.get("/api/v1/stock/alerts")
    assert api.status_code == 200 and api.json()["tables"][0]["name"] == "alertes"

    (folder / "movements.csv").write_text("date,item_id,type,quantity\nhier,X,issue,1\n")
    refused = manager.get("/pilotage/stock")
    assert refused.status_code == 422 and "movements.csv : ligne 2" in refused.text


def test_only_managers_and_admins_see_it(web: Web) -> None:
    for role in ("clinician", "researcher"):
        assert web.clients[role].get("/pilotage/stock").status_code == 403
        assert web.clients[role].get("/api/v1/stock/policy").status_code == 403

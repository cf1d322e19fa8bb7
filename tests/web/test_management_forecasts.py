"""``/pilotage/previsions`` and ``/api/v1/forecasts/admissions`` over the synthetic hospital:
the fan, the quantile table (never crossing) and the downloads for managers; other roles
refused, no session sent to the login page, bad values answered in French; the fan's drawing
of masked small cells."""

from __future__ import annotations

import html as html_lib
import io
import re
from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install 'hopia[web]')")

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import text  # noqa: E402

from hopia.web.pages.plots import FanDay, fan_svg  # noqa: E402
from tests.web.conftest import BASE, Web  # noqa: E402
from tests.web.management import management_site  # noqa: E402

PAGE = "/pilotage/previsions"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    made = management_site(tmp_path_factory.mktemp("forecasts-web"))
    yield made
    made.warehouse.close()


def _rows(page: str, heading: str) -> list[list[str]]:
    """The body rows of the table under the ``<h2 id=heading>``, as cell texts."""
    section = page.split(f'<h2 id="{heading}">', 1)[1].split("</section>", 1)[0]
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [html_lib.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_page_fan_table_and_downloads(site: Web) -> None:
    client = site.clients["manager"]
    page = client.get(PAGE, params={"service": "", "jours": 10, "modele": "negbin"})
    assert page.status_code == 200, page.text
    text_ = page.text
    assert text_.count('<svg class="eventail eventail-previsions"') == 1
    assert 'class="bande-90"' in text_ and 'class="bande-50"' in text_
    assert 'class="mediane"' in text_ and 'class="observe"' in text_
    assert "<script" not in text_ and "style=" not in text_
    assert "Tout l&#39;hôpital" in text_ and "Cardiologie" in text_  # the service select
    assert '<option value="ensemble"' in text_  # the models of the registry
    forecast = _rows(text_, "previsions")
    assert len(forecast) == 10 and forecast[0][0] == "30/06/2025"
    for row in forecast:
        values = [float(v) for v in row[1:]]
        assert len(values) == 5 and values == sorted(values) and values[0] >= 0
    observed = _rows(text_, "observe")
    assert len(observed) == 90 and observed[-1][0] == "29/06/2025"
    assert {c for _, c in observed} & {"<10"}  # small cells masked in the table
    assert all(c == "<10" or int(c) == 0 or int(c) >= 10 for _, c in observed)
    link = "/pilotage/previsions.csv?jours=10&amp;modele=negbin"
    assert f'href="{link}"' in text_ and f'href="{link}&amp;tableau=observe"' in text_

    csv = client.get(PAGE + ".csv", params={"service": 1, "jours": 10})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert 'filename="previsions-entrees-2025-06-30.csv"' in csv.headers["content-disposition"]
    table = pd.read_csv(io.BytesIO(csv.content), sep=";", encoding="utf-8-sig")
    assert list(table.columns) == ["service", "jour", "P5", "P25", "P50", "P75", "P95"]
    assert len(table) == 10 and (table["service"] == "Cardiologie").all()
    q = table[["P5", "P25", "P50", "P75", "P95"]].to_numpy()
    assert (q[:, 1:] >= q[:, :-1]).all()
    xlsx = client.get(PAGE + ".xlsx", params={"jours": 3, "tableau": "observe"})
    assert xlsx.status_code == 200
    sheets = pd.read_excel(io.BytesIO(xlsx.content), sheet_name=None)
    assert list(sheets) == ["Entrées observées"] and len(sheets["Entrées observées"]) == 90
    assert client.get(PAGE + ".pdf").status_code == 404


def test_api_answers_and_audits(site: Web) -> None:
    client = site.clients["manager"]
    answer = client.get(
        "/api/v1/forecasts/admissions", params={"service": 2, "days": 5, "model": "ensemble"}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["service"] == "Pneumologie" and body["origin"] == "2025-06-30"
    assert len(body["forecast"]) == 5 and len(body["levels"]) == 19
    assert all(f["values"] == sorted(f["values"]) for f in body["forecast"])
    with site.warehouse.engine.connect() as conn:
        actions = [
            r.action
            for r in conn.execute(
                text(
                    "SELECT action FROM hopia_meta.audit_log WHERE actor = 'manager.test' "
                    "AND action = 'forecast.admissions'"
                )
            )
        ]
    assert actions


def test_refusals_and_bad_values(site: Web) -> None:
    researcher = site.clients["researcher"]
    assert researcher.get(PAGE).status_code == 403
    assert researcher.get(PAGE + ".csv").status_code == 403
    assert researcher.get("/api/v1/forecasts/admissions").status_code == 403
    anonymous = TestClient(site.app, base_url=BASE, follow_redirects=False)
    for path in (PAGE, PAGE + ".csv"):
        answer = anonymous.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert anonymous.get("/api/v1/forecasts/admissions").status_code == 401
    client = site.clients["manager"]
    bad = client.get(PAGE, params={"jours": 0})
    assert bad.status_code == 422 and "Requête incorrecte" in bad.text
    assert "jours" in bad.text and "supérieur ou égal à 1" in bad.text
    assert client.get(PAGE, params={"jours": 91}).status_code == 422
    word = client.get(PAGE, params={"service": "cardio"})
    assert word.status_code == 422 and "identifiant de service" in html_lib.unescape(word.text)
    api = client.get("/api/v1/forecasts/admissions", params={"days": 0})
    assert api.status_code == 422 and api.json()["fields"] == ["days"]
    model = client.get("/api/v1/forecasts/admissions", params={"model": "prophet"})
    assert model.status_code == 422 and "modèle inconnu" in model.json()["message"]
    assert client.get("/api/v1/forecasts/admissions", params={"service": 99}).status_code == 404


def test_fan_masks_small_cells_and_draws_lone_days() -> None:
    days = [date(2025, 1, d) for d in range(1, 7)]
    actuals = [(days[0], 12), (days[1], None), (days[2], 15), (days[3], None), (days[4], 20)]
    fan = [FanDay(days[5], 8.0, 11.0, 14.0, 17.0, 22.0)]
    svg = str(fan_svg("Entrées", actuals, fan, masked_below=10))
    assert svg.count('class="masque"') == 2  # one pale box per masked day, no value drawn
    assert svg.count('class="observe-point"') == 3 and 'class="observe"' not in svg
    assert 'class="mediane-point"' in svg  # one forecast day: a dot, not a line
    assert "médiane de 14 à 14" in svg
    assert str(fan_svg("Entrées", actuals, [])) == ""

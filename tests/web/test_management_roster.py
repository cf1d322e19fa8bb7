"""``/pilotage/planning`` and ``/api/v1/management/roster``: a manager solves the example and
reads the calendar, its coverage row and downloads; a clinician is refused. Over an empty
warehouse of its own (the page reads no patient data): cheaper than the sample."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ortools", reason="l'option « management » n'est pas installée")

from hopia.platform.warehouse import Warehouse  # noqa: E402
from hopia.services import accounts  # noqa: E402
from hopia.web.app import create_app  # noqa: E402
from tests import sample as sample_module  # noqa: E402
from tests.conftest import TEST_AUDIT_KEY  # noqa: E402
from tests.web.conftest import Web, settings_for  # noqa: E402
from tests.web.test_ui_pages import _check_page  # noqa: E402

ROLES = ("manager", "clinician")


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    folder = tmp_path_factory.mktemp("roster-web")
    wh = Warehouse(f"duckdb:///{folder / 'w.duckdb'}")
    sample_module.anchor_audit(wh, folder / "home" / "audit", TEST_AUDIT_KEY)
    settings = settings_for(folder / "home")
    made = Web(settings, wh, None, {}, None)  # type: ignore[arg-type]
    with made.operator() as ctx:
        for role in ROLES:
            accounts.create_account(
                ctx,
                accounts.CreateAccountRequest.of(
                    username=f"{role}.test",
                    password="une phrase de passe de test",
                    roles=[role],
                    care_sites=[1] if role == "clinician" else [],
                ),
            )
    made.app = create_app(settings, wh)
    made.clients = {role: made.login(f"{role}.test") for role in ROLES}
    yield made
    wh.close()


def _token(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html)[1]


def test_a_manager_solves_the_example_and_reads_the_calendar(web: Web) -> None:
    client = web.clients["manager"]
    empty = client.get("/pilotage/planning")
    assert empty.status_code == 200 and "Aucun planning calculé" in empty.text
    assert 'href="/pilotage"' in empty.text  # the navigation's axis-4 entry
    form = {"csrf": _token(empty.text), "infirmiers": "8", "semaines": "1", "limite": "2"}
    done = client.post("/pilotage/planning/calculer", data=form, follow_redirects=False)
    assert done.status_code == 303
    page = client.get("/pilotage/planning")
    assert page.status_code == 200
    _check_page(page.text)
    assert '<a href="/pilotage" aria-current="page">Pilotage</a>' in page.text
    assert page.text.count('<tr><th scope="row">') >= 8 + 8  # grid and hours tables
    assert re.search(r'<td class="poste poste-[MSN]">[MSN]</td>', page.text)
    assert "Couverture N" in page.text and "affectés / demandés" in page.text
    assert "<script" not in page.text and "style=" not in page.text
    csv = client.get("/pilotage/planning/telecharger/planning.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    head = csv.content.decode("utf-8-sig").splitlines()[0].split(";")
    assert head[:4] == ["infirmier", "nom", "quotité", "2026-03-02"] and len(head) == 3 + 7
    xlsx = client.get("/pilotage/planning/telecharger/couverture.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    import pandas as pd

    sheets = pd.read_excel(io.BytesIO(xlsx.content), sheet_name=None)
    assert set(sheets) == {"planning", "couverture", "infirmiers", "souhaits"}
    assert (sheets["couverture"]["manquants"] == 0).all()


def test_the_api_gives_the_last_roster_and_solves_tables(web: Web) -> None:
    client = web.clients["manager"]
    body = {
        "staff": [
            {"nurse": "A", "name": "Mme A"},
            {"nurse": "B", "name": "Mme B", "leave": "2026-03-03"},
        ],
        "demand": [{"date": "2026-03-03", "shift": "N", "required": 2}],
        "start": "2026-03-02",
        "weeks": 1,
        "time_limit_s": 2,
    }
    answer = client.post("/api/v1/management/roster/solve", json=body)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["status"] == "infeasible"
    assert "congés de Mme B (1 jour, 03/03)" in result["conflict_lines"]
    assert client.get("/api/v1/management/roster").json()["status"] == "infeasible"
    page = client.get("/pilotage/planning")
    assert "Aucun planning ne respecte ensemble ces règles" in page.text
    assert "couverture du 03/03 nuit : 2 infirmiers demandés" in page.text


def test_a_clinician_is_refused(web: Web) -> None:
    client = web.clients["clinician"]
    assert client.get("/pilotage/planning").status_code == 403
    assert client.get("/api/v1/management/roster").status_code == 403
    body = {"staff": [{"nurse": "A"}], "demand": [], "start": "2026-03-02", "weeks": 1}
    refused = client.post("/api/v1/management/roster/solve", json=body)
    assert refused.status_code == 403
    assert client.get("/pilotage/planning/telecharger/planning.csv").status_code == 403
    home = client.get("/")
    assert 'href="/pilotage/planning"' not in home.text


def test_no_session_goes_to_the_login_page(web: Web, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    anon = TestClient(web.app, base_url="http://localhost")
    answer = anon.get("/pilotage/planning", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"

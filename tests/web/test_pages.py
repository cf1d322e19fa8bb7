"""The French pages: login (CSRF-protected form), home, logout, error pages; every asset from
Hopia itself, a CSP without inline scripts, and every route of the application accounted for."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from fastapi.testclient import TestClient
from starlette.routing import Mount

from tests.web.conftest import BASE, PASSWORD, Web

# Routes outside the OpenAPI document (the pages, the document itself, the assets).
PAGES = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/"),
    ("GET", "/documents"),
    ("GET", "/documents/{note_id}"),
    ("POST", "/documents/{note_id}/bris-de-glace"),
    ("GET", "/patients/{person_id}"),
    ("POST", "/patients/{person_id}/bris-de-glace"),
    ("GET", "/cohorts"),
    ("POST", "/cohorts"),
    ("POST", "/cohorts/{name}/run"),
    ("GET", "/exports"),
    ("POST", "/exports"),
    ("GET", "/quality"),
    ("GET", "/quality/{run_id}"),
    ("POST", "/quality/lancer"),
    ("POST", "/cohorts/formulaire"),
    ("GET", "/jobs"),
    ("GET", "/jobs/{job_id}"),
    ("GET", "/audit"),
    ("GET", "/api/v1/openapi.json"),
    ("HEAD", "/api/v1/openapi.json"),
    ("GET", "/login/oidc"),
    ("GET", "/login/oidc/callback"),
    # the admin's account pages and the jobs page's forms (tests/web/test_admin_pages.py,
    # tests/web/test_jobs_pages.py: every role's answer)
    ("GET", "/admin/accounts"),
    ("POST", "/admin/accounts"),
    ("GET", "/admin/accounts/{username}"),
    ("POST", "/admin/accounts/{username}"),
    ("POST", "/admin/accounts/{username}/password"),
    ("POST", "/jobs/{job_id}/cancel"),
    ("POST", "/jobs/quality"),
    ("POST", "/jobs/ingest"),
}
PAGES |= {  # axis 3: the assistant page and the source a citation opens
    ("GET", "/assistant"),
    ("POST", "/assistant"),
    ("GET", "/assistant/source/{name}/{document_id}"),
    # the streamed answer, the task forms, the history (tests/web/test_assistant_ui.py)
    ("POST", "/assistant/flux"),
    ("GET", "/assistant/taches"),
    ("POST", "/assistant/taches/{name}"),
    ("GET", "/assistant/historique"),
    ("GET", "/assistant/historique/{entry_id}"),
    ("POST", "/assistant/historique/{entry_id}/supprimer"),
    # a document added to a collection, as a job (tests/web/test_collections.py)
    ("POST", "/assistant/documents"),
}
PAGES |= {  # axis 2: dictation (tests/web/test_dictation_web.py, browser/test_dictation_browser.py)
    ("GET", "/dictee"),
    ("POST", "/dictee"),
    ("GET", "/dictee/{draft_id}"),
    ("POST", "/dictee/{draft_id}/fichier"),
    ("GET", "/dictee/{draft_id}/relecture"),
    ("POST", "/dictee/{draft_id}/sections"),
    ("POST", "/dictee/{draft_id}/faits"),
    ("POST", "/dictee/{draft_id}/faits/{fact_id}"),
    ("POST", "/dictee/{draft_id}/sejour"),
    ("POST", "/dictee/{draft_id}/mise-en-forme"),
    ("POST", "/dictee/{draft_id}/valider"),
    ("POST", "/dictee/{draft_id}/abandonner"),
    # axis 4 (managers): the dashboards' entry, steering indicators, bed needs, admissions
    # forecasts, stock, carbon,
    # with their downloads
    ("GET", "/pilotage"),
    ("GET", "/pilotage/carbone"),
    ("GET", "/pilotage/carbone/{name}.{fmt}"),
    ("GET", "/pilotage/stock"),
    ("GET", "/pilotage/planning"),
    ("POST", "/pilotage/planning/calculer"),
    ("GET", "/pilotage/planning/telecharger/{table}.{fmt}"),
    ("GET", "/pilotage/stock/{name}.{fmt}"),
    ("GET", "/pilotage/activite"),
    ("GET", "/pilotage/activite.xlsx"),
    ("GET", "/pilotage/activite/{table}.{fmt}"),
    ("GET", "/pilotage/lits"),
    ("GET", "/pilotage/lits.{fmt}"),
    ("GET", "/pilotage/previsions"),
    ("GET", "/pilotage/previsions.{fmt}"),
}


def _form_token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def _routes(routes: list, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every route, through included routers (FastAPI wraps them) and
    mounts ("MOUNT", path)."""
    for route in routes:
        if hasattr(route, "original_router"):
            inner = prefix + route.include_context.prefix
            yield from _routes(route.original_router.routes, inner)
        elif isinstance(route, Mount):
            yield "MOUNT", prefix + route.path
        else:
            for method in route.methods:
                yield method, prefix + route.path


def test_every_route_is_an_api_operation_or_a_known_page(web: Web) -> None:
    document = web.anon.get("/api/v1/openapi.json").json()
    api = {(m.upper(), p) for p, item in document["paths"].items() for m in item}
    routes = set(_routes(web.app.routes))
    assert api <= routes
    assert routes - api == PAGES | {("MOUNT", "/static")}


def test_login_page_is_french_local_and_without_inline_script(web: Web) -> None:
    client = TestClient(web.app, base_url=BASE)
    answer = client.get("/login")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    html = answer.text
    assert '<html lang="fr">' in html and "Identifiant" in html and "Mot de passe" in html
    assert '<label for="username">' in html and '<label for="password">' in html
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script" not in html and "style=" not in html
    links = re.findall(r'(?:src|href|action)="([^"]+)"', html)
    assert links and all(link.startswith(("/", "#")) for link in links), links
    css = client.get("/static/hopia.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "http" not in css.text  # no web font, no remote image


def test_login_form_needs_its_csrf_token_then_logs_in_and_out(web: Web) -> None:
    client = TestClient(web.app, base_url=BASE, follow_redirects=False)
    form = {"username": "researcher.test", "password": PASSWORD}
    forged = client.post("/login", data=form)
    assert forged.status_code == 403 and "autre site" in forged.text
    token = _form_token(client.get("/login").text)
    wrong = client.post("/login", data={**form, "password": "pas le bon", "csrf": token})
    assert wrong.status_code == 401 and "identifiant ou mot de passe incorrect" in wrong.text
    done = client.post("/login", data={**form, "csrf": token})
    assert done.status_code == 303 and done.headers["location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "Bonjour researcher.test" in home.text
    assert "chercheur" in home.text
    out = client.post("/logout", data={"csrf": _form_token(home.text)})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert client.get("/").headers["location"] == "/login"


def test_errors_are_french_pages_without_a_trace(web: Web) -> None:
    client = TestClient(web.app, base_url=BASE, raise_server_exceptions=False)
    missing = client.get("/nulle-part")
    assert missing.status_code == 404 and "Page introuvable" in missing.text
    api = client.get("/api/v1/nulle-part")
    assert api.status_code == 404 and api.json()["code"] == "not_found"

    def broken() -> None:
        raise RuntimeError("secret interne DUPONT")

    web.app.add_api_route("/panne-de-test", broken, include_in_schema=False)
    try:
        crash = client.get("/panne-de-test")
    finally:
        web.app.router.routes.pop()
    assert crash.status_code == 500 and "Erreur interne" in crash.text
    assert "DUPONT" not in crash.text and "Traceback" not in crash.text
    assert "RuntimeError" not in crash.text


def test_a_request_body_over_the_limit_is_refused_in_french(web: Web) -> None:
    limit = web.settings.web.max_body_bytes
    expected = {
        "status": 413,
        "code": "too_large",
        "message": "requête trop volumineuse",
        "fields": [],
        "details": {},
    }
    researcher = web.clients["researcher"]
    body = json.dumps({"definition": {"description": "x" * limit}}).encode()
    headers = {"content-type": "application/json"}
    announced = researcher.post("/api/v1/cohorts/validate", content=body, headers=headers)
    assert announced.status_code == 413 and announced.json() == expected

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    streamed = researcher.post("/api/v1/cohorts/validate", content=chunks(), headers=headers)
    assert streamed.status_code == 413 and streamed.json() == expected
    page = web.anon.post("/login", content=b"x" * (limit + 1))
    assert page.status_code == 413 and "Requête trop volumineuse" not in page.text
    assert "requête trop volumineuse" in page.text and "<html" in page.text

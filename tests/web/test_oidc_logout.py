"""OIDC: PKCE as the provider sees it, and the logout at the provider (RP-initiated logout).

The provider is oidc-provider-mock's real Flask application, served on localhost, with two
hooks that only *record* what reaches it (the authorization request's query, the token
request's form, the ID tokens it issues) and can hide ``end_session_endpoint`` from its
discovery document. oidc-provider-mock does not check PKCE itself (its authorization code grant
has no code challenge extension), so the test checks it: the verifier sent with the code
must hash (S256) to the challenge sent with the authorization request. Its end-session
endpoint is real (it shows a form, then redirects to ``post_logout_redirect_uri``), so the
logout is followed to the end.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

oidc_mock = pytest.importorskip(
    "oidc_provider_mock", reason="oidc-provider-mock is a dev dependency (pip install -e .[dev])"
)
pytest.importorskip("authlib", reason="the web extra is not installed (pip install 'hopia[web]')")

import flask  # noqa: E402 - oidc-provider-mock's dependency
import httpx  # noqa: E402
import werkzeug.serving  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from hopia.services import accounts  # noqa: E402
from tests.web.conftest import BASE, Web, make_web  # noqa: E402

SECRET = "secret-du-client-de-test-0123456789"
CLAIMS = {"realm_access": {"roles": ["medecin"]}, "hopia_services": [1]}


@dataclass
class Seen:
    """What reached the provider."""

    authorize: list[dict[str, str]] = field(default_factory=list)
    token: list[dict[str, str]] = field(default_factory=list)
    id_tokens: list[str] = field(default_factory=list)
    hide_end_session: bool = False


@pytest.fixture(scope="module")
def seen() -> Seen:
    return Seen()


@pytest.fixture(scope="module")
def provider(seen: Seen) -> Iterator[str]:
    app = oidc_mock.app(require_nonce=True)

    @app.before_request
    def note() -> None:
        request = flask.request
        if request.path == "/oauth2/authorize" and "code_challenge" in request.args:
            seen.authorize.append(dict(request.args))
        if request.path == "/oauth2/token":
            seen.token.append(dict(request.form))

    @app.after_request
    def issued(response: flask.Response) -> flask.Response:
        path = flask.request.path
        if path == "/oauth2/token" and response.status_code == 200:
            seen.id_tokens.append(response.get_json()["id_token"])
        if path == "/.well-known/openid-configuration" and seen.hide_end_session:
            document = response.get_json()
            document.pop("end_session_endpoint", None)
            response.set_data(json.dumps(document))
        return response

    server = werkzeug.serving.make_server("localhost", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture(scope="module")
def oidc_web(
    tmp_path_factory: pytest.TempPathFactory, sample_file: Path, provider: str
) -> Iterator[Web]:
    made = make_web(
        tmp_path_factory.mktemp("oidc-logout"),
        sample_file,
        oidc={
            "discovery_url": f"{provider}/.well-known/openid-configuration",
            "provider_name": "Keycloak du CHU",
            "client_id": "hopia-test",
            "client_secret": SECRET,
            "roles_claim": "realm_access.roles",
            "role_mapping": {"medecin": ["clinician"]},
            "perimeter_claim": "hopia_services",
        },
    )
    yield made
    made.warehouse.close()


def _login(web: Web, provider: str, sub: str) -> tuple[TestClient, httpx.Response]:
    answer = httpx.put(
        f"{provider}/users/{sub}", json={**CLAIMS, "preferred_username": f"dr.{sub}"}
    )
    assert answer.status_code == 204
    client = TestClient(web.app, base_url=BASE)
    start = client.get("/login/oidc", follow_redirects=False)
    consent = httpx.post(start.headers["location"], data={"sub": sub}, follow_redirects=False)
    back = urlsplit(consent.headers["location"])
    done = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert done.status_code == 303, done.text
    return client, done


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
    assert found
    return found.group(1)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _claims(id_token: str) -> dict[str, Any]:
    body = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_the_token_request_carries_the_verifier_of_the_challenge(
    oidc_web: Web, provider: str, seen: Seen
) -> None:
    start = len(seen.authorize), len(seen.token)
    _login(oidc_web, provider, "sub-pkce")
    (asked,) = seen.authorize[start[0] :]
    (exchanged,) = seen.token[start[1] :]
    assert asked["code_challenge_method"] == "S256"
    assert exchanged["grant_type"] == "authorization_code"
    verifier = exchanged["code_verifier"]
    assert 43 <= len(verifier) <= 128  # RFC 7636 4.1
    assert _s256(verifier) == asked["code_challenge"]
    assert verifier not in json.dumps(asked)  # the verifier never travels with the browser


def test_logout_ends_the_session_here_and_at_the_provider(
    oidc_web: Web, provider: str, seen: Seen
) -> None:
    client, callback = _login(oidc_web, provider, "sub-logout")
    id_token = seen.id_tokens[-1]
    # kept server-side, with the session: in no cookie the browser got
    assert id_token not in " ".join(callback.headers.get_list("set-cookie"))
    assert all(id_token not in v for v in client.cookies.values())
    kept = oidc_web.sql("SELECT id_token FROM hopia_meta.web_session_oidc")
    assert id_token in [r.id_token for r in kept]
    # the pages allow the logout form's redirect to the provider (form-action)
    csp = client.get("/").headers["content-security-policy"]
    assert f"form-action 'self' {provider};" in csp
    answer = client.post("/logout", data={"csrf": _csrf(client)}, follow_redirects=False)
    assert answer.status_code == 303
    target = urlsplit(answer.headers["location"])
    meta = httpx.get(f"{provider}/.well-known/openid-configuration").json()
    assert f"{target.scheme}://{target.netloc}{target.path}" == meta["end_session_endpoint"]
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query["id_token_hint"] == id_token and _claims(id_token)["sub"] == "sub-logout"
    assert query["post_logout_redirect_uri"] == f"{BASE}/login"
    assert query["client_id"] == "hopia-test"
    # the local session is over, its cookie cleared, its ID token deleted
    assert 'hopia_session=""' in answer.headers["set-cookie"]
    assert client.get("/api/v1/auth/me").status_code == 401
    assert id_token not in [
        r.id_token for r in oidc_web.sql("SELECT id_token FROM hopia_meta.web_session_oidc")
    ]
    logout = oidc_web.sql(
        "SELECT details FROM hopia_meta.audit_log WHERE action = 'auth.logout' "
        "AND target = 'account:dr.sub-logout' ORDER BY audit_id"
    )
    assert json.loads(logout[-1].details)["method"] == "oidc"
    # the provider ends its session and sends the browser back to Hopia's login page
    form = httpx.get(answer.headers["location"])
    assert form.status_code == 200 and id_token in form.text  # it received the hint
    confirm = re.search(r'<form method="post" action="([^"]+)"', form.text)
    assert confirm
    back = httpx.post(
        f"{provider}{confirm.group(1)}",
        data={"redirect_uri": query["post_logout_redirect_uri"]},
        follow_redirects=False,
    )
    assert back.status_code == 302 and back.headers["location"] == f"{BASE}/login"


def test_the_api_logout_returns_the_provider_logout_url(
    oidc_web: Web, provider: str, seen: Seen
) -> None:
    client, _ = _login(oidc_web, provider, "sub-api")
    id_token = seen.id_tokens[-1]
    answer = client.post("/api/v1/auth/logout")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["logged_out"] is True and set(body) == {"logged_out", "provider_logout_url"}
    target = urlsplit(body["provider_logout_url"])
    meta = httpx.get(f"{provider}/.well-known/openid-configuration").json()
    assert f"{target.scheme}://{target.netloc}{target.path}" == meta["end_session_endpoint"]
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query["id_token_hint"] == id_token and _claims(id_token)["sub"] == "sub-api"
    assert query["post_logout_redirect_uri"] == f"{BASE}/login"
    # closed here: cookie cleared, session and its ID token gone
    assert 'hopia_session=""' in answer.headers["set-cookie"]
    assert client.get("/api/v1/auth/me").status_code == 401
    kept = oidc_web.sql("SELECT id_token FROM hopia_meta.web_session_oidc")
    assert id_token not in [r.id_token for r in kept]
    # the URL is the provider's real logout: it received the hint and sends the browser back
    form = httpx.get(body["provider_logout_url"])
    assert form.status_code == 200 and id_token in form.text
    # the OpenAPI document types the answer
    schema = oidc_web.app.openapi()["components"]["schemas"]["LoggedOut"]
    assert set(schema["properties"]) == {"logged_out", "provider_logout_url"}


def test_the_api_logout_of_a_local_session_has_no_provider_url(oidc_web: Web) -> None:
    client = oidc_web.login("researcher.test")
    answer = client.post("/api/v1/auth/logout")
    assert answer.json() == {"logged_out": True, "provider_logout_url": None}


def test_the_api_logout_without_provider_endpoint_is_local(
    oidc_web: Web, provider: str, seen: Seen
) -> None:
    client, _ = _login(oidc_web, provider, "sub-api-noend")
    seen.hide_end_session = True
    oidc_web.app.state.oidc_client = None  # read the discovery document again
    try:
        answer = client.post("/api/v1/auth/logout")
    finally:
        seen.hide_end_session = False
        oidc_web.app.state.oidc_client = None
    assert answer.json() == {"logged_out": True, "provider_logout_url": None}
    assert client.get("/api/v1/auth/me").status_code == 401


def test_a_local_session_logs_out_locally(oidc_web: Web) -> None:
    client = oidc_web.login("researcher.test")
    answer = client.post("/logout", data={"csrf": _csrf(client)}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert client.get("/api/v1/auth/me").status_code == 401


def test_a_provider_without_logout_endpoint_gets_a_local_logout(
    oidc_web: Web, provider: str, seen: Seen
) -> None:
    client, _ = _login(oidc_web, provider, "sub-noend")
    seen.hide_end_session = True
    oidc_web.app.state.oidc_client = None  # read the discovery document again
    try:
        answer = client.post("/logout", data={"csrf": _csrf(client)}, follow_redirects=False)
    finally:
        seen.hide_end_session = False
        oidc_web.app.state.oidc_client = None
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert client.get("/api/v1/auth/me").status_code == 401


def test_the_id_token_goes_with_every_way_a_session_ends(
    oidc_web: Web, provider: str, seen: Seen
) -> None:
    client, _ = _login(oidc_web, provider, "sub-gone")
    id_token = seen.id_tokens[-1]

    def kept() -> bool:
        rows = oidc_web.sql("SELECT id_token FROM hopia_meta.web_session_oidc")
        return id_token in [r.id_token for r in rows]

    assert kept()
    with oidc_web.operator() as ctx:  # a change of the account closes its sessions
        accounts.update_account(
            ctx, accounts.UpdateAccountRequest.of(username="dr.sub-gone", active=False)
        )
    assert not kept() and client.get("/api/v1/auth/me").status_code == 401
    with oidc_web.operator() as ctx:
        accounts.update_account(
            ctx, accounts.UpdateAccountRequest.of(username="dr.sub-gone", active=True)
        )


def test_the_admin_sees_which_accounts_come_from_the_provider(oidc_web: Web, provider: str) -> None:
    _login(oidc_web, provider, "sub-origin")
    admin = oidc_web.clients["admin"]
    listing = html.unescape(admin.get("/admin/accounts").text)
    rows = dict(
        re.findall(r'<tr class="etat-[^"]+">\s*<td><a [^>]+>([^<]+)</a>(.*?)</tr>', listing, re.S)
    )
    assert "fournisseur d'identité (OIDC)" in rows["dr.sub-origin"]
    assert "<td>local</td>" in rows["researcher.test"]
    detail = html.unescape(admin.get("/admin/accounts/dr.sub-origin").text)
    assert f"fournisseur d'identité (OIDC) : {provider}" in detail
    assert "repris du fournisseur à chaque connexion" in detail
    last = oidc_web.sql(
        "SELECT max(\"at\") AS at FROM hopia_meta.audit_log WHERE action = 'auth.login' "
        "AND target = 'account:dr.sub-origin'"
    )[0].at
    assert f"<dd>{last:%d/%m/%Y %H:%M} UTC</dd>" in detail
    local = html.unescape(admin.get("/admin/accounts/manager.test").text)
    assert "<dt>Origine</dt><dd>local</dd>" in local and "repris du fournisseur" not in local

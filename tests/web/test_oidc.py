"""OIDC login end to end, against a real OpenID provider started on localhost
(``oidc-provider-mock``: discovery, signed ID tokens, PKCE-capable token endpoint, userinfo).

The browser's part is played by two clients: Hopia's TestClient (its cookies: the signed flow
cookie, then the session) and plain httpx for the provider's consent form, which answers with
the redirect back to Hopia's callback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

oidc_mock = pytest.importorskip(
    "oidc_provider_mock", reason="oidc-provider-mock is a dev dependency (pip install -e .[dev])"
)
pytest.importorskip("authlib", reason="the web extra is not installed (pip install 'hopia[web]')")

import httpx  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from hopia.services import accounts  # noqa: E402
from tests.web.conftest import BASE, PASSWORD, Web, make_web  # noqa: E402

SECRET = "secret-du-client-de-test-0123456789"
MAPPING = {"medecin": ["clinician"], "chercheur": ["researcher"], "dim": ["data_steward"]}


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with oidc_mock.run_server_in_thread(require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def oidc_web(
    tmp_path_factory: pytest.TempPathFactory, sample_file: Path, provider: str
) -> Iterator[Web]:
    folder = tmp_path_factory.mktemp("oidc")
    secret_file = folder / "client.secret"
    secret_file.write_text(SECRET + "\n", "utf-8")
    made = make_web(
        folder,
        sample_file,
        oidc={
            "discovery_url": f"{provider}/.well-known/openid-configuration",
            "provider_name": "Keycloak du CHU",
            "client_id": "hopia-test",
            "client_secret_file": str(secret_file),
            "roles_claim": "realm_access.roles",
            "role_mapping": MAPPING,
            "perimeter_claim": "hopia_services",
        },
    )
    yield made
    made.warehouse.close()


def _set_user(provider: str, sub: str, claims: dict[str, object]) -> None:
    answer = httpx.put(f"{provider}/users/{sub}", json=claims)
    assert answer.status_code == 204, answer.text


def _to_provider(client: TestClient) -> str:
    """Start the login at Hopia: the provider's authorization URL it redirects to."""
    start = client.get("/login/oidc", follow_redirects=False)
    assert start.status_code == 303, start.text
    return start.headers["location"]


def _consent(authorize_url: str, sub: str) -> str:
    """The user logs in at the provider: the callback URL (with code and state) it sends back."""
    answer = httpx.post(authorize_url, data={"sub": sub}, follow_redirects=False)
    assert answer.status_code in (302, 303), answer.text
    return answer.headers["location"]


def _callback(client: TestClient, url: str) -> httpx.Response:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == BASE and parts.path == "/login/oidc/callback"
    return client.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def _login(web: Web, provider: str, sub: str) -> tuple[TestClient, httpx.Response]:
    client = TestClient(web.app, base_url=BASE)
    answer = _callback(client, _consent(_to_provider(client), sub))
    return client, answer


def _audit(web: Web, action: str, target: str) -> list[dict]:
    rows = web.sql(
        "SELECT actor, details FROM hopia_meta.audit_log WHERE action = :a AND target = :t "
        "ORDER BY audit_id",
        a=action,
        t=target,
    )
    return [{"actor": r[0], **json.loads(r[1] or "{}")} for r in rows]


def test_the_login_page_offers_the_provider_only_when_configured(oidc_web: Web, web: Web) -> None:
    page = TestClient(oidc_web.app, base_url=BASE).get("/login").text
    assert "Se connecter avec Keycloak du CHU" in page and 'href="/login/oidc"' in page
    assert "Se connecter avec" not in TestClient(web.app, base_url=BASE).get("/login").text
    off = TestClient(web.app, base_url=BASE).get("/login/oidc", follow_redirects=False)
    assert off.status_code == 404 and "non configurée" in off.text


def test_the_authorization_request_uses_pkce_state_and_nonce(oidc_web: Web) -> None:
    client = TestClient(oidc_web.app, base_url=BASE)
    url = _to_provider(client)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["response_type"] == "code" and query["client_id"] == "hopia-test"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert query["redirect_uri"] == f"{BASE}/login/oidc/callback"
    assert set(query["scope"].split()) == {"openid", "profile", "email"}
    # The flow (state, nonce, verifier) is in the browser's cookie, signed, not in the URL.
    cookie = client.cookies.get("hopia_oidc")
    assert cookie and query["state"] not in url.split("state=")[0]
    assert "code_verifier" not in url
    again = {k: v[0] for k, v in parse_qs(urlsplit(_to_provider(client)).query).items()}
    assert again["state"] != query["state"] and again["nonce"] != query["nonce"]


def test_a_first_login_makes_an_external_account_with_the_roles_of_the_claim(
    oidc_web: Web, provider: str, caplog: pytest.LogCaptureFixture
) -> None:
    _set_user(
        provider,
        "a1b2c3",
        {
            "preferred_username": "Claire.Martin",
            "name": "Claire Martin",
            "realm_access": {"roles": ["medecin", "offline_access"]},
            "hopia_services": [1],
        },
    )
    with caplog.at_level(logging.DEBUG):
        client, answer = _login(oidc_web, provider, "a1b2c3")
    assert answer.status_code == 303 and answer.headers["location"] == "/", answer.text
    assert "hopia_oidc" not in client.cookies  # the flow cookie is spent
    me = client.get("/api/v1/auth/me").json()
    assert me["username"] == "claire.martin" and me["roles"] == ["clinician"]
    assert me["care_sites"] == [1]
    assert client.get("/").status_code == 200
    row = oidc_web.sql(
        "SELECT a.password_hash, e.issuer, e.subject FROM hopia_meta.account a "
        "JOIN hopia_meta.external_identity e USING (account_id) WHERE a.username = :u",
        u="claire.martin",
    )
    assert row and row[0][0] is None and row[0][1] == provider and row[0][2] == "a1b2c3"
    created = _audit(oidc_web, "account.create", "account:claire.martin")
    assert created[-1]["external"] == "oidc" and created[-1]["roles"] == ["clinician"]
    login = _audit(oidc_web, "auth.login", "account:claire.martin")[-1]
    assert login["method"] == "oidc" and login["roles"] == ["clinician"]
    assert login["granted_by"] == ["medecin"] and login["issuer"] == provider
    # Neither the client secret nor a token reaches the logs.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert SECRET not in logged and "Claire" not in logged
    # An external account has no password: the local login refuses it.
    local = TestClient(oidc_web.app, base_url=BASE).post(
        "/api/v1/auth/login", json={"username": "claire.martin", "password": PASSWORD}
    )
    assert local.status_code == 401


def test_the_roles_follow_the_claim_at_every_login(oidc_web: Web, provider: str) -> None:
    claims = {"preferred_username": "paul.dim", "realm_access": {"roles": ["chercheur"]}}
    _set_user(provider, "sub-paul", claims)
    client, answer = _login(oidc_web, provider, "sub-paul")
    assert answer.status_code == 303
    assert client.get("/api/v1/auth/me").json()["roles"] == ["researcher"]
    _set_user(provider, "sub-paul", {**claims, "realm_access": {"roles": ["chercheur", "dim"]}})
    again, answer = _login(oidc_web, provider, "sub-paul")
    assert again.get("/api/v1/auth/me").json()["roles"] == ["data_steward", "researcher"]
    update = _audit(oidc_web, "account.update", "account:paul.dim")[-1]
    assert update["before"]["roles"] == ["researcher"]
    assert update["after"]["roles"] == ["data_steward", "researcher"]
    assert client.get("/api/v1/auth/me").status_code == 401  # roles changed: old session closed


def test_a_wrong_state_or_another_browser_is_refused(oidc_web: Web, provider: str) -> None:
    _set_user(provider, "sub-state", {"realm_access": {"roles": ["chercheur"]}})
    client = TestClient(oidc_web.app, base_url=BASE)
    back = _consent(_to_provider(client), "sub-state")
    forged = back.replace("state=", "state=x")
    answer = _callback(client, forged)
    assert answer.status_code == 401 and "state" in answer.text
    assert answer.headers["content-type"].startswith("text/html") and "Traceback" not in answer.text
    assert "hopia_session" not in client.cookies
    # The right callback, in a browser that did not start the login (no flow cookie).
    stranger = TestClient(oidc_web.app, base_url=BASE)
    refused = _callback(stranger, back)
    assert refused.status_code == 401 and "recommencez" in refused.text
    # A flow cookie edited by hand (its signature no longer matches).
    cookie = client.cookies.get("hopia_oidc")
    assert cookie
    client.cookies.clear()
    client.cookies.set("hopia_oidc", "e30" + cookie[3:])
    assert _callback(client, back).status_code == 401
    assert (
        oidc_web.sql(
            "SELECT count(*) FROM hopia_meta.external_identity WHERE subject = 'sub-state'"
        )[0][0]
        == 0
    )


def test_a_user_without_a_hopia_role_gets_no_access(oidc_web: Web, provider: str) -> None:
    _set_user(
        provider,
        "sub-norole",
        {"preferred_username": "infirmier.x", "realm_access": {"roles": ["infirmier"]}},
    )
    client, answer = _login(oidc_web, provider, "sub-norole")
    assert answer.status_code == 403
    assert "aucun rôle Hopia" in answer.text and "Keycloak du CHU" in answer.text
    assert '<html lang="fr">' in answer.text
    assert "hopia_session" not in client.cookies
    assert client.get("/api/v1/auth/me").status_code == 401
    assert not oidc_web.sql("SELECT 1 FROM hopia_meta.account WHERE username = 'infirmier.x'")
    failed = _audit(oidc_web, "auth.login_failed", "account:infirmier.x")
    assert failed and failed[-1]["why"] == "no_role" and failed[-1]["method"] == "oidc"


def test_a_disabled_account_is_refused_whatever_the_provider_says(
    oidc_web: Web, provider: str
) -> None:
    claims = {"preferred_username": "ex.chercheur", "realm_access": {"roles": ["chercheur"]}}
    _set_user(provider, "sub-disabled", claims)
    client, answer = _login(oidc_web, provider, "sub-disabled")
    assert answer.status_code == 303
    with oidc_web.operator() as ctx:
        accounts.update_account(
            ctx, accounts.UpdateAccountRequest.of(username="ex.chercheur", active=False)
        )
    assert client.get("/api/v1/auth/me").status_code == 401  # its session went with it
    again, answer = _login(oidc_web, provider, "sub-disabled")
    assert answer.status_code == 403 and "désactivé" in answer.text
    assert "hopia_session" not in again.cookies
    failed = _audit(oidc_web, "auth.login_failed", "account:ex.chercheur")
    assert failed[-1]["why"] == "inactive"


def test_a_local_account_is_never_taken_over_and_a_clinician_needs_a_perimeter(
    oidc_web: Web, provider: str
) -> None:
    # researcher.test is a local account with a password (conftest): same name, other person.
    _set_user(
        provider,
        "sub-taker",
        {"preferred_username": "researcher.test", "realm_access": {"roles": ["chercheur"]}},
    )
    _, answer = _login(oidc_web, provider, "sub-taker")
    assert answer.status_code == 403 and "autre compte" in answer.text
    _set_user(
        provider,
        "sub-noperimeter",
        {"preferred_username": "dr.sans", "realm_access": {"roles": ["medecin"]}},
    )
    _, answer = _login(oidc_web, provider, "sub-noperimeter")
    assert answer.status_code == 403 and "périmètre" in answer.text


def test_a_clinician_prepared_by_an_administrator_keeps_the_perimeter_set_for_them(
    tmp_path: Path, sample_file: Path, provider: str
) -> None:
    """Pro Santé Connect's case: no perimeter claim; the administrator makes the account
    (without password) with its perimeter, the first login links it."""
    web = make_web(
        tmp_path,
        sample_file,
        oidc={
            "discovery_url": f"{provider}/.well-known/openid-configuration",
            "provider_name": "Pro Santé Connect",
            "client_id": "hopia-psc",
            "client_secret": SECRET,
            "username_claim": "SubjectNameID",
            "roles_claim": "SubjectRefPro.exercices.codeProfession",
            "role_mapping": {"10": ["clinician"]},
        },
    )
    try:
        with web.operator() as ctx:
            accounts.create_account(
                ctx,
                accounts.CreateAccountRequest.of(
                    username="810000000001", roles=["clinician"], care_sites=[2]
                ),
            )
        _set_user(
            provider,
            "psc-1",
            {
                "SubjectNameID": "810000000001",
                "SubjectRefPro": {"exercices": [{"codeProfession": "10"}]},
            },
        )
        client, answer = _login(web, provider, "psc-1")
        assert answer.status_code == 303, answer.text
        me = client.get("/api/v1/auth/me").json()
        assert me["username"] == "810000000001" and me["care_sites"] == [2]
        assert "Se connecter avec Pro Santé Connect" in client.get("/login").text
    finally:
        web.warehouse.close()

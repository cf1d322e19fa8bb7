"""The logout at the identity provider in a real browser: Chromium logs in through
oidc-provider-mock (served on localhost), then « Se déconnecter » posts the logout form, whose
answer redirects to the provider's end-session page — a redirect Chromium follows only if the
page's CSP ``form-action`` allows the provider's origin — and the provider sends the browser
back to Hopia's login page. A second application (with OIDC) is served for this test; the
browser is the session's."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.web.browser.conftest import Served, _free_port
from tests.web.conftest import Web, make_web

pytestmark = pytest.mark.slow
oidc_mock = pytest.importorskip("oidc_provider_mock", reason="oidc-provider-mock (dev extra)")

import httpx  # noqa: E402


@contextmanager
def _serve(web: Web) -> Iterator[str]:
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(web.app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="hopia-oidc-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_logout_goes_through_the_provider_and_back(
    served: Served, tmp_path: Path, sample_file: Path
) -> None:
    with oidc_mock.run_server_in_thread(require_nonce=True) as provider_server:
        provider = f"http://localhost:{provider_server.server_port}"
        claims = {
            "preferred_username": "dr.chromium",
            "name": "Dr Chromium",
            "realm_access": {"roles": ["medecin"]},
            "hopia_services": [1],
        }
        assert httpx.put(f"{provider}/users/sub-chromium", json=claims).status_code == 204
        web = make_web(
            tmp_path,
            sample_file,
            oidc={
                "discovery_url": f"{provider}/.well-known/openid-configuration",
                "provider_name": "Keycloak du CHU",
                "client_id": "hopia-navigateur",
                "client_secret": "secret-du-client-de-test-0123456789",
                "roles_claim": "realm_access.roles",
                "role_mapping": {"medecin": ["clinician"]},
                "perimeter_claim": "hopia_services",
            },
        )
        try:
            with _serve(web) as url:
                context = served.browser.new_context(base_url=url, locale="fr-FR")  # type: ignore[attr-defined]
                page = context.new_page()
                page.goto("/login")
                with page.expect_navigation():
                    page.get_by_role("link", name="Se connecter avec Keycloak du CHU").click()
                assert page.url.startswith(f"{provider}/oauth2/authorize")
                page.locator('input[name="sub"]').fill("sub-chromium")
                with page.expect_navigation(url=f"{url}/"):
                    page.get_by_role("button", name="Authorize").click()
                assert page.get_by_role("heading", level=1).inner_text() == "Bonjour Dr Chromium"
                with page.expect_navigation(url=f"{provider}/oauth2/end_session**"):
                    page.get_by_role("button", name="Se déconnecter").click()
                assert "id_token_hint=" in page.url
                served.shot(page, "oidc-fin-de-session-fournisseur")
                with page.expect_navigation(url=f"{url}/login"):
                    page.get_by_role("button", name="End session").click()
                assert page.get_by_role("button", name="Se connecter").count() == 1
                assert page.request.get(f"{url}/api/v1/auth/me").status == 401
                assert not web.sql("SELECT 1 FROM hopia_meta.web_session_oidc")
                context.close()
        finally:
            web.warehouse.close()

"""``/login/oidc`` and ``/login/oidc/callback``: logging in through the identity provider.

``GET /login/oidc`` sends the browser to the provider (``web.oidc``) with a fresh state, nonce
and PKCE challenge, kept in a signed, ``HttpOnly`` cookie scoped to ``/login/oidc``; the
provider sends it back to the callback, which checks it all (:mod:`.oidc`), hands the verified
claims to the external login service (account, roles, perimeter, audit) and opens the same
server-side session as a local login. A refusal is a French page (401 or 403), never a trace.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from hopia.platform.exceptions import HopiaError, NotFoundError
from hopia.services import external_login
from hopia.web.auth.oidc import OidcClient, seal, unseal
from hopia.web.cookies import secure, set_session
from hopia.web.deps import anonymous_context

router = APIRouter(include_in_schema=False)

FLOW_COOKIE = "hopia_oidc"
FLOW_PATH = "/login/oidc"
_lock = threading.Lock()


def oidc_client(request: Request) -> OidcClient:
    """The application's provider client (its discovery document read once, for every request
    of this worker); 404 when OIDC is not configured."""
    state = request.app.state
    oidc = state.settings.web.oidc
    if not oidc.enabled:
        raise NotFoundError("connexion par fournisseur d'identité non configurée")
    with _lock:
        client = getattr(state, "oidc_client", None)
        if client is None:
            client = state.oidc_client = OidcClient(oidc)
    return client


def provider_logout_url(request: Request, id_token: str) -> str | None:
    """The provider's logout URL (RP-initiated logout) for a session opened through it, back to
    Hopia's login page afterwards; None when OIDC is off now, the provider has no logout
    endpoint or cannot be reached (the local logout is done all the same). The logout form
    redirects the browser there; the API's logout returns it for the client to follow."""
    if not request.app.state.settings.web.oidc.enabled:
        return None
    configured = request.app.state.settings.web.oidc.redirect_url
    if configured:  # behind a proxy: the public address the provider knows
        parts = urlsplit(str(configured))
        back = f"{parts.scheme}://{parts.netloc}/login"
    else:
        back = str(request.url_for("login_form"))
    try:
        return oidc_client(request).end_session_url(id_token, back)
    except HopiaError:
        return None


def _flow_key(request: Request) -> bytes:
    """The key that signs the flow cookie, derived from the installation's audit key (every
    worker has it; none of them keeps the flow in memory)."""
    key = anonymous_context(request).audit_key()
    return hmac.new(key, b"hopia-oidc-flow-key", hashlib.sha256).digest()


def _redirect_uri(request: Request) -> str:
    configured = request.app.state.settings.web.oidc.redirect_url
    return configured or str(request.url_for("oidc_callback"))


@router.get("/login/oidc")
def oidc_start(request: Request) -> Response:
    url, flow = oidc_client(request).start(_redirect_uri(request))
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        FLOW_COOKIE,
        seal(flow, _flow_key(request)),
        max_age=600,
        path=FLOW_PATH,
        httponly=True,
        # Lax: the provider's redirect back is a top-level GET from another site.
        samesite="lax",
        secure=secure(request, request.app.state.settings),
    )
    return response


@router.get("/login/oidc/callback", name="oidc_callback")
def oidc_callback(request: Request) -> Response:
    client = oidc_client(request)
    flow = unseal(request.cookies.get(FLOW_COOKIE), _flow_key(request))
    identity = client.finish(flow, dict(request.query_params))
    ctx = anonymous_context(request)
    done = external_login.external_login(
        ctx,
        external_login.ExternalLoginRequest.of(
            issuer=identity.issuer,
            subject=identity.subject,
            claims=identity.claims,
            id_token=identity.id_token,
        ),
    )
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    set_session(response, request, ctx.settings, done.token, done.expires_at)
    return response

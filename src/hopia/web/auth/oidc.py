"""OpenID Connect, the client side: authorization code flow with PKCE, state and nonce.

:class:`OidcClient` speaks to one provider (``web.oidc``: Keycloak, Pro Santé Connect, any
provider with a discovery document) through Authlib's OAuth 2 client over httpx:

- :meth:`OidcClient.start` builds the authorization URL with a fresh ``state``, ``nonce`` and
  PKCE ``code_verifier`` (S256), and returns them as a :class:`Flow` for the browser to keep;
- :meth:`OidcClient.finish` checks the callback's ``state`` against the flow, exchanges the
  code (with the verifier, and the client secret when there is one), checks the ID token
  (signature against the provider's keys, issuer, audience, expiry, nonce) and reads the
  userinfo endpoint (same ``sub``), giving the verified claims.

The flow travels in a cookie (:func:`seal` / :func:`unseal`), HMAC-signed with a key of the
installation, so that every web worker can finish a login another one started, and so that a
callback is only accepted by the browser that started the login (login CSRF). Nothing here logs
a secret, a token or a claim.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from hopia.platform.config import OidcSettings
from hopia.platform.exceptions import ConfigError, ExternalLoginError

FLOW_SECONDS = 600
"""A login must come back from the provider within this time."""
_DISCOVERY_TTL = 3600.0


@dataclass(frozen=True)
class Flow:
    """What the browser keeps between the redirect to the provider and the callback."""

    state: str
    nonce: str
    verifier: str
    redirect_uri: str
    started: float


@dataclass(frozen=True)
class Identity:
    issuer: str
    subject: str
    claims: dict[str, Any]
    id_token: str | None = None
    """The raw ID token (the provider's logout wants it back as ``id_token_hint``)."""


def seal(flow: Flow, key: bytes) -> str:
    body = base64.urlsafe_b64encode(json.dumps(asdict(flow)).encode()).decode()
    return f"{body}.{_mac(body, key)}"


def unseal(value: str | None, key: bytes) -> Flow:
    """The flow of a cookie; :class:`ExternalLoginError` when it is absent, forged or old."""
    body, _, mac = (value or "").partition(".")
    if not body or not hmac.compare_digest(mac, _mac(body, key)):
        raise ExternalLoginError(
            "connexion interrompue : recommencez depuis la page de connexion de Hopia"
        )
    try:
        flow = Flow(**json.loads(base64.urlsafe_b64decode(body)))
    except (ValueError, TypeError) as exc:
        raise ExternalLoginError("connexion interrompue : recommencez") from exc
    if time.time() - flow.started > FLOW_SECONDS:
        raise ExternalLoginError("connexion trop longue : recommencez depuis la page de connexion")
    return flow


def _mac(body: str, key: bytes) -> str:
    return hmac.new(key, b"hopia-oidc-flow\0" + body.encode(), hashlib.sha256).hexdigest()


class OidcClient:
    """One provider, from its discovery document (read once an hour at most per process)."""

    def __init__(self, settings: OidcSettings) -> None:
        if not settings.discovery_url:
            raise ConfigError("connexion OIDC non configurée (web.oidc.discovery_url)")
        self.settings = settings
        self._metadata: dict[str, Any] | None = None
        self._read_at = 0.0
        self._keys: KeySet | None = None

    # -- provider metadata ----------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None or time.monotonic() - self._read_at > _DISCOVERY_TTL:
            url = self.settings.discovery_url or ""
            document = self._get_json(url, "document de découverte")
            for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not document.get(key):
                    raise ExternalLoginError(
                        f"document de découverte OIDC incomplet : « {key} » manquant ({url})"
                    )
            self._metadata, self._read_at, self._keys = document, time.monotonic(), None
        return self._metadata

    def _key_set(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            keys = self._get_json(self.metadata()["jwks_uri"], "clés publiques (JWKS)")
            self._keys = KeySet.import_key_set(keys)  # type: ignore[arg-type]
        return self._keys

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        import httpx

        try:
            response = httpx.get(url, timeout=self.settings.timeout_seconds)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ExternalLoginError(
                f"fournisseur d'identité injoignable ou réponse illisible ({what}) : "
                f"{type(exc).__name__}"
            ) from exc

    # -- the flow -------------------------------------------------------------------------------

    def _secret(self) -> str | None:
        s = self.settings
        if s.client_secret_file is not None:
            try:
                return s.client_secret_file.read_text("utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    f"secret du client OIDC illisible : {s.client_secret_file}"
                ) from exc
        return s.client_secret.get_secret_value() if s.client_secret else None

    def _client(self, redirect_uri: str) -> OAuth2Client:
        secret = self._secret()
        scopes = ["openid", *[s for s in self.settings.scopes if s != "openid"]]
        return OAuth2Client(
            client_id=self.settings.client_id,
            client_secret=secret,
            token_endpoint_auth_method="client_secret_basic" if secret else "none",
            scope=" ".join(scopes),
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=self.settings.timeout_seconds,
        )

    def start(self, redirect_uri: str) -> tuple[str, Flow]:
        """The provider's authorization URL and the flow to keep."""
        flow = Flow(
            state=generate_token(32),
            nonce=generate_token(32),
            verifier=secrets.token_urlsafe(64),
            redirect_uri=redirect_uri,
            started=time.time(),
        )
        with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                self.metadata()["authorization_endpoint"],
                state=flow.state,
                code_verifier=flow.verifier,
                nonce=flow.nonce,
            )
        return url, flow

    def finish(self, flow: Flow, params: dict[str, str]) -> Identity:
        """Check the callback and exchange its code: the verified claims of the user."""
        if "error" in params:
            raise ExternalLoginError(
                f"le fournisseur d'identité a refusé la connexion ({params['error'][:60]})"
            )
        state = params.get("state", "")
        if not state or not hmac.compare_digest(state, flow.state):
            raise ExternalLoginError(
                "réponse du fournisseur d'identité refusée : paramètre state inattendu "
                "(recommencez depuis la page de connexion)"
            )
        code = params.get("code")
        if not code:
            raise ExternalLoginError("réponse du fournisseur d'identité sans code d'autorisation")
        meta = self.metadata()
        with self._client(flow.redirect_uri) as client:
            try:
                token = client.fetch_token(
                    meta["token_endpoint"], code=code, code_verifier=flow.verifier
                )
            except Exception as exc:  # noqa: BLE001 - Authlib and httpx raise many kinds
                raise ExternalLoginError(
                    f"échange du code refusé par le fournisseur d'identité : {type(exc).__name__}"
                ) from exc
            claims = self._id_token_claims(token, flow.nonce)
            if self.settings.userinfo and meta.get("userinfo_endpoint"):
                claims = {**claims, **self._userinfo(client, meta["userinfo_endpoint"], claims)}
        return Identity(
            issuer=meta["issuer"],
            subject=str(claims["sub"]),
            claims=claims,
            id_token=token["id_token"],
        )

    def end_session_url(self, id_token: str, post_logout_redirect_uri: str) -> str | None:
        """The provider's logout URL (OpenID Connect RP-Initiated Logout 1.0): its
        ``end_session_endpoint`` with ``id_token_hint``, ``post_logout_redirect_uri`` and
        ``client_id``; None when the provider announces no such endpoint."""
        endpoint = self.metadata().get("end_session_endpoint")
        if not endpoint:
            return None
        query = urlencode(
            {
                "id_token_hint": id_token,
                "post_logout_redirect_uri": post_logout_redirect_uri,
                "client_id": self.settings.client_id,
            }
        )
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    def _id_token_claims(self, token: dict[str, Any], nonce: str) -> dict[str, Any]:
        if "id_token" not in token:
            raise ExternalLoginError("le fournisseur d'identité n'a pas donné de jeton d'identité")
        meta = self.metadata()
        registry = JWSRegistry(
            algorithms=meta.get("id_token_signing_alg_values_supported") or ["RS256"],
            strict_check_header=False,
        )
        try:
            try:
                decoded = jwt.decode(token["id_token"], self._key_set(), registry=registry)
            except JoseError:  # the provider may have rotated its keys since they were read
                decoded = jwt.decode(token["id_token"], self._key_set(True), registry=registry)
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {"iss": {"essential": True, "values": [meta["issuer"]]}},
                {
                    "nonce": nonce,
                    "client_id": self.settings.client_id,
                    "access_token": token.get("access_token"),
                },
            )
            claims.validate(leeway=60)
        except Exception as exc:  # noqa: BLE001 - joserfc and Authlib's claim errors
            raise ExternalLoginError(
                f"jeton d'identité refusé (signature, émetteur, audience, nonce ou expiration) : "
                f"{type(exc).__name__}"
            ) from exc
        return dict(claims)

    def _userinfo(self, client: OAuth2Client, url: str, claims: dict[str, Any]) -> dict[str, Any]:
        try:
            response = client.get(url)
            response.raise_for_status()
            info = response.json()
        except Exception as exc:  # noqa: BLE001 - httpx errors and a body that is not JSON
            raise ExternalLoginError(
                f"lecture du profil (userinfo) impossible : {type(exc).__name__}"
            ) from exc
        if not isinstance(info, dict) or str(info.get("sub")) != str(claims.get("sub")):
            raise ExternalLoginError("profil (userinfo) d'un autre utilisateur : refusé")
        return info

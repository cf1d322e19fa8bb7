"""The session cookie: a random token (the session row holds its SHA-256), ``HttpOnly``,
``SameSite=Lax``, ``Secure`` unless the installation says otherwise (``web.cookie_secure``:
``auto`` leaves it off only for plain http to localhost, the development case)."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request, Response

from hopia.platform.config import Settings

COOKIE = "hopia_session"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def session_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE) or None


def secure(request: Request, settings: Settings) -> bool:
    mode = settings.web.cookie_secure
    if mode != "auto":
        return mode == "always"
    return not (request.url.scheme == "http" and request.url.hostname in LOCAL_HOSTS)


def set_session(
    response: Response, request: Request, settings: Settings, token: str, expires: datetime
) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(settings.web.session_hours * 3600),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure(request, settings),
    )


def clear_session(response: Response, request: Request, settings: Settings) -> None:
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="lax", secure=secure(request, settings)
    )

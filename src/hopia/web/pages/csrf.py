"""CSRF protection of the forms: the double-submit token.

A page with a form sets a random token in a cookie (``HttpOnly``, ``SameSite=Strict``) and
writes the same value in a hidden field; a form post is accepted only when both are present
and equal. Another site can make a browser post a form, not read or set this cookie.
"""

from __future__ import annotations

import secrets

from fastapi import Request, Response

from hopia.platform.exceptions import AccessDeniedError
from hopia.web.cookies import secure

CSRF_COOKIE = "hopia_csrf"
FIELD = "csrf"


def token_for(request: Request) -> str:
    """The request's token (from its cookie), or a new one to set with :func:`set_token`."""
    return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)


def set_token(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure(request, request.app.state.settings),
    )


def check(request: Request, sent: str | None) -> None:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not sent or not secrets.compare_digest(cookie, sent):
        raise AccessDeniedError(
            "formulaire expiré ou envoyé depuis un autre site : rechargez la page et recommencez",
            details={"csrf": True},
        )

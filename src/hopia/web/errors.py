"""Errors as the API answers them: a JSON problem (RFC 9457 shape) with a French message and a
stable machine ``code``, never a stack trace.

- :class:`HopiaError`: its ``http_status`` and :meth:`~HopiaError.to_dict` (code, message,
  fields, details);
- FastAPI's own validation errors (a missing field, a wrong type): ``invalid_request``, the
  fields named as the services name them, in French;
- an unknown path or method: ``not_found`` / ``method_not_allowed``;
- anything else is a bug: ``internal_error``, logged with its traceback (no request data).

Outside ``/api/`` (the pages), the same errors are a French HTML page (``error.html``).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from hopia.platform.exceptions import HopiaError
from hopia.services.context import french_errors

log = logging.getLogger("hopia.web")
PROBLEM = "application/problem+json"

_HTTP_FR = {
    400: ("bad_request", "requête incorrecte"),
    401: ("authentication_required", "connexion requise"),
    403: ("access_denied", "accès refusé"),
    404: ("not_found", "ressource introuvable"),
    405: ("method_not_allowed", "méthode non autorisée pour cette adresse"),
    413: ("too_large", "requête trop volumineuse"),
}


_TITLES = {
    401: "Connexion requise",
    403: "Accès refusé",
    404: "Page introuvable",
    422: "Requête incorrecte",
    429: "Trop de tentatives",
    500: "Erreur interne",
}


def problem(
    status: int, code: str, message: str, request: Request | None = None, **extra: Any
) -> Response:
    # /v1: the OpenAI-compatible gateway answers its programs as the API does
    if request is not None and not request.url.path.startswith(("/api/", "/v1/")):
        from hopia.web.pages.render import page  # a page's error is a page

        title = _TITLES.get(status, "Erreur")
        return page(request, "error.html", status, title=title, message=message)
    body = {"status": status, "code": code, "message": message, "fields": [], "details": {}}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _hopia(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HopiaError)
    body = exc.to_dict()
    if exc.http_status >= 500:
        log.error("erreur %s (%s)", exc.code, type(exc).__name__)
    return problem(exc.http_status, request=request, **body)


def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # "body", "query", "path": where FastAPI found the field; the API names the field only.
    errors = [
        dict(e, loc=tuple(p for p in e.get("loc", ()) if p not in ("body", "query", "path")))
        for e in exc.errors()
    ]
    fields, message = french_errors(errors)
    return problem(422, "invalid_request", message, request, fields=fields)


def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code, message = _HTTP_FR.get(exc.status_code, ("http_error", "erreur de la requête"))
    return problem(exc.status_code, code, message, request)


def _internal(request: Request, exc: Exception) -> Response:
    log.exception("erreur interne (%s)", type(exc).__name__)
    return problem(
        500,
        "internal_error",
        "erreur interne du serveur : l'incident est journalisé, réessayez ou prévenez "
        "l'équipe Hopia",
        request,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(HopiaError, _hopia)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _internal)

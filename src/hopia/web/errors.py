"""Errors as the API answers them: a JSON problem (RFC 9457 shape) with a French message and a
stable machine ``code``, never a stack trace.

- :class:`HopiaError`: its ``http_status`` and :meth:`~HopiaError.to_dict` (code, message,
  fields, details);
- FastAPI's own validation errors (a missing field, a wrong type): ``invalid_request``, the
  fields named as the services name them, in French;
- an unknown path or method: ``not_found`` / ``method_not_allowed``;
- anything else is a bug: ``internal_error``, logged with its traceback (no request data).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
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


def problem(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    body = {"status": status, "code": code, "message": message, "fields": [], "details": {}}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _hopia(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HopiaError)
    body = exc.to_dict()
    if exc.http_status >= 500:
        log.error("erreur %s (%s)", exc.code, type(exc).__name__)
    return problem(exc.http_status, **body)


def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # "body", "query", "path": where FastAPI found the field; the API names the field only.
    errors = [
        dict(e, loc=tuple(p for p in e.get("loc", ()) if p not in ("body", "query", "path")))
        for e in exc.errors()
    ]
    fields, message = french_errors(errors)
    return problem(422, "invalid_request", message, fields=fields)


def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, message = _HTTP_FR.get(exc.status_code, ("http_error", "erreur de la requête"))
    return problem(exc.status_code, code, message)


def _internal(_: Request, exc: Exception) -> JSONResponse:
    log.exception("erreur interne (%s)", type(exc).__name__)
    return problem(
        500,
        "internal_error",
        "erreur interne du serveur : l'incident est journalisé, réessayez ou prévenez "
        "l'équipe Hopia",
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(HopiaError, _hopia)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _internal)

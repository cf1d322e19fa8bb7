"""The application's ASGI middleware: security headers and the access log, and the request
body limit. Plain ASGI (not ``BaseHTTPMiddleware``, which runs the app in a task of its own and
turns an error raised while the body is read into a group the routes cannot see).

The body limit (``web.max_body_bytes``) is answered like every other error.

A body announced larger than the limit (``Content-Length``) is refused before a byte of it is
read; one sent in chunks is counted as it arrives and refused when it passes the limit (the
route reading it gets HTTP 413, which :mod:`hopia.web.errors` phrases in French). FastAPI's own
``max_body_size`` answers outside the application's error handlers, in English: not used.
"""

from __future__ import annotations

import logging
import re
import time

from fastapi import HTTPException
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hopia.web.errors import problem

TOO_LARGE = 413
access_log = logging.getLogger("hopia.web.access")

# Every answer: no sniffing, no framing, no referrer, and nothing kept by a cache (the API
# returns patient data). A page sets its own Content-Security-Policy (scripts and styles from
# Hopia); everything else gets the strictest.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


class HeadersAndLog:
    """Security headers on every answer, and one access-log line: method, path (ids only: no
    name is ever in a path), status, milliseconds. Never the query string: a search's words
    may be a patient's name."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            access_log.info(
                "%s %s %d %.0fms",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
            )


class BodyLimit:
    """``max_bytes`` per request body; ``larger``: paths allowed more (an upload's documents);
    ``{}`` in a path stands for one segment (``/api/v1/dictations/{}/audio``)."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}
        self.patterns = [
            (re.compile("^" + "[^/]+".join(map(re.escape, path.split("{}"))) + "$"), limit)
            for path, limit in self.larger.items()
            if "{}" in path
        ]

    def limit_for(self, path: str) -> int:
        if path in self.larger:
            return self.larger[path]
        return next((n for p, n in self.patterns if p.match(path)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        announced = dict(scope.get("headers") or ()).get(b"content-length")
        if announced is not None and announced.isdigit() and int(announced) > limit:
            response = problem(
                TOO_LARGE, "too_large", "requête trop volumineuse", Request(scope, receive)
            )
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(status_code=TOO_LARGE)
            return message

        await self.app(scope, counted, send)

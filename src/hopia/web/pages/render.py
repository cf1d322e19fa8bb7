"""Rendering a page: one Jinja2 environment over ``hopia/web/templates`` (autoescaped), and the
page's Content-Security-Policy (scripts, styles, images and script requests, such as the
assistant's streamed answer, to Hopia only)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse

if TYPE_CHECKING:
    from jinja2 import Environment

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@cache
def environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, select_autoescape  # the web extra

    folder = str(files("hopia.web") / "templates")
    return Environment(loader=FileSystemLoader(folder), autoescape=select_autoescape(["html"]))


def page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """``template`` rendered with ``values`` (and ``request``), French, no-store."""
    html = environment().get_template(template).render(request=request, **values)
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Security-Policy"] = page_csp(request)
    return response


def page_csp(request: Request) -> str:
    """:data:`PAGE_CSP`, and with OIDC on, the provider's origin among the form targets: the
    logout form's answer redirects to the provider's logout, and browsers hold a form's
    redirects to ``form-action`` too."""
    settings = getattr(request.app.state, "settings", None)
    oidc = settings.web.oidc if settings is not None else None
    if oidc is None or not oidc.enabled or not oidc.discovery_url:
        return PAGE_CSP
    parts = urlsplit(str(oidc.discovery_url))
    return PAGE_CSP.replace(
        "form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}"
    )

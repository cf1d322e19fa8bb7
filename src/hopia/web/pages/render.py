"""Rendering a page: one Jinja2 environment over ``hopia/web/templates`` (autoescaped), and the
page's Content-Security-Policy (scripts, styles and images from Hopia only)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse

if TYPE_CHECKING:
    from jinja2 import Environment

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
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
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response

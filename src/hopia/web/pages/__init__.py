"""Server-rendered French pages (Jinja2 templates in ``hopia/web/templates``, assets in
``hopia/web/static``, served by Hopia itself: no CDN, no web font, no inline script or style).

Each area's pages are a router in ``pages/<area>.py``, mounted at the root (the API stays
under ``/api/v1``); they call the same services as the API. Forms carry a CSRF token
(:mod:`.csrf`). :data:`PAGES` lists the routers the application mounts.
"""

from __future__ import annotations

from hopia.web.auth.oidc_pages import router as oidc
from hopia.web.pages.auth import router as auth

PAGES = [auth]
PAGES.append(oidc)

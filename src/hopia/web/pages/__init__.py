"""Server-rendered French pages (Jinja2 templates in ``hopia/web/templates``, assets in
``hopia/web/static``, served by Hopia itself: no CDN, no web font, no inline script or style).

Each area's pages are a router in ``pages/<area>.py``, mounted at the root (the API stays
under ``/api/v1``); they call the same services as the API. Forms carry a CSRF token
(:mod:`.csrf`). :data:`PAGES` lists the routers the application mounts.
"""

from __future__ import annotations

from hopia.web.auth.oidc_pages import router as oidc
from hopia.web.pages.admin import router as admin
from hopia.web.pages.assistant import router as assistant
from hopia.web.pages.assistant_history import router as assistant_history
from hopia.web.pages.assistant_tasks import router as assistant_tasks
from hopia.web.pages.audit import router as audit
from hopia.web.pages.auth import router as auth
from hopia.web.pages.cohorts import router as cohorts
from hopia.web.pages.dictation import router as dictation
from hopia.web.pages.documents import router as documents
from hopia.web.pages.exports import router as exports
from hopia.web.pages.jobs import router as jobs
from hopia.web.pages.management import router as management
from hopia.web.pages.management_beds import router as management_beds
from hopia.web.pages.management_carbon import router as management_carbon
from hopia.web.pages.management_forecasts import router as management_forecasts
from hopia.web.pages.management_roster import router as management_roster
from hopia.web.pages.management_steering import router as management_steering
from hopia.web.pages.management_stock import router as management_stock
from hopia.web.pages.patients import router as patients
from hopia.web.pages.quality import router as quality

PAGES = [auth, oidc, documents, patients, cohorts, exports, quality, jobs, audit, admin]
# axis 3: questions over knowledge collections (cited answers, streamed), the task forms, the
# history per user
PAGES += [assistant, assistant_tasks, assistant_history]
PAGES += [dictation]  # axis 2: dictation (record, review, validate)
PAGES += [management]  # axis 4: the dashboards' entry (/pilotage)
PAGES += [management_carbon]  # axis 4: carbon footprint (/pilotage/carbone)
PAGES += [management_stock]  # axis 4: purchasing and stock (/pilotage/stock)
PAGES += [management_steering, management_beds]  # axis 4: /pilotage/activite, /pilotage/lits
PAGES += [management_roster]  # axis 4: the nurse roster (/pilotage/planning)
PAGES += [management_forecasts]  # axis 4: admissions forecasts (/pilotage/previsions)

"""One router per area; :data:`ROUTERS` is what the application mounts under ``/api/v1``."""

from __future__ import annotations

from hopia.web.auth.routes import router as auth
from hopia.web.routes.accounts import router as accounts
from hopia.web.routes.activity import router as activity
from hopia.web.routes.audit import router as audit
from hopia.web.routes.beds import router as beds
from hopia.web.routes.carbon import router as carbon
from hopia.web.routes.cohorts import router as cohorts
from hopia.web.routes.collections import assistant as assistant_routes
from hopia.web.routes.collections import router as collections
from hopia.web.routes.dictation import router as dictation
from hopia.web.routes.documents import router as documents
from hopia.web.routes.exports import router as exports
from hopia.web.routes.forecasts import router as forecasts
from hopia.web.routes.gateway import api_router as assistant
from hopia.web.routes.ingest import router as ingest
from hopia.web.routes.jobs import router as jobs
from hopia.web.routes.patients import router as patients
from hopia.web.routes.quality import router as quality
from hopia.web.routes.research import router as research
from hopia.web.routes.roster import router as roster
from hopia.web.routes.steering import router as steering
from hopia.web.routes.stock import router as stock

ROUTERS = [auth, documents, patients, cohorts, quality, activity, jobs, audit, accounts]
ROUTERS += [ingest, exports, research]  # W1: jobs from the web, the research space
ROUTERS += [assistant]  # API keys and LLM usage (the /v1 gateway itself: app.py)
ROUTERS += [collections, assistant_routes]  # axis 3: knowledge collections, cited answers
ROUTERS += [dictation]  # axis 2: dictation drafts
ROUTERS += [carbon]  # axis 4: carbon footprint
ROUTERS += [stock]  # axis 4: purchasing and stock
ROUTERS += [steering, beds]  # axis 4: steering indicators, bed needs
ROUTERS += [roster]  # axis 4: nurse rosters
ROUTERS += [forecasts]  # axis 4: admissions forecasts

"""The application factory: ``create_app(settings)`` builds the API over one warehouse.

The front end's composition root is the CLI (``hopia serve`` reads the settings and hands them
here, :mod:`hopia.cli.serve`); tests hand a warehouse of their own. The application opens the
warehouse once, keys its audit log (as every service context does), builds the web's access
policy (:class:`~hopia.platform.identity.roles.SpacePolicy`, perimeters read in the
warehouse), and mounts the routers of :mod:`hopia.web.routes` under ``/api/v1``.

No page or asset comes from outside: the French pages (:mod:`hopia.web.pages`) and their
assets (``/static``) are served by Hopia; the interactive API docs (Swagger UI, ReDoc) load
their scripts from a CDN, so they are off; the OpenAPI document is at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from hopia import __version__
from hopia.platform import audit
from hopia.platform.access import Principal
from hopia.platform.config import Settings
from hopia.platform.exceptions import HopiaError
from hopia.platform.identity import store
from hopia.platform.identity.roles import SpacePolicy
from hopia.platform.warehouse import Warehouse
from hopia.services import jobs
from hopia.services.context import Context
from hopia.services.warehouse import existing_warehouse
from hopia.web import errors
from hopia.web.middleware import BodyLimit, HeadersAndLog
from hopia.web.pages import PAGES
from hopia.web.pages.assistant import DOCUMENT_FORM
from hopia.web.pages.dictation import DICTATION_FILE_FORM
from hopia.web.pages.jobs import INGEST_FORM
from hopia.web.routes import ROUTERS
from hopia.web.routes import gateway as llm_gateway
from hopia.web.routes.collections import DOCUMENTS
from hopia.web.routes.dictation import PREFIX as DICTATIONS
from hopia.web.routes.ingest import UPLOADS

API = "/api/v1"


def create_app(
    settings: Settings, warehouse: Warehouse | None = None, *, run_jobs: bool = False
) -> FastAPI:
    """The web application. Without ``warehouse``, the configured one is opened (it must exist:
    ``hopia init`` / ``hopia ingest`` / ``hopia demo`` make it) and closed at shutdown.

    ``run_jobs`` (``hopia serve``): the application starts the job runner when it starts
    (:func:`hopia.services.jobs.start_runner`: threads of this process on its warehouse — on
    DuckDB no other process can open the file — or the Redis queue) and stops it when it stops,
    the jobs at hand finishing first. Without it a submitted job waits for a worker."""
    boot = Context(settings, Principal("hopia-web"))
    if warehouse is None:
        wh, owned = existing_warehouse(boot), True
    else:
        wh, owned = warehouse, False
        if audit.anchor_of(wh.engine) is None:
            audit.anchor(wh.engine, boot.audit_anchor(wh))

    @asynccontextmanager
    async def lifespan(started: FastAPI) -> AsyncIterator[None]:
        runner, operator = None, Context.local(settings, "hopia-web")
        if run_jobs:  # the operator's context (jobs.run): open while the runner runs
            operator.use_warehouse(wh)
            runner = started.state.runner = jobs.start_runner(operator)
        try:
            yield
        finally:
            if runner is not None:
                started.state.runner = None
                runner.stop(wait=True)  # the jobs at hand finish (their rows say so)
            operator.close()
            gateway = getattr(started.state, "llm_gateway", None)
            if gateway is not None:  # the LLM backends' kept connections
                gateway.close()
            if owned:
                wh.close()

    app = FastAPI(
        title="Hopia",
        version=__version__,
        summary="Sovereign clinical AI platform: documents, patients, cohorts, audit.",
        openapi_url=f"{API}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.warehouse = wh
    # A warehouse at this version's schema is never migrated again per request: each request's
    # context would otherwise run the (no-op) migration, a write transaction holding the
    # writers' turn (~20 ms on the demo, every audited read queued behind it).
    app.state.schema_ready = _schema_ready(wh)
    app.state.policy = SpacePolicy(
        store.perimeter_reader(wh.engine), settings.web.break_glass_roles
    )
    errors.install(app)
    # Added last is outermost: the limit first, then headers and the log around the rest.
    app.add_middleware(HeadersAndLog)
    # Uploads carry documents: their own limit (jobs.max_upload_bytes, each file checked too).
    upload_limit = max(settings.jobs.max_upload_bytes, settings.web.max_body_bytes)
    larger = {f"{API}{UPLOADS}": upload_limit, INGEST_FORM: upload_limit}
    larger[f"{API}{DOCUMENTS}"] = settings.assistant.knowledge.max_document_bytes + 65_536
    larger[DOCUMENT_FORM] = larger[f"{API}{DOCUMENTS}"]
    audio_limit = settings.care.dictation.max_audio_bytes + 65_536  # a dictation's audio file
    larger |= {f"{API}{DICTATIONS}/{{}}/audio": audio_limit, DICTATION_FILE_FORM: audio_limit}
    app.add_middleware(BodyLimit, max_bytes=settings.web.max_body_bytes, larger=larger)
    for router in ROUTERS:
        app.include_router(router, prefix=API)
    for router in PAGES:
        app.include_router(router)
    app.include_router(llm_gateway.router)  # /v1: OpenAI-compatible, where OpenAI clients look
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]  # errors as served
    app.mount("/static", StaticFiles(packages=[("hopia.web", "static")]), name="static")
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with every error answer described as it is served:
    ``application/problem+json`` (FastAPI files a response model under ``application/json``)."""
    if app.openapi_schema is None:
        document = FastAPI.openapi(app)  # built once, kept in app.openapi_schema
        for item in document.get("paths", {}).values():
            for operation in item.values():
                for status, answer in operation.get("responses", {}).items():
                    content = answer.get("content", {})
                    if status[:1] in ("4", "5") and "application/json" in content:
                        content[errors.PROBLEM] = content.pop("application/json")
    return app.openapi_schema


def _schema_ready(wh: Warehouse) -> bool:
    try:
        wh.check_schema()
    except HopiaError:
        return False  # a warehouse handed over unmigrated: the services migrate it on write
    return True

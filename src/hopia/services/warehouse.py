"""Warehouse service: summary figures (counts only: nothing identifying), OMOP CSV loading and
the loading of the Spark ingest's Parquet output.

The figures and the OMOP CSV load are not written to the audit log: the figures are table-level
counts, and a CSV load writes data in (a site's own OMOP extract), recorded with each file's
sha256 in ``hopia_meta.omop_load``. A Parquet load writes the identified space (documents,
identities, the vault) as an ingest does: one audit entry (``warehouse.load_parquet``, runs and
counts only) in the load's transaction. The access policy is asked first (``warehouse.stats``,
``warehouse.load_omop``, ``warehouse.load_parquet``).

:func:`existing_warehouse` is how a service that only reads opens the warehouse: an embedded
DuckDB file that does not exist is an error naming its path (``hopia init``, ``hopia ingest`` or
``hopia demo`` create one), never an empty warehouse created on the way; a database (DuckDB or
PostgreSQL) without Hopia's schema, or with an older one, is an error naming ``hopia init``,
never a schema created or migrated by a read.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from hopia.platform.exceptions import NotFoundError
from hopia.platform.warehouse import Warehouse, schema
from hopia.platform.warehouse.runs import run_counts
from hopia.services.context import Context, Request

if TYPE_CHECKING:
    from hopia.data.omop.load_csv import LoadReport
    from hopia.data.omop.load_parquet import ParquetLoadReport


@dataclass
class WarehouseStats:
    tables: dict[str, int]
    documents_done: int
    documents_error: int
    mentions: Counter[str] = field(default_factory=Counter)
    dialect: str = ""
    # Ingest runs by French state (terminée, échouée, interrompue, en cours): a run whose
    # process died counts as interrompue, never as en cours.
    runs: Counter[str] = field(default_factory=Counter)


class LoadOmopRequest(Request):
    path: Path
    """An OMOP CDM 5.4 CSV set: a folder or a zip archive."""
    replace: bool = False
    """Replace the clinical rows whose identifiers already exist (refused otherwise)."""


class LoadParquetRequest(Request):
    path: Path
    """The output folder of ``hopia spark ingest`` (docs/spark.md, "Output")."""


def duckdb_file(url: str) -> Path | None:
    """The file of an embedded DuckDB URL (None for a server or an in-memory database)."""
    if not url.startswith("duckdb:///"):
        return None
    path = url[len("duckdb:///") :].split("?", 1)[0]
    return None if not path or path == ":memory:" else Path(path)


def existing_warehouse(ctx: Context) -> Warehouse:
    """The context's warehouse for a read: :class:`NotFoundError` when the configured DuckDB
    file does not exist (opening it would create an empty one),
    :class:`~hopia.platform.exceptions.WarehouseSchemaError` when its schema is absent or older
    than this version's (a read never migrates it)."""
    if getattr(ctx, "_warehouse", None) is None:  # not opened yet, nor handed over
        path = duckdb_file(ctx.settings.resolved_warehouse_url())
        if path is not None and not path.exists():
            raise NotFoundError(
                f"aucun entrepôt à {path} : créez-le (hopia init puis hopia ingest, ou hopia "
                "demo) ou désignez l'entrepôt voulu (HOPIA_HOME, HOPIA_WAREHOUSE_URL)"
            )
    return ctx.warehouse(migrate=False)


def warehouse_stats(wh: Warehouse) -> WarehouseStats:
    tables = {k: v for k, v in wh.table_counts().items() if v}
    doc = schema.document
    nlp = schema.CDM["note_nlp"]
    with wh.engine.connect() as conn:
        by_status = dict(
            conn.execute(select(doc.c.status, func.count()).group_by(doc.c.status)).all()
        )
        mentions: Counter[str] = Counter()
        for (modifiers,) in conn.execute(select(nlp.c.term_modifiers)):
            try:
                mentions[json.loads(modifiers)["label"]] += 1
            except (TypeError, ValueError, KeyError):
                mentions["?"] += 1
    return WarehouseStats(
        tables,
        by_status.get("done", 0),
        by_status.get("error", 0),
        mentions,
        wh.dialect,
        run_counts(wh),
    )


def stats(ctx: Context) -> WarehouseStats:
    """Rows per table, documents by status, NLP mentions by label."""
    ctx.authorize("warehouse.stats", "warehouse")
    return warehouse_stats(existing_warehouse(ctx))


def load_omop(ctx: Context, request: LoadOmopRequest) -> LoadReport:
    """Load an OMOP CSV set, all or nothing; loading the same files again adds nothing."""
    from hopia.data.omop.load_csv import load_omop as load

    ctx.authorize("warehouse.load_omop", f"omop-csv:{request.path.name}")
    return load(ctx.warehouse(), request.path, replace=request.replace)


def load_parquet(ctx: Context, request: LoadParquetRequest) -> ParquetLoadReport:
    """Load the Spark runs of ``request.path`` not loaded yet, all or nothing, with one audit
    entry in the same transaction; loading the same folder again adds nothing."""
    from sqlalchemy import Connection

    from hopia.data.omop.load_parquet import load_parquet as load
    from hopia.data.omop.research_ids import pseudonymous_id
    from hopia.data.pseudo.surrogates import Surrogates
    from hopia.data.pseudo.vault import Vault
    from hopia.platform import audit

    target = f"parquet:{request.path.name}"
    ctx.authorize("warehouse.load_parquet", target)
    secret = ctx.secret()  # never created here: hopia init (KeysMissingError)
    wh = ctx.warehouse()
    vault = Vault(wh, ctx.vault_key())
    offsets = Surrogates(secret).date_offset_days

    def fill_vault(conn: Connection, document_ids: list[int]) -> None:
        # The cluster never sees the vault key: the loader fills the vault from the documents
        # and PHI spans it loaded (docs/spark.md, "the vault").
        vault.store_documents(conn, offsets, document_ids)

    def record(conn: Connection, report: ParquetLoadReport) -> None:
        details = {"runs": report.runs, "run_id": report.run_id, "rows": report.rows}
        audit.record(conn, ctx.actor, "warehouse.load_parquet", target, None, details)

    return load(
        wh,
        request.path,
        research_id=lambda ipp: pseudonymous_id(secret, ipp),
        on_documents=fill_vault,
        then=record,
    )

"""Warehouse service: summary figures (counts only: nothing identifying) and OMOP CSV loading.

Neither is written to the audit log: the figures are table-level counts, and a load writes
data in (a site's own OMOP extract), recorded with each file's sha256 in ``hopia_meta.omop_load``.
The access policy is asked first (``warehouse.stats``, ``warehouse.load_omop``).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from hopia.platform.warehouse import Warehouse, schema
from hopia.services.context import Context, Request

if TYPE_CHECKING:
    from hopia.data.omop.load_csv import LoadReport


@dataclass
class WarehouseStats:
    tables: dict[str, int]
    documents_done: int
    documents_error: int
    mentions: Counter[str] = field(default_factory=Counter)
    dialect: str = ""


class LoadOmopRequest(Request):
    path: Path
    """An OMOP CDM 5.4 CSV set: a folder or a zip archive."""
    replace: bool = False
    """Replace the clinical rows whose identifiers already exist (refused otherwise)."""


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
    )


def stats(ctx: Context) -> WarehouseStats:
    """Rows per table, documents by status, NLP mentions by label."""
    ctx.authorize("warehouse.stats", "warehouse")
    return warehouse_stats(ctx.warehouse())


def load_omop(ctx: Context, request: LoadOmopRequest) -> LoadReport:
    """Load an OMOP CSV set, all or nothing; loading the same files again adds nothing."""
    from hopia.data.omop.load_csv import load_omop as load

    ctx.authorize("warehouse.load_omop", f"omop-csv:{request.path.name}")
    return load(ctx.warehouse(), request.path, replace=request.replace)

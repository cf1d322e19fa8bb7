"""Summary figures of the warehouse (counts only: nothing identifying)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select

from hopia.platform.warehouse import Warehouse, schema


@dataclass
class WarehouseStats:
    tables: dict[str, int]
    documents_done: int
    documents_error: int
    mentions: Counter[str] = field(default_factory=Counter)


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
    return WarehouseStats(tables, by_status.get("done", 0), by_status.get("error", 0), mentions)

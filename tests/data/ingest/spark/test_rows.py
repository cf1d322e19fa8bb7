"""What a Spark executor computes for a partition (``rows.analyse_partition``, plain Python: no
Spark needed) against the local ingest, where the comparison needs a pipe that fails: the real
pipeline with a failing pipe added in this process (the one a Spark test's Python workers could
not share)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from hopia.data.ingest.pipeline import PIPE_ERROR_TABLE
from hopia.data.ingest.spark.components import JobConfig
from hopia.data.ingest.spark.rows import analyse_partition
from hopia.platform.config import get_settings
from hopia.platform.warehouse import Warehouse, schema
from tests.conftest import TEST_SECRET_KEY
from tests.data.ingest.conftest import build
from tests.data.ingest.test_pipe_errors import NOTES, failing_pipe  # noqa: F401 - a fixture

pytestmark = pytest.mark.slow


def test_a_failed_pipe_is_on_record_as_the_local_ingest_records_it(
    tmp_path: Path,
    failing_pipe: None,  # noqa: F811
) -> None:
    records = [{"id": i, "patient_id": "P1", "text": t} for i, t in NOTES]
    docs = tmp_path / "notes.jsonl"
    docs.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", "utf-8")
    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    with build(wh) as pipeline:
        report = pipeline.run([docs])
    assert report.pipe_errors == {"boom": 1}
    prov, doc, note = schema.provenance, schema.document, schema.CDM["note"]
    with wh.engine.connect() as conn:
        local_failures = conn.execute(
            select(note.c.note_source_value, prov.c.system, prov.c.note_nlp_id)
            .join(note, note.c.note_id == prov.c.row_id)
            .where(prov.c.table_name == PIPE_ERROR_TABLE)
        ).all()
        local_docs = dict(conn.execute(select(doc.c.content_hash, doc.c.error)).all())
    wh.close()

    config = JobConfig.from_settings(get_settings(), TEST_SECRET_KEY.encode(), date.today())
    frame = pd.DataFrame([r | {"_seq": n} for n, r in enumerate(records)], dtype=object)
    out = pd.concat(analyse_partition([frame], "notes", config), ignore_index=True)
    rows = [(t, json.loads(r)) for t, r in zip(out["table"], out["row"], strict=True)]
    failures = [
        r for t, r in rows if t == "hopia_provenance" and r["table_name"] == PIPE_ERROR_TABLE
    ]
    assert len(local_failures) == 1
    assert [(r["note_source_value"], r["system"], r["mention_index"]) for r in failures] == [
        tuple(local_failures[0])
    ]
    spark_docs = {r["content_hash"]: r["error"] for t, r in rows if t == "document"}
    assert spark_docs == local_docs
    assert sum(1 for e in spark_docs.values() if e and "boom" in e) == 1

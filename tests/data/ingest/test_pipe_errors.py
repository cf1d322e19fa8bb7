"""A pipe that fails on one document during ingest (issue 11, item 1): the document is stored
with its other facts, the failure is on the record (the document row, the note's provenance,
the run's summary), and the batch goes on. The failing pipe is a real pipe added to the real
pipeline, not a mock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from hopia.data.ingest.pipeline import PIPE_ERROR_TABLE
from hopia.data.nlp import get_nlp
from hopia.platform.config import get_settings
from hopia.platform.warehouse import Warehouse, schema
from tests.data.ingest.conftest import build
from tests.data.nlp.failing_pipes import register

pytestmark = pytest.mark.slow

TRIGGER = "zzpanne"  # lower case: no pseudonymisation rule takes it for a name
TEXT = "Amoxicilline 1 g x3/j pendant dix jours.\nInsuffisance cardiaque. Pas de fièvre.\n"
NOTES = [("ok", TEXT), ("bad", f"{TEXT}{TRIGGER}")]


@pytest.fixture
def failing_pipe() -> Iterator[None]:
    """``boom`` after the posology pipe of the process-wide pipeline, for this test only."""
    register()
    nlp = get_nlp(cache_dir=get_settings().cache_dir)
    nlp.add_pipe("test.fail_on", name="boom", after="posology", config={"trigger": TRIGGER})
    try:
        yield
    finally:  # edsnlp's Pipeline has no remove_pipe
        nlp._components = [(n, p) for n, p in nlp._components if n != "boom"]


def test_the_document_keeps_its_other_facts_and_the_failure_is_recorded(
    wh: Warehouse, tmp_path: Path, failing_pipe: None
) -> None:
    docs = tmp_path / "notes.jsonl"
    lines = [  # each note names its patient (a note naming none is refused)
        json.dumps({"id": i, "patient_id": "P1", "text": t}, ensure_ascii=False) for i, t in NOTES
    ]
    docs.write_text("\n".join(lines) + "\n", encoding="utf-8")

    report = build(wh).run([docs])

    assert (report.added, report.errors) == (2, [])
    assert report.pipe_errors == {"boom": 1}
    note_nlp, doc, prov, run = (
        schema.CDM["note_nlp"],
        schema.document,
        schema.provenance,
        schema.run,
    )
    with wh.engine.connect() as conn:
        documents = {
            r.external_id: r
            for r in conn.execute(
                select(doc.c.external_id, doc.c.status, doc.c.error, doc.c.note_id)
            )
        }
        failures = conn.execute(select(prov).where(prov.c.table_name == PIPE_ERROR_TABLE)).all()
        mentions = conn.execute(
            select(note_nlp.c.note_id, note_nlp.c.offset, note_nlp.c.term_modifiers)
        ).all()
        summary = conn.execute(select(run.c.summary)).scalar_one()
    assert {k: r.status for k, r in documents.items()} == {"ok": "done", "bad": "done"}
    assert documents["ok"].error is None
    assert documents["bad"].error == "TAL : boom en échec (ValueError)"
    assert [(f.row_id, f.note_id) for f in failures] == [(documents["bad"].note_id,) * 2]
    assert failures[0].system.endswith("boom (ValueError)")
    assert "Kervella" not in failures[0].system  # the planted message's quoted text
    assert "pipe_errors=boom:1" in summary

    def pipes(key: str) -> list[tuple[str, str, str]]:
        note = documents[key].note_id
        return sorted(
            (json.loads(m)["pipe"], o, m)  # m: qualifiers, codes, values, attributes
            for n, o, m in mentions
            if n == note and int(o.split("-")[1]) <= len(TEXT)
        )

    # in the text both notes share, the failing note has exactly what the good one has: every
    # other pipe's output, the pipes after the failing one included (posology before, the
    # qualifiers after)
    assert pipes("bad") == pipes("ok")
    assert {"drug", "cim10"} <= {p for p, _, _ in pipes("bad")}
    assert any(json.loads(m)["negation"] for _, _, m in pipes("bad"))  # "Pas de fièvre"

"""``hopia pseudo reidentify`` / ``hopia audit verify`` end to end: real ingest, vault, CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from hopia.cli.pseudo_vault import audit_verify, reidentify
from hopia.data.pseudo.vault import Vault
from hopia.platform.config import get_settings
from hopia.platform.keys import load_vault_key
from hopia.platform.warehouse import open_warehouse, schema
from hopia.services.ingest import build_pipeline
from tests.data.ingest.test_pipeline import NOTES, write_corpus

pytestmark = pytest.mark.slow

REASON = "Demande du DIM, dossier 2024-117"

app = typer.Typer()
app.command("reidentify")(reidentify)
app.command("verify")(audit_verify)


@pytest.fixture
def ingested(tmp_path: Path, in_process_models: None) -> dict[str, int]:
    """Two notes ingested into the default warehouse, the vault filled from them."""
    patients, docs = write_corpus(tmp_path / "in", [NOTES[0], NOTES[2]])
    wh = open_warehouse(get_settings())
    pipeline = build_pipeline(get_settings(), wh)
    pipeline.load_patients(patients)
    assert pipeline.run([docs]).added == 2
    # Ingest filled the vault in its batch transaction: a back-fill from hopia_id finds
    # every surrogate already there.
    with wh.begin() as conn:
        report = Vault(wh, load_vault_key(get_settings())).store_documents(
            conn, pipeline.pseudonymiser.date_offset_days
        )
    assert report.patients == 0 and report.entries == 0 and report.existing > 0
    doc = schema.document
    with wh.engine.connect() as conn:
        notes = dict(conn.execute(select(doc.c.external_id, doc.c.note_id)).all())
    wh.close()
    return notes


def audit_rows() -> int:
    wh = open_warehouse(get_settings())
    with wh.engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(schema.audit_log)).scalar()
    wh.close()
    return n


def run(*args: str):  # noqa: ANN201
    return CliRunner().invoke(app, list(args))


def test_reidentify_prints_the_original_note_and_audits_it(ingested: dict[str, int]) -> None:
    note_id = ingested["n1"]
    result = run("reidentify", "--note-id", str(note_id), "--reason", REASON)
    assert result.exit_code == 0, result.output
    assert result.stdout == NOTES[0][4] + "\n"  # exactly the original text, nothing else
    assert "Odile LEMAIRE" in result.stdout and "17/05/1948" in result.stdout
    assert "date d'origine 2024-03-12" in result.stderr and "journal d'audit" in result.stderr
    assert audit_rows() == 1
    other = run("reidentify", "--note-id", str(ingested["n3"]), "--reason", REASON)
    assert other.exit_code == 0 and "06 98 76 54 32" in other.stdout
    verified = run("verify")
    assert verified.exit_code == 0 and "intègre : 2 entrée(s)" in verified.stdout


@pytest.mark.parametrize("reason", [None, "", "pour voir"])
def test_reidentify_without_a_reason_is_refused(
    ingested: dict[str, int], reason: str | None
) -> None:
    args = ["reidentify", "--note-id", str(ingested["n1"])]
    result = run(*args, *(["--reason", reason] if reason is not None else []))
    assert result.exit_code == 2
    assert "motif obligatoire" in result.stderr and "--reason" in result.stderr
    assert "LEMAIRE" not in result.output
    # The refusal alone is on record: who asked which note, why it was refused; not the text.
    wh = open_warehouse(get_settings())
    with wh.engine.connect() as conn:
        rows = conn.execute(select(schema.audit_log)).all()
    wh.close()
    assert [(r.action, r.target, r.reason) for r in rows] == [
        ("access.refused", f"note:{ingested['n1']}", None)
    ]


def test_unknown_note_is_a_clear_error(ingested: dict[str, int]) -> None:
    result = run("reidentify", "--note-id", "999", "--reason", REASON)
    assert result.exit_code == 2 and "note 999 introuvable" in result.stderr


def test_audit_verify_reports_tampering(ingested: dict[str, int]) -> None:
    assert "vide" in run("verify").stdout
    for _ in range(2):
        assert (
            run("reidentify", "--note-id", str(ingested["n1"]), "--reason", REASON).exit_code == 0
        )
    wh = open_warehouse(get_settings())
    with wh.begin() as conn:
        log = schema.audit_log
        conn.execute(update(log).where(log.c.audit_id == 1).values(reason="autre motif bien long"))
    wh.close()
    result = run("verify")
    assert result.exit_code == 1
    assert "Journal d'audit altéré (entrée 1)" in result.stderr

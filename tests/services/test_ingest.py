"""The ingest service as every front end calls it: validation, the access policy before any
read, keys never created by an ingest (``hopia init`` does), one audit entry per run (counts
only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hopia.platform.config import get_settings
from hopia.platform.exceptions import (
    AccessDeniedError,
    InvalidRequestError,
    KeysMissingError,
    WarehouseBusyError,
)
from hopia.platform.warehouse import schema
from hopia.services.context import Context
from hopia.services.ingest import (
    IngestRequest,
    LoadPatientsRequest,
    expected_documents,
    ingest,
    load_patients,
)
from tests.data.ingest.test_pipeline import PATIENTS, write_corpus
from tests.services.contexts import researcher


@pytest.fixture(autouse=True)
def _in_process_models(in_process_models: None) -> None:
    """Models in the test process (the worker has its own tests)."""


def _audit(ctx: Context) -> list[dict]:
    with ctx.warehouse().engine.connect() as conn:
        rows = conn.execute(select(schema.audit_log).order_by(schema.audit_log.c.audit_id))
        return [dict(r) for r in rows.mappings()]


def _denied() -> Context:
    return researcher(get_settings(), "cohort.")


@pytest.mark.slow
def test_a_run_writes_the_data_and_one_audit_entry_with_counts_only(tmp_path: Path) -> None:
    patients, docs = write_corpus(tmp_path / "in")
    (docs / "scan.pdf").write_bytes(b"%PDF-1.4 truncated")
    progress: list[int] = []
    ready: list[bool] = []
    with Context.local(get_settings(), "Dr Qui") as ctx:
        request = IngestRequest.of(paths=[docs], patients=patients)
        report = ingest(ctx, request, progress.append, lambda: ready.append(True))
        assert (report.added, report.patients, len(report.errors)) == (4, 2, 1)
        assert report.run_id == 1 and sum(progress) == 4 and ready == [True]
        # the registry and its entry (one transaction, under the run's lease), then the run
        registry, entry = _audit(ctx)
        again = ingest(ctx, IngestRequest.of(paths=[docs]))
        assert (again.added, again.duplicates, again.run_id) == (0, 4, 2)
        entries = _audit(ctx)
    assert (registry["action"], registry["target"]) == ("ingest.patients", "hopia_id.patient")
    assert json.loads(registry["details"]) == {"patients": 2}
    assert (entry["action"], entry["target"], entry["actor"]) == ("ingest.run", "run:1", "Dr Qui")
    details = json.loads(entry["details"])
    assert details == {
        "run_id": 1,
        "status": "done",
        "added": 4,
        "duplicates": 0,
        "errors": 1,
        "warnings": 0,
        "pipe_errors": 0,  # documents stored without one NLP pipe's output
        "patients": 2,
    }
    logged = json.dumps([dict(e, at=None) for e in entries], default=str)
    for p in PATIENTS:  # counts and ids only: no name, no IPP, no file name
        assert p["family_name"] not in logged and p["ipp"] not in logged
    assert "scan.pdf" not in logged
    assert [e["target"] for e in entries] == ["hopia_id.patient", "run:1", "run:2"]


@pytest.mark.slow
def test_a_run_refused_as_busy_writes_no_identity(tmp_path: Path) -> None:
    """The registry is loaded under the run's lease: when another job holds the warehouse,
    nothing of the request is written, not even its patients."""
    patients, docs = write_corpus(tmp_path / "in")
    with Context.local(get_settings(), "Dr Qui") as ctx:
        wh = ctx.warehouse()
        with wh.exclusive("ingestion") as lease, pytest.raises(WarehouseBusyError):
            lease.describe(7)
            ingest(ctx, IngestRequest.of(paths=[docs], patients=patients))
        with wh.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(schema.patient)).scalar() == 0
        assert _audit(ctx) == []


@pytest.mark.slow
def test_a_failed_run_is_audited_and_closed_as_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hopia.data.ingest.pipeline import IngestPipeline

    def broken(*args: object) -> None:
        raise RuntimeError("disque plein")

    monkeypatch.setattr(IngestPipeline, "_write", broken)
    _, docs = write_corpus(tmp_path / "in")
    with Context.local(get_settings()) as ctx:
        with pytest.raises(RuntimeError, match="disque plein"):
            ingest(ctx, IngestRequest.of(paths=[docs]))
        [entry] = _audit(ctx)
        with ctx.warehouse().engine.connect() as conn:
            status = conn.execute(select(schema.run.c.status)).scalar()
    assert status == "failed"
    assert json.loads(entry["details"])["status"] == "failed"


def test_an_ingest_never_creates_the_keys(
    tmp_path: Path, hopia_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New keys under existing data would give new patients research ids that match nobody's:
    only ``hopia init`` makes keys, and an ingest without them stops before reading anything."""
    monkeypatch.delenv("HOPIA_SECRET_KEY")
    monkeypatch.delenv("HOPIA_VAULT_KEY")
    get_settings.cache_clear()
    empty = tmp_path / "vide"
    empty.mkdir()
    with Context.local(get_settings()) as ctx:
        with pytest.raises(KeysMissingError, match="hopia init"):
            ingest(ctx, IngestRequest.of(paths=[empty]))
        assert ctx._warehouse is None
    assert not (hopia_home / "secret.key").exists() and not (hopia_home / "vault.key").exists()


def test_a_denied_principal_reads_nothing_and_writes_nothing(
    tmp_path: Path, hopia_home: Path
) -> None:
    patients, docs = write_corpus(tmp_path / "in")
    with _denied() as ctx:
        with pytest.raises(AccessDeniedError, match="ingest.run"):
            ingest(ctx, IngestRequest.of(paths=[docs], patients=patients))
        with pytest.raises(AccessDeniedError, match="ingest.patients"):
            load_patients(ctx, LoadPatientsRequest.of(path=patients))
    assert not (hopia_home / "warehouse.duckdb").exists()  # the warehouse was never opened


def test_requests_are_validated_before_anything_else() -> None:
    with pytest.raises(InvalidRequestError) as excinfo:
        IngestRequest.of(paths=[])
    assert excinfo.value.fields == ("paths",)
    with pytest.raises(InvalidRequestError) as excinfo:
        IngestRequest.of(paths=["a"], force=True)
    assert excinfo.value.fields == ("force",)


def test_load_patients_writes_the_registry_and_its_audit_entry(tmp_path: Path) -> None:
    patients, _ = write_corpus(tmp_path / "in")
    with Context.local(get_settings()) as ctx:
        assert load_patients(ctx, LoadPatientsRequest.of(path=patients)) == 2
        [entry] = _audit(ctx)
        with ctx.warehouse().engine.connect() as conn:
            persons = conn.execute(select(schema.CDM["person"].c.person_source_value)).all()
    assert (entry["action"], json.loads(entry["details"])) == ("ingest.patients", {"patients": 2})
    assert len(persons) == 2 and all(p[0].startswith("P") for p in persons)


def test_expected_documents_for_the_progress_bar(tmp_path: Path) -> None:
    _, docs = write_corpus(tmp_path / "in")
    (docs / "scan.pdf").write_bytes(b"%PDF")
    ctx = Context.local(get_settings())
    assert expected_documents(ctx, IngestRequest.of(paths=[docs])) == 5  # 4 JSONL lines + 1 file
    empty = tmp_path / "vide"
    empty.mkdir()
    assert expected_documents(ctx, IngestRequest.of(paths=[empty])) is None
    with pytest.raises(AccessDeniedError):  # counting opens the inputs: the policy first
        expected_documents(_denied(), IngestRequest.of(paths=[docs]))

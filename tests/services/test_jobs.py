"""The jobs service as every front end calls it: parameters checked before anything is read,
the policy asked for the job and for the work it will do, one's own jobs only (all for the
operator), audited submission and cancellation, jobs that run as their owner through the
existing services, and uploads stored safely, checked by content."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from hopia.platform.access import Principal, RolePolicy
from hopia.platform.config import Settings, get_settings
from hopia.platform.exceptions import (
    AccessDeniedError,
    ConfigError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    ReasonRequiredError,
)
from hopia.platform.jobs import JobStatus
from hopia.platform.warehouse import schema
from hopia.services import jobs
from hopia.services.context import Context
from hopia.services.jobs import GrantedAtSubmission, JobRequest, ListRequest
from hopia.services.uploads import UploadRequest, store_upload, upload_dir, uploads_root
from tests.data.ingest.test_pipeline import NOTES, PATIENTS, write_corpus

ALICE_MAY = ["jobs.submit", "jobs.read", "jobs.cancel", "quality.", "ingest.run"]


def _user(name: str, *allowed: str) -> Context:
    policy = RolePolicy({"researcher": allowed or ALICE_MAY})
    return Context(get_settings(), Principal(name, frozenset({"researcher"})), policy)


def _audit(ctx: Context) -> list[dict]:
    with ctx.warehouse().engine.connect() as conn:
        rows = conn.execute(select(schema.audit_log).order_by(schema.audit_log.c.audit_id))
        return [dict(r) for r in rows.mappings()]


def _quality(**parameters: object) -> JobRequest:
    return JobRequest.of(kind="quality", parameters={"tables": ["person"], **parameters})


def test_requests_are_checked_before_anything_is_read() -> None:
    with pytest.raises(InvalidRequestError) as kind:
        JobRequest.of(kind="sauvegarde")
    assert kind.value.fields == ("kind",)
    with Context.local(get_settings()) as ctx:
        with pytest.raises(InvalidRequestError) as bad:
            jobs.submit(ctx, _quality(history="peut-être", colonne=1))
        assert set(bad.value.fields) == {"parameters.history", "parameters.colonne"}
        assert "« parameters.history » : booléen attendu" in bad.value.message
        with pytest.raises(InvalidRequestError) as no_files:
            jobs.submit(ctx, JobRequest.of(kind="ingest"))
        assert no_files.value.fields == ("job_id",)
        with pytest.raises(InvalidRequestError, match="aucun document déposé"):
            jobs.submit(ctx, JobRequest.of(kind="ingest", job_id="0" * 32))
        export = {"persons": "ids.txt", "format": "fhir", "reason": "Étude IC, avis CSE 12"}
        with pytest.raises(InvalidRequestError) as out:
            jobs.submit(ctx, JobRequest.of(kind="share_export", parameters={**export, "out": "/"}))
        assert out.value.fields == ("parameters.out",)  # the folder is Hopia's choice
        with pytest.raises(ReasonRequiredError):
            jobs.submit(
                ctx, JobRequest.of(kind="share_export", parameters={**export, "reason": "xx"})
            )
        with pytest.raises(InvalidRequestError, match="« parameters.k » : doit être supérieur"):
            jobs.submit(ctx, JobRequest.of(kind="share_export", parameters={**export, "k": 0}))
        with pytest.raises(InvalidRequestError) as job_id:
            JobRequest.of(kind="quality", job_id="../../etc")
        assert job_id.value.fields == ("job_id",)
    # nothing was queued, and no warehouse created for it
    assert not (get_settings().home / "warehouse.duckdb").exists()


def test_the_policy_is_asked_for_the_job_and_for_its_work() -> None:
    with pytest.raises(AccessDeniedError, match="jobs.submit"):
        jobs.submit(_user("alice", "quality."), _quality())
    with _user("alice", "jobs.") as ctx:
        ctx.warehouse()  # refusals are recorded in an existing warehouse
        with pytest.raises(AccessDeniedError, match="quality.run"):
            jobs.submit(ctx, _quality())
        refused = [e for e in _audit(ctx) if e["action"] == "access.refused"]
        assert json.loads(refused[-1]["details"])["action"] == "quality.run"
        assert jobs.list_jobs(ctx) == []


def test_users_see_their_own_jobs_and_the_operator_all_of_them() -> None:
    with _user("alice") as alice:
        mine = jobs.submit(alice, _quality())
        assert (mine.status, mine.owner, mine.kind_label) == (
            "queued",
            "alice",
            "Contrôle de qualité",
        )
        assert mine.status_label == "en attente" and not mine.finished
        assert mine.parameters["tables"] == ["person"]
    with _user("bob") as bob:
        theirs = jobs.submit(bob, _quality(history=False))
        assert [v.id for v in jobs.list_jobs(bob)] == [theirs.id]
        with pytest.raises(NotFoundError, match="tâche inconnue"):
            jobs.get(bob, mine.id)
        with pytest.raises(NotFoundError):
            jobs.cancel(bob, mine.id)
    with Context.local(get_settings(), "DIM") as operator:
        assert {v.id for v in jobs.list_jobs(operator)} == {mine.id, theirs.id}
        assert jobs.list_jobs(operator, ListRequest.of(mine=True)) == []
        assert jobs.get(operator, mine.id).id == mine.id
        entries = [e for e in _audit(operator) if e["action"] == "jobs.submit"]
    assert [(e["actor"], e["target"]) for e in entries] == [
        ("alice", f"job:{mine.id}"),
        ("bob", f"job:{theirs.id}"),
    ]
    assert json.loads(entries[0]["details"]) == {"kind": "quality"}


def test_a_queued_job_is_cancelled_at_once_and_audited() -> None:
    with _user("alice") as ctx:
        view = jobs.submit(ctx, _quality())
        cancelled = jobs.cancel(ctx, view.id)
        assert (cancelled.status, cancelled.status_label) == ("cancelled", "annulée")
        assert cancelled.error is not None and cancelled.error.message == "annulée par alice"
        with pytest.raises(ConflictError, match="déjà annulée"):
            jobs.cancel(ctx, view.id)
        [entry] = [e for e in _audit(ctx) if e["action"] == "jobs.cancel"]
        assert (entry["actor"], entry["target"]) == ("alice", f"job:{view.id}")
        # a worker that comes later does not run it
        assert jobs.work(Context.local(ctx.settings), burst=True) == {}


def test_a_job_runs_as_its_owner_with_what_was_granted_at_submission() -> None:
    with _user("alice") as ctx:
        view = jobs.submit(ctx, _quality())
        runner = jobs.start_runner(Context.local(ctx.settings))  # as a server starts it
        try:
            done = _wait(ctx, view.id)
        finally:
            runner.stop()
        assert done.status == "succeeded" and done.finished and done.error is None
        assert done.result is not None and done.result["checks"] == done.progress.total
        assert done.result["checks"] > 0 and done.progress.done == done.progress.total
        assert Path(done.result["html_report"]).exists()
        assert done.worker is not None and done.started_at is not None
    granted = GrantedAtSubmission(frozenset({"quality.run"}), view.id)
    granted.check(Principal("alice"), "quality.run", "warehouse")
    with pytest.raises(AccessDeniedError, match="hors de ce que la tâche"):
        granted.check(Principal("alice"), "share.export", "cohort-definition:x.yaml")


def _wait(ctx: Context, job_id: str, timeout: float = 120.0):  # noqa: ANN202 - JobView
    import time

    deadline = time.monotonic() + timeout
    while True:
        view = jobs.get(ctx, job_id)
        if view.finished:
            return view
        assert time.monotonic() < deadline, view
        time.sleep(0.1)


def test_a_failing_job_records_the_services_french_error(tmp_path: Path) -> None:
    persons = tmp_path / "personnes.txt"
    persons.write_text("424242\n", encoding="utf-8")
    parameters = {
        "persons": str(persons),
        "format": "omop-csv",
        "reason": "Étude IC 2026, avis CSE n° 12",
    }
    with Context.local(get_settings(), "DIM") as ctx:
        view = jobs.submit(ctx, JobRequest.of(kind="share_export", parameters=parameters))
        assert view.parameters["reason"] == "Étude IC 2026, avis CSE n° 12"
        [submitted] = [e for e in _audit(ctx) if e["action"] == "jobs.submit"]
        assert submitted["reason"] == "Étude IC 2026, avis CSE n° 12"
        assert jobs.work(ctx, burst=True) == {JobStatus.FAILED: 1}
        failed = jobs.get(ctx, view.id)
    assert failed.status == "failed" and failed.status_label == "échouée"
    assert failed.error is not None and failed.error.code == "sharing_failed"
    assert "absent(s) de omop.person" in failed.error.message  # French, from the service
    assert not (get_settings().home / "exports" / view.id).exists()


def test_a_broker_is_refused_on_duckdb(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(jobs={"broker_url": "redis://127.0.0.1:6379/0"})
    with Context.local(settings) as ctx, pytest.raises(ConfigError, match="PostgreSQL"):
        jobs.start_runner(ctx)


# -- uploads ------------------------------------------------------------------------------------


def _upload(ctx: Context, name: str, data: bytes, **kw: object):  # noqa: ANN202
    return store_upload(ctx, UploadRequest.of(filename=name, **kw), data)


def test_uploads_are_private_and_checked_by_content() -> None:
    with _user("alice") as ctx:
        first = _upload(ctx, "../../etc/CR Dupont.txt", b"Compte rendu : patient vu ce jour.\n")
        folder = upload_dir(ctx.settings, first.job_id)
        assert (first.name, first.format, first.role) == ("CR Dupont.txt", "text", "documents")
        pdf = _upload(ctx, "courrier.txt", b"%PDF-1.4\n%...", job_id=first.job_id)
        assert (pdf.name, pdf.format) == ("courrier.txt.pdf", "pdf")  # the content decides
        again = _upload(ctx, "CR Dupont.txt", b"autre texte", job_id=first.job_id)
        assert again.name == "CR Dupont-2.txt"  # never over another file
        hidden = _upload(ctx, ".bashrc", b"texte", job_id=first.job_id)
        assert hidden.name == "bashrc.txt"  # a hidden file would not be ingested
        for name, data, why in (
            ("scan.txt", b"\x00\x01\x02binary" * 50, "contenu binaire"),
            ("export.docx", b"PK\x03\x04not a zip", "pas un document Word"),
            ("vide.txt", b"", "fichier vide"),
            ("vieux.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "OLE"),
        ):
            with pytest.raises(InvalidRequestError, match=why) as refused:
                _upload(ctx, name, data, job_id=first.job_id)
            assert refused.value.fields == ("file",)
        stored = sorted(p.name for p in (folder / "documents").iterdir())
        assert stored == ["CR Dupont-2.txt", "CR Dupont.txt", "bashrc.txt", "courrier.txt.pdf"]
        for path in (folder, folder.parent, folder / "documents"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o700
        for path in (folder / "documents").iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        with pytest.raises(InvalidRequestError, match="aucun dépôt"):
            _upload(ctx, "a.txt", b"x", job_id="f" * 32)
    with pytest.raises(AccessDeniedError):
        _upload(_user("bob", "jobs."), "a.txt", b"texte")
    small = Context.local(Settings(jobs={"max_upload_bytes": 10}))
    with pytest.raises(InvalidRequestError, match="trop volumineux") as big:
        store_upload(small, UploadRequest.of(filename="long.txt"), io.BytesIO(b"x" * 11))
    assert "jobs.max_upload_bytes" in big.value.message
    leftovers = [p for p in uploads_root(small.settings).rglob("*") if p.is_file()]
    assert len(leftovers) == 4  # the first job's files only: nothing of the refused ones


def test_a_patient_registry_is_read_whole_before_it_is_kept(tmp_path: Path) -> None:
    patients, _ = write_corpus(tmp_path / "in")
    with _user("alice") as ctx:
        bad = b'{"ipp": "1", "family_name": "X", "sex": "Z"}\n'
        with pytest.raises(InvalidRequestError, match="sexe invalide"):
            _upload(ctx, "registre.jsonl", bad, role="patients")
        ok = _upload(ctx, "registre.jsonl", patients.read_bytes(), role="patients")
        assert (ok.format, ok.role) == ("registre", "patients")
        with pytest.raises(ConflictError, match="un seul par tâche"):
            _upload(ctx, "autre.csv", b"ipp\n1\n", role="patients", job_id=ok.job_id)
        with pytest.raises(InvalidRequestError, match="JSON Lines"):
            _upload(ctx, "registre.txt", patients.read_bytes(), role="patients")


@pytest.mark.slow
def test_an_ingest_job_ingests_the_uploaded_files(tmp_path: Path, in_process_models: None) -> None:
    patients, docs = write_corpus(tmp_path / "in")
    with _user("alice", *ALICE_MAY, "ingest.patients") as ctx:
        registry = _upload(ctx, "patients.jsonl", patients.read_bytes(), role="patients")
        job_id = registry.job_id
        _upload(ctx, "notes.jsonl", (docs / "notes.jsonl").read_bytes(), job_id=job_id)
        view = jobs.submit(ctx, JobRequest.of(kind="ingest", job_id=job_id))
        assert view.parameters == {"documents": 1, "registry": True}
        with pytest.raises(ConflictError, match="déjà cet identifiant"):
            jobs.submit(ctx, JobRequest.of(kind="ingest", job_id=job_id))
        assert jobs.work(Context.local(ctx.settings), burst=True) == {JobStatus.SUCCEEDED: 1}
        done = jobs.get(ctx, job_id)
        entries = _audit(ctx)
    assert done.status == "succeeded", done.error
    assert done.result is not None
    assert {k: done.result[k] for k in ("added", "patients", "errors", "files_kept")} == {
        "added": len(NOTES),
        "patients": 2,
        "errors": 0,
        "files_kept": False,
    }
    assert (done.progress.done, done.progress.total) == (len(NOTES), len(NOTES))
    assert not upload_dir(get_settings(), job_id).exists()  # the copies are gone
    run = [e for e in entries if e["action"] == "ingest.run"]
    assert [(e["actor"], e["target"]) for e in run] == [("alice", f"run:{done.result['run_id']}")]
    row = json.dumps(done.model_dump(mode="json"), ensure_ascii=False)
    for p in PATIENTS:  # the job row holds counts and ids only
        assert p["family_name"] not in row and p["ipp"] not in row

    # a document naming nobody: the job succeeds with one error, and the files are kept
    with _user("alice") as ctx:
        bad = _upload(ctx, "note libre.txt", b"Patient vu en consultation, examen normal.\n")
        jobs.submit(ctx, JobRequest.of(kind="ingest", job_id=bad.job_id))
        assert jobs.work(Context.local(ctx.settings), burst=True) == {JobStatus.SUCCEEDED: 1}
        kept = jobs.get(ctx, bad.job_id)
    assert kept.result is not None
    assert (kept.result["added"], kept.result["errors"], kept.result["files_kept"]) == (0, 1, True)
    assert (upload_dir(get_settings(), bad.job_id) / "documents" / "note libre.txt").exists()

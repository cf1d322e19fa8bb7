"""Long work started from the API: an upload's ingest, a quality run, an export — each a job
the caller follows in ``/api/v1/jobs``; ``create_app(run_jobs=True)`` (``hopia serve``) runs
them in the serving process. Also: deleting a cohort definition, the research notes, the last
administrator, and the error bodies as the OpenAPI document describes them.

Jobs are run here by a burst worker on the application's warehouse (``jobs.work``), except in
the test of the embedded runner, which lets the application run them."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hopia.platform.jobs import JobStatus
from hopia.services import cohort_library, jobs
from hopia.services.uploads import uploads_root
from hopia.web.app import create_app
from tests.data.ingest.test_pipeline import NOTES, PATIENTS, write_corpus
from tests.web.conftest import BASE, PASSWORD, Web

REASON = {"reason": "étude insuffisance cardiaque 2026, protocole validé"}
COHORT = {
    "name": "api_ic",
    "title": "Insuffisance cardiaque (API)",
    "inclusion": [{"label": "IC", "condition": {"cim10": ["I50"]}}],
}


def _work(web: Web) -> Any:
    with web.operator() as ctx:
        return jobs.work(ctx, burst=True)


def _job(client: TestClient, job_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/jobs/{job_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def _audit(web: Web, action: str) -> list[Any]:
    return web.sql(
        "SELECT actor, target, reason, details FROM hopia_meta.audit_log WHERE action = :a "
        "ORDER BY audit_id",
        a=action,
    )


@pytest.fixture(scope="module")
def saved(web: Web) -> str:
    with web.operator() as ctx:
        cohort_library.save_definition(ctx, cohort_library.DefinitionBody.of(definition=COHORT))
    return COHORT["name"]


# -- uploads -> ingest ---------------------------------------------------------------------------


@pytest.mark.slow
def test_an_upload_becomes_an_ingest_job_that_the_dim_follows(
    web: Web, tmp_path: Path, in_process_models: None
) -> None:
    patients, docs = write_corpus(tmp_path / "in")
    dim = web.clients["data_steward"]
    notes_before = web.sql("SELECT count(*) AS n FROM omop.note")[0].n
    answer = dim.post(
        "/api/v1/ingest/uploads",
        files=[
            ("files", ("notes.jsonl", (docs / "notes.jsonl").read_bytes(), "application/json")),
            ("patients", ("registre.jsonl", patients.read_bytes(), "application/json")),
        ],
    )
    assert answer.status_code == 202, answer.text
    body = answer.json()
    job = body["job"]
    assert (job["kind"], job["status"], job["owner"]) == ("ingest", "queued", "data-steward.test")
    assert [(f["name"], f["role"], f["format"]) for f in body["files"]] == [
        ("notes.jsonl", "documents", "jsonl"),
        ("registre.jsonl", "patients", "registre"),
    ]
    assert job["parameters"] == {"documents": 1, "registry": True}
    assert _work(web) == {JobStatus.SUCCEEDED: 1}
    done = _job(dim, job["id"])
    assert done["status"] == "succeeded", done["error"]
    assert (done["result"]["added"], done["result"]["errors"]) == (len(NOTES), 0)
    notes_after = web.sql("SELECT count(*) AS n FROM omop.note")[0].n
    assert notes_after == notes_before + len(NOTES)
    assert not (uploads_root(web.settings) / job["id"]).exists()  # the copies are gone
    row = json.dumps(done, ensure_ascii=False)
    for p in PATIENTS:  # what the API shows of the job: counts and ids only
        assert p["family_name"] not in row and p["ipp"] not in row
    # the job is the DIM's: another user does not see it
    assert web.clients["researcher"].get(f"/api/v1/jobs/{job['id']}").status_code == 404


def test_a_refused_file_refuses_the_whole_upload(web: Web) -> None:
    dim = web.clients["data_steward"]
    jobs_before = web.sql("SELECT count(*) AS n FROM hopia_meta.job")[0].n
    answer = dim.post(
        "/api/v1/ingest/uploads",
        files=[
            ("files", ("cr.txt", b"Compte rendu : patient vu ce jour.\n", "text/plain")),
            ("files", ("scan.txt", b"\x00\x01\x02binaire" * 50, "text/plain")),
        ],
    )
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert answer.headers["content-type"] == "application/problem+json"
    assert problem["fields"] == ["file"]
    assert "scan.txt" in problem["message"] and "contenu binaire" in problem["message"]
    assert web.sql("SELECT count(*) AS n FROM hopia_meta.job")[0].n == jobs_before
    root = uploads_root(web.settings)
    assert not root.exists() or not any(root.iterdir())  # not even the good file is kept


def test_upload_size_limits_come_from_the_settings(web: Web, tmp_path: Path) -> None:
    small = web.settings.model_copy(
        update={"jobs": web.settings.jobs.model_copy(update={"max_upload_bytes": 2000})}
    )
    app = create_app(small, web.warehouse)
    with TestClient(app, base_url=BASE) as client:
        login = {"username": "data-steward.test", "password": PASSWORD}
        assert client.post("/api/v1/auth/login", json=login).status_code == 200
        one = client.post(
            "/api/v1/ingest/uploads", files={"files": ("long.txt", b"mot " * 600, "text/plain")}
        )
        assert one.status_code == 422, one.text
        assert "trop volumineux" in one.json()["message"]
        assert "jobs.max_upload_bytes" in one.json()["message"]
        whole = client.post(  # above both limits: refused before it is read
            "/api/v1/ingest/uploads",
            files={"files": ("long.txt", b"mot " * 300_000, "text/plain")},
        )
        assert whole.status_code == 413 and whole.json()["code"] == "too_large"
    # above web.max_body_bytes (1 MiB) but under jobs.max_upload_bytes: an upload may be big
    big = web.clients["data_steward"].post(
        "/api/v1/ingest/uploads",
        files={"files": ("long.txt", b"Patient vu ce jour.\n" * 60_000, "text/plain")},
    )
    assert big.status_code == 202, big.text
    assert big.json()["files"][0]["size"] == 20 * 60_000
    with web.operator() as ctx:
        jobs.cancel(ctx, big.json()["job"]["id"])


# -- quality -------------------------------------------------------------------------------------


def test_a_quality_run_as_a_job_then_the_latest_results(web: Web) -> None:
    dim = web.clients["data_steward"]
    unknown = dim.post("/api/v1/quality/runs", json={"tables": ["pas_une_table"]})
    assert unknown.status_code == 422 and "pas_une_table" in unknown.text
    answer = dim.post("/api/v1/quality/runs", json={"tables": ["person"], "enrichment": False})
    assert answer.status_code == 202, answer.text
    assert _work(web) == {JobStatus.SUCCEEDED: 1}
    done = _job(dim, answer.json()["id"])
    assert done["status"] == "succeeded", done["error"]
    latest = dim.get("/api/v1/quality/latest", params={"failed_only": False})
    assert latest.status_code == 200, latest.text
    body = latest.json()
    assert body["run"]["run_id"] == done["result"]["run_id"]
    assert len(body["results"]) == body["run"]["checks"] == done["result"]["checks"]
    assert {r["table_name"] for r in body["results"]} == {"person"}
    failed = dim.get("/api/v1/quality/latest").json()["results"]
    assert len(failed) == done["result"]["failed"] + done["result"]["errors"]
    history = dim.get("/api/v1/quality/runs").json()
    assert history[-1]["run_id"] == done["result"]["run_id"]


# -- exports -------------------------------------------------------------------------------------


def test_an_export_needs_a_reason_and_a_saved_cohort(web: Web, saved: str) -> None:
    dim = web.clients["data_steward"]
    missing = dim.post("/api/v1/exports", json={"cohort": saved, "format": "omop-csv"})
    assert missing.status_code == 422 and missing.json()["fields"] == ["reason"]
    short = dim.post(
        "/api/v1/exports", json={"cohort": saved, "format": "omop-csv", "reason": "test"}
    )
    assert short.status_code == 422 and short.json()["code"] == "reason_required"
    unknown = dim.post(
        "/api/v1/exports", json={"cohort": "pas_de_cohorte", "format": "fhir", **REASON}
    )
    assert unknown.status_code == 404 and "pas_de_cohorte" in unknown.json()["message"]
    path = dim.post("/api/v1/exports", json={"cohort": "../etc", "format": "fhir", **REASON})
    assert path.status_code == 422  # a name, never a path of the server


def test_an_export_refused_for_k_anonymity_fails_its_job_with_the_report(
    web: Web, saved: str
) -> None:
    dim = web.clients["data_steward"]
    body = {"cohort": saved, "format": "omop-csv", "k": 1000, "max_suppression": 0.0, **REASON}
    answer = dim.post("/api/v1/exports", json=body)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    submitted = _audit(web, "jobs.submit")[-1]
    assert (submitted.target, submitted.reason) == (f"job:{job_id}", REASON["reason"])
    assert _work(web) == {JobStatus.FAILED: 1}
    failed = _job(dim, job_id)
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "share_refused"
    report = failed["error"]["details"]["report"]
    assert report["k"] == 1000 and report["reached"] is False
    assert not (Path(web.settings.home) / "exports" / job_id).exists()


def test_an_export_reaching_k_writes_its_files(web: Web, saved: str) -> None:
    dim = web.clients["data_steward"]
    body = {"cohort": saved, "format": "omop-csv", "k": 1, "l": 1, **REASON}
    answer = dim.post("/api/v1/exports", json=body)
    assert answer.status_code == 202, answer.text
    assert _work(web) == {JobStatus.SUCCEEDED: 1}
    done = _job(dim, answer.json()["id"])
    assert done["status"] == "succeeded", done["error"]
    folder = Path(done["result"]["folder"])
    assert folder == Path(web.settings.home) / "exports" / done["id"]
    assert done["result"]["files"] == len([p for p in folder.rglob("*") if p.is_file()]) - 1
    exported = _audit(web, "share.export")[-1]
    assert (exported.actor, exported.reason) == ("data-steward.test", REASON["reason"])


# -- the runner of hopia serve -------------------------------------------------------------------


def test_the_application_runs_jobs_while_it_serves(web: Web) -> None:
    app = create_app(web.settings, web.warehouse, run_jobs=True)
    with TestClient(app, base_url=BASE) as client:  # the lifespan starts the runner
        assert app.state.runner is not None
        login = {"username": "data-steward.test", "password": PASSWORD}
        assert client.post("/api/v1/auth/login", json=login).status_code == 200
        answer = client.post("/api/v1/quality/runs", json={"tables": ["person"]})
        assert answer.status_code == 202, answer.text
        deadline = time.monotonic() + 60
        while not (view := _job(client, answer.json()["id"]))["finished"]:
            assert time.monotonic() < deadline, view
            time.sleep(0.1)
        assert view["status"] == "succeeded", view["error"]
        assert view["worker"]  # this process ran it
    assert app.state.runner is None  # stopped with the application


# -- cohorts, research notes ---------------------------------------------------------------------


def test_a_researcher_deletes_a_definition_audited_with_its_hash(web: Web) -> None:
    researcher = web.clients["researcher"]
    definition = {**COHORT, "name": "a_supprimer"}
    saved = researcher.post("/api/v1/cohorts", json={"definition": definition})
    assert saved.status_code == 200, saved.text
    answer = researcher.delete("/api/v1/cohorts/a_supprimer")
    assert answer.status_code == 200, answer.text
    assert answer.json()["sha256"] == saved.json()["sha256"]
    assert researcher.get("/api/v1/cohorts/a_supprimer").status_code == 404
    assert researcher.delete("/api/v1/cohorts/a_supprimer").status_code == 404
    entry = _audit(web, "cohort.delete")[-1]
    details = json.loads(entry.details) if isinstance(entry.details, str) else entry.details
    assert (entry.actor, entry.target) == ("researcher.test", "cohort-definition:a_supprimer")
    assert details["sha256"] == saved.json()["sha256"]
    assert not (Path(web.settings.home) / "cohorts" / "a_supprimer.yaml").exists()
    assert researcher.delete("/api/v1/cohorts/..%2Fsecret").status_code in (404, 422)


def test_research_notes_are_pseudonymised_with_their_entities(web: Web) -> None:
    row = web.sql(
        "SELECT n.note_id, n.note_text, count(e.note_nlp_id) AS entities FROM omop.note n "
        "JOIN omop.note_nlp e ON e.note_id = n.note_id GROUP BY n.note_id, n.note_text "
        "ORDER BY n.note_id LIMIT 1"
    )[0]
    dim = web.clients["data_steward"]  # may re-identify: still pseudonymised here
    view = dim.get(f"/api/v1/research/notes/{row.note_id}")
    assert view.status_code == 200, view.text
    body = view.json()
    assert (body["space"], body["text"]) == ("research", row.note_text)
    assert body["entities"] and len(body["entities"]) <= row.entities
    qualifiers = {"negation", "hypothesis", "family", "history"}
    assert all(qualifiers <= set(e) for e in body["entities"])
    entry = _audit(web, "document.view")[-1]
    assert (entry.actor, entry.target) == ("data-steward.test", f"note:{row.note_id}")
    listing = web.clients["researcher"].get("/api/v1/research/notes", params={"size": 5})
    assert listing.status_code == 200 and listing.json()["space"] == "research"
    assert web.clients["clinician"].get("/api/v1/research/notes").status_code == 403


def test_reidentification_asks_a_reason(web: Web) -> None:
    note_id = web.sql("SELECT min(note_id) AS id FROM omop.note")[0].id
    dim = web.clients["data_steward"]
    missing = dim.post(f"/api/v1/documents/{note_id}/reidentify", json={})
    assert missing.status_code == 422 and missing.json()["fields"] == ["reason"]
    short = dim.post(f"/api/v1/documents/{note_id}/reidentify", json={"reason": "vu"})
    assert short.status_code == 422 and short.json()["code"] == "reason_required"


# -- accounts, errors ----------------------------------------------------------------------------


def test_the_last_active_admin_cannot_be_removed(web: Web) -> None:
    admin = web.clients["admin"]
    for change in ({"active": False}, {"roles": ["manager"]}):
        answer = admin.patch("/api/v1/accounts/admin.test", json=change)
        assert answer.status_code == 409, answer.text
        assert "dernier administrateur actif" in answer.json()["message"]
    assert admin.get("/api/v1/auth/me").json()["roles"] == ["admin"]  # nothing changed
    other = {"username": "admin.bis", "password": PASSWORD, "roles": ["admin"]}
    assert admin.post("/api/v1/accounts", json=other).status_code == 201
    assert admin.patch("/api/v1/accounts/admin.bis", json={"active": False}).status_code == 200
    assert admin.patch("/api/v1/accounts/admin.test", json={"active": False}).status_code == 409
    back = admin.patch("/api/v1/accounts/admin.bis", json={"active": True})
    assert back.status_code == 200
    demoted = admin.patch("/api/v1/accounts/admin.bis", json={"roles": ["manager"]})
    assert demoted.status_code == 200  # admin.test is still an active admin


def test_error_bodies_are_documented_as_served(web: Web) -> None:
    document = web.anon.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/cohorts/{name}"]["get"]
    assert set(operation["responses"]["404"]["content"]) == {"application/problem+json"}
    assert set(operation["responses"]["200"]["content"]) == {"application/json"}
    served = web.clients["researcher"].get("/api/v1/cohorts/pas_de_cohorte")
    assert served.headers["content-type"] == "application/problem+json"


def test_times_are_served_in_utc_with_their_offset(web: Web) -> None:
    """Found by schemathesis: the warehouse's naive UTC times went out without an offset,
    which the OpenAPI ``date-time`` format (RFC 3339) does not allow."""
    admin = web.clients["admin"]
    account = admin.get("/api/v1/accounts/admin.test").json()
    entry = admin.get("/api/v1/audit", params={"size": 1}).json()["items"][0]
    for value in (account["created_at"], account["updated_at"], entry["at"]):
        assert value.endswith("Z"), value
    stored = web.sql("SELECT created_at FROM hopia_meta.account WHERE username = 'admin.test'")
    assert account["created_at"] == stored[0].created_at.isoformat() + "Z"

"""The jobs page's buttons and forms, without a browser: who may start a quality run or an
upload ingest sees its form (the rules of ``roles.py``), every unfinished job the user may
cancel has its "Annuler" button; each goes through the jobs service (rights asked, audited)
and a refusal is a French message on the page. Jobs are run here by a burst worker on the
application's warehouse (``jobs.work``), as in the API's tests."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hopia.platform.access import Principal
from hopia.platform.identity.roles import may
from hopia.platform.jobs import STATUS_FR, JobStatus
from hopia.services import jobs
from tests.web.conftest import BASE, Web
from tests.web.test_ui_pages import _check_page


def _token(client: TestClient, path: str = "/jobs") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def _job_row(web: Web, job_id: str) -> Any:
    return web.sql(
        "SELECT kind, status, owner, parameters FROM hopia_meta.job WHERE job_id = :j", j=job_id
    )[0]


def _audit(web: Web, action: str, target: str) -> list[Any]:
    return web.sql(
        "SELECT actor, details FROM hopia_meta.audit_log WHERE action = :a AND target = :t",
        a=action,
        t=target,
    )


def _start_quality(client: TestClient) -> str:
    answer = client.post(
        "/jobs/quality", data={"csrf": _token(client), "history": "true"}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text[:300]
    return answer.headers["location"].removeprefix("/jobs/")


def test_the_forms_follow_the_roles(web: Web) -> None:
    for role, client in web.clients.items():
        page = client.get("/jobs")
        assert page.status_code == 200
        _check_page(page.text)
        principal = Principal("x", frozenset({role}))
        quality = may(principal, "quality.run") and may(principal, "jobs.submit")
        ingest = may(principal, "ingest.run") and may(principal, "jobs.submit")
        assert ('action="/jobs/quality"' in page.text) is quality, role
        assert ('action="/jobs/ingest"' in page.text) is ingest, role
    assert {
        r for r, c in web.clients.items() if 'action="/jobs/ingest"' in c.get("/jobs").text
    } == {"data_steward"}
    # a role that may not start a quality run is refused by the service, form or not
    researcher = web.clients["researcher"]
    before = web.sql("SELECT count(*) AS n FROM hopia_meta.job")[0].n
    refused = researcher.post("/jobs/quality", data={"csrf": _token(researcher)})
    assert refused.status_code == 403 and "non autorisée" in html.unescape(refused.text)
    upload = researcher.post(
        "/jobs/ingest",
        data={"csrf": _token(researcher)},
        files=[("files", ("cr.txt", b"Compte rendu : patient vu ce jour.\n", "text/plain"))],
    )
    assert upload.status_code == 403
    assert web.sql("SELECT count(*) AS n FROM hopia_meta.job")[0].n == before


@pytest.mark.slow  # the quality checks run
def test_the_dim_starts_a_quality_run_and_sees_its_result(web: Web) -> None:
    dim = web.clients["data_steward"]
    job_id = _start_quality(dim)
    row = _job_row(web, job_id)
    assert (row.kind, row.status, row.owner) == ("quality", "queued", "data-steward.test")
    assert json.loads(row.parameters)["history"] is True
    assert [r.actor for r in _audit(web, "jobs.submit", f"job:{job_id}")] == ["data-steward.test"]
    queued = dim.get(f"/jobs/{job_id}").text
    assert "Annuler la tâche" in queued and 'http-equiv="refresh"' in queued
    with web.operator() as ctx:
        jobs.work(ctx, burst=True)
    done = dim.get(f"/jobs/{job_id}")
    assert _job_row(web, job_id).status == "succeeded"
    assert f'<dd class="etat-succeeded">{STATUS_FR[JobStatus.SUCCEEDED]}</dd>' in done.text
    assert "<h2>Résultat</h2>" in done.text and "Annuler la tâche" not in done.text
    assert 'http-equiv="refresh"' not in done.text
    runs = web.sql("SELECT count(*) AS n FROM hopia_meta.quality_run")[0].n
    assert runs >= 1


def test_a_queued_job_is_cancelled_from_the_list_and_only_once(web: Web) -> None:
    dim = web.clients["data_steward"]
    job_id = _start_quality(dim)
    listing = dim.get("/jobs").text
    button = re.search(rf'<form method="post" action="/jobs/{job_id}/cancel"', listing)
    assert button, "no cancel button on the unfinished job"
    answer = dim.post(f"/jobs/{job_id}/cancel", data={"csrf": _token(dim)}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == f"/jobs/{job_id}"
    assert _job_row(web, job_id).status == "cancelled"
    cancelled = _audit(web, "jobs.cancel", f"job:{job_id}")
    assert [r.actor for r in cancelled] == ["data-steward.test"]
    assert f'action="/jobs/{job_id}/cancel"' not in dim.get("/jobs").text
    again = dim.post(f"/jobs/{job_id}/cancel", data={"csrf": _token(dim)})
    assert again.status_code == 409
    text = html.unescape(again.text)
    assert "plus rien à annuler" in text and 'id="erreur-annulation"' in text
    assert len(_audit(web, "jobs.cancel", f"job:{job_id}")) == 1


def test_a_job_is_cancelled_by_its_owner_or_the_admin_only(web: Web) -> None:
    dim = web.clients["data_steward"]
    job_id = _start_quality(dim)
    researcher = web.clients["researcher"]
    assert f"/jobs/{job_id}/cancel" not in researcher.get("/jobs").text
    other = researcher.post(f"/jobs/{job_id}/cancel", data={"csrf": _token(researcher)})
    assert other.status_code == 404  # someone else's job reads as unknown
    assert _job_row(web, job_id).status == "queued"
    admin = web.clients["admin"]
    assert f'action="/jobs/{job_id}/cancel"' in admin.get("/jobs").text  # everyone's jobs
    answer = admin.post(
        f"/jobs/{job_id}/cancel", data={"csrf": _token(admin)}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert _job_row(web, job_id).status == "cancelled"
    assert [r.actor for r in _audit(web, "jobs.cancel", f"job:{job_id}")] == ["admin.test"]
    # without the form's token, nothing is cancelled
    job_id = _start_quality(dim)
    assert dim.post(f"/jobs/{job_id}/cancel", data={"csrf": "faux"}).status_code == 403
    assert dim.post(f"/jobs/{job_id}/cancel").status_code == 403
    assert _job_row(web, job_id).status == "queued"


def test_an_upload_from_the_page_becomes_an_ingest_job(web: Web) -> None:
    dim = web.clients["data_steward"]
    answer = dim.post(
        "/jobs/ingest",
        data={"csrf": _token(dim)},
        files=[
            ("files", ("cr1.txt", b"Compte rendu : patient vu ce jour.\n", "text/plain")),
            ("files", ("cr2.txt", b"Consultation de suivi, pas de plainte.\n", "text/plain")),
            ("patients", ("", b"", "application/octet-stream")),  # the empty file field
        ],
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:300]
    job_id = answer.headers["location"].removeprefix("/jobs/")
    row = _job_row(web, job_id)
    assert (row.kind, row.status) == ("ingest", "queued")
    assert json.loads(row.parameters) == {"documents": 2, "registry": False}
    page = dim.get(f"/jobs/{job_id}").text
    assert "<h1>Intégration de documents</h1>" in page and "Annuler la tâche" in page


def test_a_refused_upload_is_explained_on_the_page_and_queues_nothing(web: Web) -> None:
    dim = web.clients["data_steward"]
    before = web.sql("SELECT count(*) AS n FROM hopia_meta.job")[0].n
    answer = dim.post(
        "/jobs/ingest",
        data={"csrf": _token(dim)},
        files=[
            ("files", ("cr.txt", b"Compte rendu : patient vu ce jour.\n", "text/plain")),
            ("files", ("scan.txt", b"\x00\x01\x02binaire" * 50, "text/plain")),
        ],
    )
    assert answer.status_code == 422
    found = re.search(r'id="erreur-tache">(.*?)</p>', html.unescape(answer.text), re.S)
    assert found and "scan.txt" in found.group(1) and "binaire" in found.group(1)
    _check_page(answer.text)
    nothing = dim.post("/jobs/ingest", data={"csrf": _token(dim)})
    assert nothing.status_code == 422 and "aucun document" in html.unescape(nothing.text)
    assert web.sql("SELECT count(*) AS n FROM hopia_meta.job")[0].n == before
    # the page's address has the uploads' body limit, not the forms' one
    anonymous = TestClient(web.app, base_url=BASE)
    big = b"mot " * (web.settings.web.max_body_bytes // 4 + 10)
    answer = anonymous.post("/jobs/ingest", files=[("files", ("long.txt", big, "text/plain"))])
    assert answer.status_code == 403  # refused for its missing token, not for its size (413)

"""Knowledge collections through the API: who reads, who changes, what a stranger sees; cited
answers without a model; the text a citation opens.

Accounts of the web fixture: one per role (``researcher.test``, ``clinician.test``…). A
collection created by the researcher is theirs: the clinician (a stranger) gets 404 as for an
unknown collection, until it is shared with them (by user name or by their group); a reader
who is not the owner gets 403 on any change."""

from __future__ import annotations

from typing import Any

from hopia.platform.access import Principal
from hopia.platform.identity.roles import may
from hopia.platform.jobs import JobStatus
from hopia.services import jobs
from hopia.services.ask import NO_MODEL_MARK
from hopia.services.uploads import uploads_root
from tests.web.conftest import Web

API = "/api/v1"
EPIVIR = (
    "1. Posologie\n"
    "Chez l'enfant pesant moins de 14 kg, la solution orale est donnée à la dose de 4 mg par "
    "kilogramme deux fois par jour.\n\n"
    "2. Conservation\n"
    "Ne pas conserver le flacon plus d'un mois après ouverture.\n"
)


def _submit(client: Any, collection: str, name: str, text: str) -> Any:
    """Adding a document: the job's submission (202 and the job, or the refusal)."""
    files = {"file": (name, text.encode(), "text/plain"), "collection": (None, collection)}
    return client.post(f"{API}/collections/documents", files=files)


def _upload(web: Web, client: Any, collection: str, name: str, text: str) -> dict[str, Any]:
    """A document added: the job submitted, run by a burst worker, its result as the caller
    reads it in /api/v1/jobs."""
    submitted = _submit(client, collection, name, text)
    assert submitted.status_code == 202, submitted.text
    with web.operator() as ctx:
        jobs.work(ctx, burst=True)
    job = client.get(f"{API}/jobs/{submitted.json()['id']}")
    assert job.status_code == 200 and job.json()["status"] == "succeeded", job.text
    return job.json()["result"]


def test_owner_stranger_and_shares(web: Web) -> None:
    owner, stranger = web.clients["researcher"], web.clients["clinician"]
    created = owner.post(f"{API}/collections", json={"name": "partage-test", "title": "Essai"})
    assert created.status_code == 201, created.text
    assert created.json()["owner"] == "researcher.test"
    assert _upload(web, owner, "partage-test", "epivir.txt", EPIVIR)["status"] == "added"

    # a stranger: not listed, unknown (404), cannot search nor ask it, nor add to it
    assert "partage-test" not in [c["name"] for c in stranger.get(f"{API}/collections").json()]
    assert stranger.get(f"{API}/collections/partage-test").status_code == 404
    search = {"collections": ["partage-test"], "query": "posologie enfant"}
    assert stranger.post(f"{API}/collections/search", json=search).status_code == 404
    ask = {"question": "Quelle dose chez l'enfant ?", "collections": ["partage-test"]}
    assert stranger.post(f"{API}/assistant/ask", json=ask).status_code == 404
    assert _submit(stranger, "partage-test", "x.txt", "intrus").status_code == 404

    # shared with the clinician by name: reads and searches, cannot change
    shared = owner.post(f"{API}/collections/partage-test/shares", json={"user": "clinician.test"})
    assert shared.status_code == 200
    assert stranger.get(f"{API}/collections/partage-test").status_code == 200
    found = stranger.post(f"{API}/collections/search", json=search)
    assert found.status_code == 200 and found.json()["passages"]
    assert _submit(stranger, "partage-test", "x.txt", "intrus").status_code == 403
    share_on = stranger.post(f"{API}/collections/partage-test/shares", json={"group": "admin"})
    assert share_on.status_code == 403

    # revoked: unknown again; shared with the manager group: every manager reads it
    revoke = owner.delete(
        f"{API}/collections/partage-test/shares", params={"user": "clinician.test"}
    )
    assert revoke.status_code == 200
    assert stranger.get(f"{API}/collections/partage-test").status_code == 404
    assert web.clients["manager"].get(f"{API}/collections/partage-test").status_code == 404
    owner.post(f"{API}/collections/partage-test/shares", json={"group": "manager"})
    assert web.clients["manager"].get(f"{API}/collections/partage-test").status_code == 200

    # the audit log names the changes
    actions = {r.action for r in web.sql("SELECT action FROM hopia_meta.audit_log")}
    assert {
        "collection.create",
        "collection.add",
        "collection.share",
        "collection.unshare",
    } <= actions


def test_group_collection_is_managed_by_the_group(web: Web) -> None:
    dim = web.clients["data_steward"]
    made = dim.post(f"{API}/collections", json={"name": "dim-groupe", "group": "data_steward"})
    assert made.status_code == 201 and made.json()["owner_kind"] == "group"
    refused = dim.post(f"{API}/collections", json={"name": "autre", "group": "admin"})
    assert refused.status_code == 422  # not a member of that group (a request to correct)
    assert web.clients["researcher"].get(f"{API}/collections/dim-groupe").status_code == 404


def test_ask_without_a_model_cites_passages_at_their_offsets(web: Web) -> None:
    owner = web.clients["researcher"]
    owner.post(f"{API}/collections", json={"name": "reponses"})
    assert _upload(web, owner, "reponses", "epivir.txt", EPIVIR)["passages"] >= 2
    ask = {
        "question": "Quelle dose de solution orale chez l'enfant de moins de 14 kg ?",
        "collections": ["reponses"],
    }
    answer = owner.post(f"{API}/assistant/ask", json=ask).json()
    assert answer["generated"] is False and answer["model"] is None and answer["relevant"]
    assert NO_MODEL_MARK in answer["text"]
    assert answer["citations"], answer
    first = answer["citations"][0]
    assert first["section"] == "1. Posologie"
    # the citation's offsets open exactly the passage, and the passage holds the answer
    opened = owner.get(
        f"{API}/collections/reponses/documents/{first['document_id']}/text",
        params={"start": first["start"], "end": first["end"]},
    ).json()
    assert opened["text"] == EPIVIR
    assert "4 mg par kilogramme" in opened["text"][opened["start"] : opened["end"]]
    passage = EPIVIR[first["start"] : first["end"]]
    assert passage.startswith("1. Posologie") and "Conservation" not in passage


def test_nothing_relevant_is_said(web: Web) -> None:
    owner = web.clients["researcher"]
    owner.post(f"{API}/collections", json={"name": "hors-sujet"})
    _upload(web, owner, "hors-sujet", "epivir.txt", EPIVIR)
    ask = {"question": "Quelle est la recette de la tarte tatin ?", "collections": ["hors-sujet"]}
    answer = owner.post(f"{API}/assistant/ask", json=ask).json()
    assert answer["relevant"] is False and answer["citations"] == [] and answer["sources"] == []
    assert answer["text"].startswith("Je n'ai trouvé aucun passage pertinent")


def test_citation_offsets_outside_the_document_are_refused(web: Web) -> None:
    owner = web.clients["researcher"]
    owner.post(f"{API}/collections", json={"name": "bornes"})
    doc = _upload(web, owner, "bornes", "epivir.txt", EPIVIR)["document_id"]
    answer = owner.get(
        f"{API}/collections/bornes/documents/{doc}/text", params={"start": 0, "end": 10**6}
    )
    assert answer.status_code == 422


def test_assistant_page_asks_and_opens_the_cited_passage(web: Web) -> None:
    import html
    import re

    client = web.clients["researcher"]
    client.post(f"{API}/collections", json={"name": "page-assistant", "title": "Protocoles"})
    _upload(web, client, "page-assistant", "epivir.txt", EPIVIR)
    form = client.get("/assistant")
    assert form.status_code == 200 and "Protocoles" in form.text
    assert not re.search(r"<script(?![^>]*\bsrc=\"/static/)", form.text)  # no inline script
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    question = "Combien de temps conserver le flacon après ouverture ?"
    page = client.post(
        "/assistant",
        data={"question": question, "collection": "page-assistant", "csrf": token},
    )
    assert page.status_code == 200, page.text[:500]
    assert "Aucun modèle de langage n'est configuré" in html.unescape(page.text)
    link = html.unescape(re.search(r'href="(/assistant/source/[^"]+)"', page.text).group(1))
    opened = client.get(link)
    assert opened.status_code == 200
    marked = re.search(r'<mark id="passage" class="citation">(.*?)</mark>', opened.text, re.S)
    assert "un mois après ouverture" in html.unescape(marked.group(1))
    # a stranger following the same link: unknown collection
    assert web.clients["clinician"].get(link).status_code == 404


def test_only_the_owner_deletes_a_collection(web: Web) -> None:
    owner, reader = web.clients["researcher"], web.clients["clinician"]
    owner.post(f"{API}/collections", json={"name": "a-supprimer"})
    _upload(web, owner, "a-supprimer", "epivir.txt", EPIVIR)
    owner.post(f"{API}/collections/a-supprimer/shares", json={"user": "clinician.test"})
    assert reader.delete(f"{API}/collections/a-supprimer").status_code == 403
    gone = owner.delete(f"{API}/collections/a-supprimer")
    assert gone.status_code == 200 and gone.json()["documents"] == 1
    assert owner.get(f"{API}/collections/a-supprimer").status_code == 404
    assert reader.get(f"{API}/collections/a-supprimer").status_code == 404
    left = web.sql(
        "SELECT count(*) AS n FROM hopia_meta.collection_share s LEFT JOIN "
        "hopia_meta.collection c ON c.collection_id = s.collection_id WHERE c.name IS NULL"
    )
    assert left[0].n == 0  # no share left behind


# -- adding a document is a job ------------------------------------------------------------------


def _audit(web: Web, action: str, target: str) -> list[Any]:
    return web.sql(
        "SELECT actor, target FROM hopia_meta.audit_log WHERE action = :a AND target = :t",
        a=action,
        t=target,
    )


def test_adding_a_document_is_a_job_its_owner_submits_and_follows(web: Web) -> None:
    """A researcher (no ``jobs.submit``: the DIM's) adds to their own collection: the job is
    queued with ``collection.write``, listed among their jobs, and the document appears once
    it has run — as them (both steps audited under their name), its upload then removed."""
    assert not may(Principal("x", frozenset({"researcher"})), "jobs.submit")
    owner = web.clients["researcher"]
    owner.post(f"{API}/collections", json={"name": "par-tache", "title": "Par tâche"})
    submitted = _submit(owner, "par-tache", "epivir.txt", EPIVIR)
    assert submitted.status_code == 202, submitted.text
    job = submitted.json()
    assert (job["kind"], job["status"], job["owner"]) == (
        "collection_add", "queued", "researcher.test"
    )  # fmt: skip
    assert job["kind_label"] == "Ajout d'un document à une collection"
    assert job["parameters"] == {"collection": "par-tache", "filename": "epivir.txt"}
    assert job["id"] in [j["id"] for j in owner.get(f"{API}/jobs").json()]
    assert owner.get(f"{API}/collections/par-tache").json()["documents"] == []  # not yet
    assert (uploads_root(web.settings) / job["id"]).is_dir()

    with web.operator() as ctx:
        assert jobs.work(ctx, burst=True) == {JobStatus.SUCCEEDED: 1}
    done = owner.get(f"{API}/jobs/{job['id']}").json()
    assert done["status"] == "succeeded" and done["result"]["status"] == "added"
    documents = owner.get(f"{API}/collections/par-tache").json()["documents"]
    assert [(d["name"], d["id"]) for d in documents] == [
        ("epivir.txt", done["result"]["document_id"])
    ]
    assert [r.actor for r in _audit(web, "jobs.submit", f"job:{job['id']}")] == ["researcher.test"]
    assert [r.actor for r in _audit(web, "collection.add", "collection:par-tache")] == [
        "researcher.test"
    ]
    assert not (uploads_root(web.settings) / job["id"]).exists()


def test_a_refused_addition_queues_nothing_and_stores_nothing(web: Web) -> None:
    owner, stranger = web.clients["researcher"], web.clients["clinician"]
    owner.post(f"{API}/collections", json={"name": "refus-tache"})
    root = uploads_root(web.settings)
    before = set(root.iterdir()) if root.is_dir() else set()
    queued = len(owner.get(f"{API}/jobs").json())
    empty = _submit(owner, "refus-tache", "vide.txt", "")
    assert empty.status_code == 422 and empty.json()["fields"] == ["file"]
    binary = _submit(owner, "refus-tache", "outil.exe", "MZ")
    assert binary.status_code == 422
    assert _submit(stranger, "refus-tache", "x.txt", "intrus").status_code == 404
    assert _submit(owner, "inconnue", "x.txt", "texte").status_code == 404
    assert len(owner.get(f"{API}/jobs").json()) == queued
    assert (set(root.iterdir()) if root.is_dir() else set()) == before


def test_the_assistant_page_adds_a_document_and_shows_the_job(web: Web) -> None:
    import html
    import re

    owner, reader = web.clients["researcher"], web.clients["clinician"]
    owner.post(f"{API}/collections", json={"name": "page-ajout", "title": "Ajouts par la page"})
    owner.post(f"{API}/collections/page-ajout/shares", json={"user": "clinician.test"})
    form = owner.get("/assistant")
    assert '<option value="page-ajout">' in form.text  # the owner may add to it
    assert '<option value="page-ajout">' not in reader.get("/assistant").text  # a reader not
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    files = {
        "file": ("epivir.txt", EPIVIR.encode(), "text/plain"),
        "collection": (None, "page-ajout"),
        "csrf": (None, token),
    }
    sent = owner.post("/assistant/documents", files=files, follow_redirects=False)
    assert sent.status_code == 303, sent.text[:500]
    job_page = sent.headers["location"]
    assert re.fullmatch(r"/jobs/[0-9a-f]{32}", job_page)
    shown = html.unescape(owner.get(job_page).text)
    assert "Ajout d'un document à une collection" in shown
    with web.operator() as ctx:
        jobs.work(ctx, burst=True)
    assert owner.get(f"{API}/collections/page-ajout").json()["documents"]
    # a mistake comes back beside the form, in French
    files["file"] = ("outil.exe", b"MZ", "application/octet-stream")
    refused = owner.post("/assistant/documents", files=files, follow_redirects=False)
    assert refused.status_code == 422 and 'class="erreur"' in refused.text

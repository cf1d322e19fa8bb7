"""Knowledge collections through the API: who reads, who changes, what a stranger sees; cited
answers without a model; the text a citation opens.

Accounts of the web fixture: one per role (``researcher.test``, ``clinician.test``…). A
collection created by the researcher is theirs: the clinician (a stranger) gets 404 as for an
unknown collection, until it is shared with them (by user name or by their group); a reader
who is not the owner gets 403 on any change."""

from __future__ import annotations

from typing import Any

from hopia.services.ask import NO_MODEL_MARK
from tests.web.conftest import Web

API = "/api/v1"
EPIVIR = (
    "1. Posologie\n"
    "Chez l'enfant pesant moins de 14 kg, la solution orale est donnée à la dose de 4 mg par "
    "kilogramme deux fois par jour.\n\n"
    "2. Conservation\n"
    "Ne pas conserver le flacon plus d'un mois après ouverture.\n"
)


def _upload(client: Any, collection: str, name: str, text: str) -> Any:
    files = {"file": (name, text.encode(), "text/plain"), "collection": (None, collection)}
    return client.post(f"{API}/collections/documents", files=files)


def test_owner_stranger_and_shares(web: Web) -> None:
    owner, stranger = web.clients["researcher"], web.clients["clinician"]
    created = owner.post(f"{API}/collections", json={"name": "partage-test", "title": "Essai"})
    assert created.status_code == 201, created.text
    assert created.json()["owner"] == "researcher.test"
    assert _upload(owner, "partage-test", "epivir.txt", EPIVIR).status_code == 200

    # a stranger: not listed, unknown (404), cannot search nor ask it, nor add to it
    assert "partage-test" not in [c["name"] for c in stranger.get(f"{API}/collections").json()]
    assert stranger.get(f"{API}/collections/partage-test").status_code == 404
    search = {"collections": ["partage-test"], "query": "posologie enfant"}
    assert stranger.post(f"{API}/collections/search", json=search).status_code == 404
    ask = {"question": "Quelle dose chez l'enfant ?", "collections": ["partage-test"]}
    assert stranger.post(f"{API}/assistant/ask", json=ask).status_code == 404
    assert _upload(stranger, "partage-test", "x.txt", "intrus").status_code == 404

    # shared with the clinician by name: reads and searches, cannot change
    shared = owner.post(f"{API}/collections/partage-test/shares", json={"user": "clinician.test"})
    assert shared.status_code == 200
    assert stranger.get(f"{API}/collections/partage-test").status_code == 200
    found = stranger.post(f"{API}/collections/search", json=search)
    assert found.status_code == 200 and found.json()["passages"]
    assert _upload(stranger, "partage-test", "x.txt", "intrus").status_code == 403
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
    assert _upload(owner, "reponses", "epivir.txt", EPIVIR).status_code == 200
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
    _upload(owner, "hors-sujet", "epivir.txt", EPIVIR)
    ask = {"question": "Quelle est la recette de la tarte tatin ?", "collections": ["hors-sujet"]}
    answer = owner.post(f"{API}/assistant/ask", json=ask).json()
    assert answer["relevant"] is False and answer["citations"] == [] and answer["sources"] == []
    assert answer["text"].startswith("Je n'ai trouvé aucun passage pertinent")


def test_citation_offsets_outside_the_document_are_refused(web: Web) -> None:
    owner = web.clients["researcher"]
    owner.post(f"{API}/collections", json={"name": "bornes"})
    doc = _upload(owner, "bornes", "epivir.txt", EPIVIR).json()["document"]["id"]
    answer = owner.get(
        f"{API}/collections/bornes/documents/{doc}/text", params={"start": 0, "end": 10**6}
    )
    assert answer.status_code == 422


def test_assistant_page_asks_and_opens_the_cited_passage(web: Web) -> None:
    import html
    import re

    client = web.clients["researcher"]
    client.post(f"{API}/collections", json={"name": "page-assistant", "title": "Protocoles"})
    _upload(client, "page-assistant", "epivir.txt", EPIVIR)
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
    _upload(owner, "a-supprimer", "epivir.txt", EPIVIR)
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

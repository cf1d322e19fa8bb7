"""The assistant's pages without a language model (none is configured in this application): the
task forms per role, tasks that say plainly that no model is configured and show their sources,
the streamed answer's events, and the history per user (own entries only, patient entries read
within the perimeter and audited, deletion).

Expected values come from the warehouse, read with plain SQL."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from fastapi.testclient import TestClient

from hopia.services.ask import NO_MODEL_MARK
from tests.web.conftest import PERIMETER, Web
from tests.web.test_collections import EPIVIR, _upload

API = "/api/v1"
NO_MODEL_PAGE = "Aucun modèle de langage n'est configuré"
TRANSCRIPT = (
    "Réunion du service de cardiologie. Présents : l'équipe infirmière et deux internes.\n"
    "Point 1 : la nouvelle procédure de double contrôle des anticoagulants démarre lundi.\n"
    "Point 2 : le chariot d'urgence du deuxième étage sera vérifié chaque matin.\n"
)


def _token(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def _post(client: TestClient, path: str, data: dict[str, Any], origin: str) -> Any:
    return client.post(path, data={**data, "csrf": _token(client.get(origin).text)})


def _task(client: TestClient, name: str, **data: Any) -> Any:
    return _post(client, f"/assistant/taches/{name}", data, "/assistant/taches")


def _history_ids(page: str) -> list[str]:
    return re.findall(r'href="/assistant/historique/([0-9a-f]{32})"', page)


def _stay_in_perimeter(web: Web) -> Any:
    """A stay of the clinician's perimeter with an identified document, and its patient."""
    return web.sql(
        "SELECT v.visit_occurrence_id AS visit, v.person_id AS person, count(*) AS notes "
        "FROM omop.visit_occurrence v JOIN omop.note n "
        "ON n.visit_occurrence_id = v.visit_occurrence_id "
        "JOIN hopia_id.document d ON d.note_id = n.note_id AND d.status = 'done' "
        "WHERE v.care_site_id = :site GROUP BY 1, 2 ORDER BY 1 LIMIT 1",
        site=PERIMETER,
    )[0]


def _person_outside(web: Web) -> int:
    return web.sql(
        "SELECT min(p.person_id) AS p FROM omop.person p WHERE p.person_id > 0 AND NOT EXISTS "
        "(SELECT 1 FROM omop.visit_occurrence v WHERE v.person_id = p.person_id "
        "AND v.care_site_id = :site)",
        site=PERIMETER,
    )[0].p


# -- the task forms ------------------------------------------------------------------------------


def test_each_role_gets_the_forms_of_its_tasks(web: Web) -> None:
    forms = {
        role: set(
            re.findall(
                r'action="/assistant/taches/([a-z_]+)"', client.get("/assistant/taches").text
            )
        )
        for role, client in web.clients.items()
    }
    staff = {"quiz", "minutes"}
    assert forms["clinician"] == staff | {"patient_summary", "discharge_letter"}
    assert forms["researcher"] == staff | {"cohort_from_question", "article_draft"}
    assert forms["manager"] == forms["admin"] == forms["data_steward"] == staff
    page = html.unescape(web.clients["manager"].get("/assistant/taches").text)
    assert "Aucun modèle de langage n'est configuré : chaque tâche" in page  # said up front
    assert web.anon.get("/assistant/taches", follow_redirects=False).status_code == 303


def test_the_clinician_picks_among_the_stays_of_the_perimeter_only(web: Web) -> None:
    page = web.clients["clinician"].get("/assistant/taches")
    assert page.status_code == 200 and "<script" not in page.text
    offered = {int(v) for v in re.findall(r'<option value="(\d+)"[^>]*>séjour', page.text)}
    expected = {
        r.v
        for r in web.sql(
            "SELECT DISTINCT v.visit_occurrence_id AS v FROM omop.visit_occurrence v "
            "JOIN omop.note n ON n.visit_occurrence_id = v.visit_occurrence_id "
            "JOIN hopia_id.document d ON d.note_id = n.note_id AND d.status = 'done' "
            "WHERE v.care_site_id = :site",
            site=PERIMETER,
        )
    }
    assert offered and offered == expected
    listed = web.sql(
        "SELECT details FROM hopia_meta.audit_log WHERE action = 'task.choices' "
        "AND actor = 'clinician.test'"
    )
    assert listed and json.loads(listed[-1].details)["stays"] == len(expected)


def test_a_task_form_needs_its_token(web: Web) -> None:
    forged = web.clients["manager"].post("/assistant/taches/minutes", data={"text": TRANSCRIPT})
    assert forged.status_code == 403 and "autre site" in html.unescape(forged.text)


def test_minutes_without_a_model_say_so_and_keep_no_pasted_text(web: Web) -> None:
    client = web.clients["manager"]
    page = _task(client, "minutes", text=TRANSCRIPT, title="Réunion de service")
    assert page.status_code == 200, page.text[:800]
    text = html.unescape(page.text)
    assert NO_MODEL_PAGE in text and "Texte généré" not in text
    assert "Réunion de service" in text  # the source, by its title
    (entry_id,) = _history_ids(page.text)
    row = web.sql(
        "SELECT username, kind, name, inputs, prompt, generated, model, person_id "
        "FROM hopia_meta.assistant_history WHERE entry_id = :e",
        e=entry_id,
    )[0]
    assert (row.username, row.kind, row.name) == ("manager.test", "task", "minutes")
    assert row.generated is False and row.model is None and row.person_id is None
    assert row.prompt is None  # assistant.audit_prompts is off: the transcript is not kept
    assert json.loads(row.inputs) == {"title": "Réunion de service", "chars": len(TRANSCRIPT)}
    assert "anticoagulants" not in row.inputs


def test_a_missing_input_is_shown_beside_the_forms(web: Web) -> None:
    page = _task(web.clients["manager"], "minutes", title="Sans texte")
    assert page.status_code == 422
    assert "demande un texte" in html.unescape(page.text)
    assert 'value="Sans texte"' in page.text  # what was typed is kept


def test_the_patient_summary_without_a_model_lists_the_documents_read(web: Web) -> None:
    client = web.clients["clinician"]
    stay = _stay_in_perimeter(web)
    page = _task(client, "patient_summary", person_id=stay.person)
    assert page.status_code == 200, page.text[:800]
    assert NO_MODEL_PAGE in html.unescape(page.text)
    notes = {
        r.n
        for r in web.sql(
            "SELECT n.note_id AS n FROM omop.note n JOIN hopia_id.document d "
            "ON d.note_id = n.note_id AND d.status = 'done' WHERE n.person_id = :p",
            p=stay.person,
        )
    }
    linked = {int(n) for n in re.findall(r'href="/documents/(\d+)"', page.text)}
    assert linked and linked <= notes
    run = web.sql(
        "SELECT target, details FROM hopia_meta.audit_log WHERE action = 'task.run' "
        "AND actor = 'clinician.test' ORDER BY \"at\" DESC LIMIT 1"
    )[0]
    assert run.target == f"person:{stay.person}"
    assert json.loads(run.details)["generated"] is False


def test_a_patient_outside_the_perimeter_is_refused(web: Web) -> None:
    outside = _person_outside(web)
    page = _task(web.clients["clinician"], "patient_summary", person_id=outside)
    assert page.status_code == 403
    kept = web.sql(
        "SELECT count(*) AS n FROM hopia_meta.assistant_history WHERE person_id = :p", p=outside
    )
    assert kept[0].n == 0


def test_a_role_without_the_task_is_refused(web: Web) -> None:
    stay = _stay_in_perimeter(web)
    page = _task(web.clients["researcher"], "patient_summary", person_id=stay.person)
    assert page.status_code == 403


def test_the_quiz_reads_a_collection_document(web: Web) -> None:
    client = web.clients["data_steward"]
    client.post(f"{API}/collections", json={"name": "qcm-protocoles", "title": "Protocoles"})
    document_id = _upload(web, client, "qcm-protocoles", "epivir.txt", EPIVIR)["document_id"]
    form = client.get("/assistant/taches").text
    assert f'value="qcm-protocoles/{document_id}"' in form
    page = _task(client, "quiz", document=f"qcm-protocoles/{document_id}")
    assert page.status_code == 200, page.text[:800]
    assert NO_MODEL_PAGE in html.unescape(page.text) and "epivir.txt" in page.text
    # a collection the user may not read: unknown, as everywhere
    refused = _task(web.clients["manager"], "quiz", document=f"qcm-protocoles/{document_id}")
    assert refused.status_code == 404 and "qcm-protocoles" in html.unescape(refused.text)


# -- the streamed answer -------------------------------------------------------------------------


def _events(body: str) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: ")]


def test_the_answer_streams_as_events_and_is_kept(web: Web) -> None:
    client = web.clients["researcher"]
    client.post(f"{API}/collections", json={"name": "flux", "title": "Protocoles"})
    _upload(web, client, "flux", "epivir.txt", EPIVIR)
    page = client.get("/assistant")
    assert '<script src="/static/assistant.js" defer></script>' in page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)  # no inline script
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    script = client.get("/static/assistant.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "http://" not in script.text and "https://" not in script.text  # no other origin
    question = "Combien de temps conserver le flacon après ouverture ?"
    answer = client.post(
        "/assistant/flux",
        data={"question": question, "collection": "flux", "csrf": _token(page.text)},
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    events = _events(answer.text)
    assert [e["type"] for e in events] == ["piece", "end"]
    end = events[-1]
    assert end["generated"] is False and end["relevant"] is True
    assert NO_MODEL_MARK in events[0]["text"]
    first = end["citations"][0]
    opened = client.get(first["href"])
    assert opened.status_code == 200 and "un mois après ouverture" in html.unescape(opened.text)
    assert first["passage"] and first["label"].startswith("epivir.txt")
    entry = client.get(end["history"])
    assert entry.status_code == 200 and question in html.unescape(entry.text)


def test_the_stream_refuses_a_forged_post_and_a_stranger_collection(web: Web) -> None:
    client = web.clients["clinician"]
    forged = client.post("/assistant/flux", data={"question": "x", "collection": "flux"})
    assert forged.status_code == 403
    token = _token(client.get("/assistant").text)
    data = {"question": "Combien de temps ?", "collection": "flux", "csrf": token}
    unknown = client.post("/assistant/flux", data=data)
    assert unknown.status_code == 404  # the researcher's collection: unknown to a stranger
    assert not unknown.headers["content-type"].startswith("text/event-stream")


# -- the history ---------------------------------------------------------------------------------


def test_history_is_per_user_and_an_entry_is_deleted(web: Web) -> None:
    client = web.clients["admin"]
    _task(client, "minutes", text=TRANSCRIPT, title="CR à supprimer")
    listing = client.get("/assistant/historique")
    assert listing.status_code == 200 and "CR à supprimer" in html.unescape(listing.text)
    entry_id = _history_ids(listing.text)[0]
    mine = web.sql(
        "SELECT entry_id FROM hopia_meta.assistant_history WHERE username = 'admin.test'"
    )
    assert {r.entry_id for r in mine} == set(_history_ids(listing.text))
    # nobody else reads it, nor deletes it: not even knowing it exists
    other = web.clients["manager"]
    assert other.get(f"/assistant/historique/{entry_id}").status_code == 404
    refused = _post(other, f"/assistant/historique/{entry_id}/supprimer", {}, "/assistant")
    assert refused.status_code == 404
    assert "CR à supprimer" not in html.unescape(other.get("/assistant/historique").text)
    # its owner deletes it
    done = client.post(
        f"/assistant/historique/{entry_id}/supprimer",
        data={"csrf": _token(listing.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/assistant/historique"
    assert client.get(f"/assistant/historique/{entry_id}").status_code == 404
    gone = web.sql(
        "SELECT actor FROM hopia_meta.audit_log WHERE action = 'assistant.history.delete' "
        "AND target = :t",
        t=f"history:{entry_id}",
    )
    assert [r.actor for r in gone] == ["admin.test"]


def test_reading_a_patient_entry_again_is_an_audited_patient_read(web: Web) -> None:
    client = web.clients["clinician"]
    stay = _stay_in_perimeter(web)
    page = _task(client, "discharge_letter", visit_id=stay.visit)
    assert page.status_code == 200, page.text[:800]
    (entry_id,) = _history_ids(page.text)
    row = web.sql(
        "SELECT person_id, inputs, citations FROM hopia_meta.assistant_history WHERE entry_id = :e",
        e=entry_id,
    )[0]
    assert row.person_id == stay.person
    assert json.loads(row.inputs)["visit_id"] == stay.visit
    assert all(c["id"].startswith("note:") for c in json.loads(row.citations))

    def reads() -> list[Any]:
        return web.sql(
            "SELECT actor, target, details FROM hopia_meta.audit_log "
            "WHERE action = 'assistant.history.read'"
        )

    before = len(reads())
    entry = client.get(f"/assistant/historique/{entry_id}")
    assert entry.status_code == 200
    assert "Brouillon de lettre de liaison" in html.unescape(entry.text)
    after = reads()
    assert len(after) == before + 1
    assert (after[-1].actor, after[-1].target) == ("clinician.test", f"person:{stay.person}")
    assert json.loads(after[-1].details)["entry_id"] == entry_id
    # the administrator sees nothing of it
    assert web.clients["admin"].get(f"/assistant/historique/{entry_id}").status_code == 404
    assert entry_id not in web.clients["admin"].get("/assistant/historique").text

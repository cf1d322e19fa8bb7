"""What each space shows, and that every read is audited: documents, patients, cohorts,
activity, audit view. Expected values come from the tables, read with plain SQL."""

from __future__ import annotations

import json
import logging

import pytest

from tests.web.conftest import Web

REASON = {"reason": "patient transféré aux urgences, avis demandé"}


def _person(web: Web, inside: bool) -> int:
    having = (
        "bool_and(care_site_id = 1)" if inside else "NOT bool_or(coalesce(care_site_id, 0) = 1)"
    )
    return web.sql(
        f"SELECT person_id FROM omop.visit_occurrence GROUP BY person_id HAVING {having} "
        "ORDER BY person_id LIMIT 1"
    )[0].person_id


def _rich_note(web: Web, person: int) -> int:
    """The note of ``person`` with the most PHI spans and entities (offsets to move back)."""
    return web.sql(
        "SELECT d.note_id FROM hopia_id.document d JOIN omop.note n ON n.note_id = d.note_id "
        "WHERE n.person_id = :p AND d.status = 'done' ORDER BY "
        "(SELECT count(*) FROM hopia_id.phi_span s WHERE s.document_id = d.document_id) DESC, "
        "d.note_id LIMIT 1",
        p=person,
    )[0].note_id


def _last_audit(web: Web, action: str) -> tuple:
    return web.sql(
        "SELECT actor, target, reason, details FROM hopia_meta.audit_log WHERE action = :a "
        "ORDER BY audit_id DESC LIMIT 1",
        a=action,
    )[0]


def test_identified_view_is_the_original_text_with_entities_moved_onto_it(web: Web) -> None:
    note_id = _rich_note(web, _person(web, inside=True))
    view = web.clients["clinician"].get(f"/api/v1/documents/{note_id}").json()
    (doc,) = web.sql(
        "SELECT text, doc_date FROM hopia_id.document WHERE note_id = :n AND status = 'done'",
        n=note_id,
    )
    (note,) = web.sql("SELECT note_text FROM omop.note WHERE note_id = :n", n=note_id)
    assert view["space"] == "identified" and view["text"] == doc.text
    assert view["date"] == doc.doc_date.isoformat()
    assert view["text"] != note.note_text  # identifiers were replaced in the research space
    mentions = web.sql(
        "SELECT lexical_variant FROM omop.note_nlp WHERE note_id = :n ORDER BY note_nlp_id",
        n=note_id,
    )
    assert mentions and len(view["entities"]) == len(mentions)
    # Each entity's span in the original text reads what the NLP read in the pseudonymised one,
    # unless it was an identifier (a date): then it reads the original that was replaced.
    originals = {
        doc.text[r.start_char : r.end_char]
        for r in web.sql(
            "SELECT s.start_char, s.end_char FROM hopia_id.phi_span s JOIN hopia_id.document d "
            "ON d.document_id = s.document_id WHERE d.note_id = :n AND s.surrogate IS NOT NULL",
            n=note_id,
        )
    }
    entities = view["entities"]
    pairs = [(e["text"], m.lexical_variant) for e, m in zip(entities, mentions, strict=True)]
    moved = [a for a, b in pairs if a != b]
    assert len(moved) < len(pairs) and all(a in originals for a in moved), pairs
    audited = _last_audit(web, "document.view")
    assert audited.actor == "clinician.test" and audited.target == f"note:{note_id}"
    assert json.loads(audited.details)["space"] == "identified"


def test_research_view_shows_no_name_and_keeps_entity_offsets(web: Web) -> None:
    person = _person(web, inside=True)
    note_id = _rich_note(web, person)
    view = web.clients["researcher"].get(f"/api/v1/documents/{note_id}").json()
    (note,) = web.sql("SELECT note_text, note_date FROM omop.note WHERE note_id = :n", n=note_id)
    (who,) = web.sql("SELECT family_name, ipp FROM hopia_id.patient WHERE person_id = :p", p=person)
    assert view["space"] == "research" and view["text"] == note.note_text
    assert who.family_name not in json.dumps(view) and who.ipp not in json.dumps(view)
    for e in view["entities"]:
        assert view["text"][e["start"] : e["end"]] == e["text"]
    qualifiers = {"negation", "hypothesis", "family", "history", "reported_speech"}
    assert all(qualifiers <= set(e) for e in view["entities"])


def test_a_researcher_cannot_ask_the_identified_space(web: Web) -> None:
    note_id = _rich_note(web, _person(web, inside=True))
    answer = web.clients["researcher"].get(
        f"/api/v1/documents/{note_id}", params={"space": "identified"}
    )
    assert answer.status_code == 403 and answer.json()["code"] == "access_denied"
    refused = _last_audit(web, "access.refused")
    assert refused.actor == "researcher.test"


def test_the_clinician_list_holds_only_the_perimeter(web: Web) -> None:
    page = web.clients["clinician"].get("/api/v1/documents", params={"size": 500}).json()
    expected = web.sql(
        "SELECT count(*) AS n FROM omop.note n JOIN hopia_id.document d ON d.note_id = n.note_id "
        "AND d.status = 'done' WHERE EXISTS (SELECT 1 FROM omop.visit_occurrence v WHERE "
        "v.person_id = n.person_id AND v.care_site_id = 1)"
    )[0].n
    assert page["space"] == "identified" and page["total"] == expected > 0
    persons = {item["person_id"] for item in page["items"]}
    inside = {
        r.person_id
        for r in web.sql(
            "SELECT DISTINCT person_id FROM omop.visit_occurrence WHERE care_site_id = 1"
        )
    }
    assert persons <= inside


def test_search_finds_words_and_the_access_log_keeps_no_query(
    web: Web, caplog: pytest.LogCaptureFixture
) -> None:
    person = _person(web, inside=True)
    (who,) = web.sql("SELECT family_name FROM hopia_id.patient WHERE person_id = :p", p=person)
    with caplog.at_level(logging.INFO, logger="hopia.web.access"):
        page = (
            web.clients["clinician"].get("/api/v1/documents", params={"q": who.family_name}).json()
        )
    expected = web.sql(
        "SELECT count(*) AS n FROM hopia_id.document d JOIN omop.note n ON n.note_id = d.note_id "
        "WHERE d.status = 'done' AND d.text ILIKE :w AND EXISTS (SELECT 1 FROM "
        "omop.visit_occurrence v WHERE v.person_id = n.person_id AND v.care_site_id = 1)",
        w=f"%{who.family_name}%",
    )[0].n
    assert page["total"] == expected > 0
    logged = caplog.text
    assert "GET /api/v1/documents 200" in logged
    assert who.family_name not in logged and "?" not in logged
    # The patient's IPP is in identified texts only: searched in the research space, nothing.
    (ipp,) = web.sql("SELECT ipp FROM hopia_id.patient WHERE person_id = :p", p=person)
    research = web.clients["researcher"].get("/api/v1/documents", params={"q": ipp.ipp}).json()
    assert research["space"] == "research" and research["total"] == 0
    assert web.clients["clinician"].get("/api/v1/documents", params={"q": ipp.ipp}).json()["total"]


def test_patient_view_gives_real_dates_and_is_audited(web: Web) -> None:
    person = _person(web, inside=True)
    view = web.clients["clinician"].get(f"/api/v1/patients/{person}").json()
    (who,) = web.sql(
        "SELECT ipp, family_name, birth_date FROM hopia_id.patient WHERE person_id = :p",
        p=person,
    )
    assert view["identity"]["ipp"] == who.ipp
    assert view["identity"]["family_name"] == who.family_name
    stays = web.sql(
        "SELECT count(*) AS n FROM omop.visit_occurrence WHERE person_id = :p", p=person
    )[0].n
    assert len(view["stays"]) == stays
    # A document's date in the timeline (unshifted from the research space) is the real one.
    real = {
        r.note_id: r.doc_date.isoformat()
        for r in web.sql(
            "SELECT d.note_id, d.doc_date FROM hopia_id.document d JOIN omop.note n "
            "ON n.note_id = d.note_id WHERE n.person_id = :p AND d.doc_date IS NOT NULL",
            p=person,
        )
    }
    documents = [e for e in view["timeline"] if e["kind"] == "document"]
    assert documents and all(real[e["note_id"]] == e["date"] for e in documents)
    audited = _last_audit(web, "patient.view")
    assert audited.target == f"person:{person}"
    assert json.loads(audited.details)["break_glass"] is False


def test_break_glass_needs_a_reason_and_is_flagged(web: Web) -> None:
    outside = _person(web, inside=False)
    clinician = web.clients["clinician"]
    refused = clinician.get(f"/api/v1/patients/{outside}")
    assert refused.status_code == 403
    assert refused.json()["details"]["break_glass"] is True  # the way out is offered
    short = clinician.post(f"/api/v1/patients/{outside}/break-glass", json={"reason": "vite"})
    assert short.status_code == 422 and short.json()["code"] == "reason_required"
    done = clinician.post(f"/api/v1/patients/{outside}/break-glass", json=REASON)
    assert done.status_code == 200 and done.json()["break_glass"] is True
    audited = _last_audit(web, "patient.view")
    assert audited.reason == REASON["reason"]
    assert json.loads(audited.details)["break_glass"] is True
    flagged = web.clients["admin"].get("/api/v1/audit", params={"break_glass": True}).json()
    assert any(
        item["target"] == f"person:{outside}" and item["break_glass"] for item in flagged["items"]
    )


def test_break_glass_only_for_the_roles_configured(tmp_path, sample_file) -> None:
    from tests.web.conftest import make_web

    w = make_web(tmp_path, sample_file, break_glass_roles=[])
    try:
        outside = _person(w, inside=False)
        answer = w.clients["clinician"].post(f"/api/v1/patients/{outside}/break-glass", json=REASON)
        assert answer.status_code == 403
        assert answer.json()["details"].get("break_glass") is not True
    finally:
        w.warehouse.close()


def test_cohorts_saved_validated_and_run_with_suppression(web: Web) -> None:
    researcher = web.clients["researcher"]
    bad = researcher.post(
        "/api/v1/cohorts/validate", json={"definition": {"name": "x", "title": ""}}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_cohort"
    definition = {
        "name": "ic_web",
        "title": "IC",
        "inclusion": [{"label": "IC", "condition": {"cim10": ["I50"]}}],
    }
    saved = researcher.post("/api/v1/cohorts", json={"definition": definition})
    assert saved.status_code == 200 and saved.json()["name"] == "ic_web"
    names = [d["name"] for d in researcher.get("/api/v1/cohorts").json()]
    assert "ic_web" in names
    run = researcher.post("/api/v1/cohorts/ic_web/run").json()
    attrition = run["results"]["attrition"]
    members = web.sql(
        "SELECT count(DISTINCT person_id) AS n FROM omop.condition_occurrence c "
        "JOIN omop.concept k ON k.concept_id = c.condition_concept_id "
        "WHERE k.vocabulary_id = 'ICD10' AND k.concept_code LIKE 'I50%'"
    )[0].n
    shown = attrition[-1]["count"] if "count" in attrition[-1] else attrition[-1]
    if 0 < members < 10:
        assert "<10" in json.dumps(shown) or "*" in json.dumps(shown)
    assert _last_audit(web, "cohort.run").actor == "researcher.test"


def test_activity_suppresses_small_cells(web: Web) -> None:
    figures = web.clients["manager"].get("/api/v1/activity").json()
    counts = {
        r.care_site_id: r.n
        for r in web.sql(
            "SELECT care_site_id, count(DISTINCT person_id) AS n FROM omop.visit_occurrence "
            "GROUP BY care_site_id"
        )
    }
    for site in figures["sites"]:
        n = counts[site["care_site_id"]]
        assert site["patients"] == (f"<{figures['small_cell']}" if n < figures["small_cell"] else n)
    assert any(isinstance(s["patients"], str) for s in figures["sites"])  # the sample has some


def test_audit_view_verifies_and_detects_an_edited_entry(tmp_path, sample_file) -> None:
    from tests.web.conftest import make_web

    w = make_web(tmp_path, sample_file)
    try:
        admin = w.clients["admin"]
        assert admin.get("/api/v1/audit/verify").json()["ok"] is True
        logins = admin.get("/api/v1/audit", params={"action": "auth.login"}).json()
        assert logins["total"] == 5  # one per role
        with w.warehouse.begin() as conn:
            from sqlalchemy import text

            conn.execute(
                text(
                    "UPDATE hopia_meta.audit_log SET actor = 'quelqu.un' WHERE audit_id = "
                    "(SELECT max(audit_id) FROM hopia_meta.audit_log WHERE action = 'auth.login')"
                )
            )
        verdict = admin.get("/api/v1/audit/verify").json()
        assert verdict["ok"] is False and verdict["problem"]
    finally:
        w.warehouse.close()


def test_jobs_are_their_owner_s_and_the_admin_s(web: Web) -> None:
    from hopia.services import jobs

    with web.operator() as ctx:
        job = jobs.submit(ctx, jobs.JobRequest.of(kind="quality"))
    seen = [j["id"] for j in web.clients["admin"].get("/api/v1/jobs").json()]
    assert job.id in seen
    assert web.clients["researcher"].get("/api/v1/jobs").json() == []
    assert web.clients["researcher"].get(f"/api/v1/jobs/{job.id}").status_code == 404
    cancelled = web.clients["admin"].post(f"/api/v1/jobs/{job.id}/cancel").json()
    assert cancelled["status"] == "cancelled"
    again = web.clients["admin"].post(f"/api/v1/jobs/{job.id}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "conflict"

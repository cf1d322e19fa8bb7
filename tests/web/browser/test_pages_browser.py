"""The French pages in a real Chromium: login per role, a document with its entities marked
(a negated one marked negated), a patient's timeline with a lab plot, a patient outside the
perimeter refused (French 403 page), the jobs page, the admin's audit view showing the actions
just done, screenshots of each page, and no identifier of the demo patients in the logs of the
whole session. Expected values come from the warehouse, read with plain SQL.

The tests run in file order and share one server (``served``): the audit test reads what the
earlier tests did, and the last one reads every log line of the session.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.web.browser.conftest import REPO, Served
from tests.web.conftest import PERIMETER, ROLES

pytestmark = pytest.mark.slow

IN_PERIMETER = (
    "exists (select 1 from omop.visit_occurrence v where v.person_id = {p} "
    "and v.care_site_id = :site)"
)
GLASS_REASON = "Urgence vitale : patient admis inconscient aux urgences"
HOME_LINKS = {
    "clinician": {"Accueil", "Documents", "Tâches", "Dictée"},
    "researcher": {"Accueil", "Documents", "Cohortes", "Tâches"},
    "data_steward": {"Accueil", "Documents", "Cohortes", "Exports", "Qualité", "Tâches"},
    "manager": {"Accueil", "Tâches", "Pilotage"},
    "admin": {"Accueil", "Tâches", "Journal d'audit", "Comptes"},
}
for _links in HOME_LINKS.values():  # every role asks questions over its collections
    _links.add("Assistant")


def _nav(page: object) -> set[str]:
    links = page.locator("nav.navigation a")  # type: ignore[attr-defined]
    return {links.nth(i).inner_text().strip() for i in range(links.count())}


def _follow(page: object, target: object) -> None:
    """Click what loads a new page and wait for it: a check read right after a bare click
    could read the page being left."""
    with page.expect_navigation():  # type: ignore[attr-defined]
        target.click()  # type: ignore[attr-defined]


def _go(page: object, link: str) -> None:
    """Follow a link of the main navigation (the home page's cards have the same ones)."""
    nav = page.get_by_role("navigation", name="Navigation principale")  # type: ignore[attr-defined]
    _follow(page, nav.get_by_role("link", name=link, exact=True))


@pytest.mark.parametrize("role", ROLES)
def test_each_role_logs_in_and_gets_its_home_and_navigation(served: Served, role: str) -> None:
    page = served.login(role)
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", level=1).inner_text().startswith("Bonjour")
    assert _nav(page) == HOME_LINKS[role]
    page.keyboard.press("Tab")  # keyboard first: the skip link, then the main content
    skip = page.locator(":focus")
    assert skip.inner_text() == "Aller au contenu"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"
    served.shot(page, f"accueil-{role}")
    page.context.close()


def _negated_note(served: Served) -> tuple[int, set[str]]:
    rows = served.web.sql(
        "select n.note_id, x.lexical_variant from omop.note n "
        "join hopia_id.document d on d.note_id = n.note_id and d.status = 'done' "
        "join omop.note_nlp x on x.note_id = n.note_id "
        "where x.term_modifiers like '%\"negation\": true%' and "
        + IN_PERIMETER.format(p="n.person_id")
        + " order by n.note_id",
        site=PERIMETER,
    )
    assert rows, "the sample has a negated entity in the clinician's perimeter"
    note_id = rows[0].note_id
    return note_id, {r.lexical_variant for r in rows if r.note_id == note_id}


def test_search_then_a_document_with_its_entities_and_a_negated_one(served: Served) -> None:
    note_id, negated = _negated_note(served)
    page = served.login("clinician")
    _go(page, "Documents")
    page.get_by_label("Rechercher dans le texte").fill("patient")
    _follow(page, page.get_by_role("button", name="Rechercher"))
    assert "document(s)" in page.locator(".compte").inner_text()
    served.shot(page, "documents-recherche")
    page.goto(f"/documents/{note_id}")
    assert page.locator("h1").inner_text().endswith(f"n° {note_id}")
    marks = page.locator("div.texte mark.ent")
    assert marks.count() > 0
    denied = page.locator("div.texte mark.q-negation")
    assert denied.count() > 0
    first = denied.first
    assert first.locator(".qualif").inner_text().startswith("nié")
    shown = first.inner_text().replace(first.locator(".qualif").inner_text(), "").strip()
    folded = shown.casefold()
    assert any(folded in v.casefold() or v.casefold() in folded for v in negated)
    assert first.get_attribute("title")  # codes and type on hover
    assert "nié" in first.get_attribute("title")
    served.shot(page, "document")
    page.context.close()


def _lab_patient(served: Served) -> tuple[int, int]:
    rows = served.web.sql(
        "select m.person_id, count(distinct m.measurement_source_value) as labs "
        "from omop.measurement m where m.value_as_number is not null "
        "and m.range_low is not null and "
        + IN_PERIMETER.format(p="m.person_id")
        + " group by m.person_id order by count(*) desc, m.person_id limit 1",
        site=PERIMETER,
    )
    return rows[0].person_id, rows[0].labs


def test_the_timeline_shows_stays_events_and_lab_plots_with_ranges(served: Served) -> None:
    person_id, labs = _lab_patient(served)
    page = served.login("clinician")
    page.goto(f"/patients/{person_id}")
    assert page.locator("h1").inner_text() == f"Dossier patient {person_id}"
    plots = page.locator("svg.courbe")
    assert plots.count() >= labs
    assert page.locator("svg.courbe rect.plage").count() > 0
    assert page.locator("svg.courbe circle.point").count() > 0
    label = plots.first.get_attribute("aria-label")
    assert "plage de référence" in label
    assert page.locator("table.chronologie tbody tr").count() > 0
    served.shot(page, "dossier-patient")
    _follow(page, page.locator(".filtre-nature").get_by_role("link", name="documents"))
    natures = page.locator("table.chronologie tbody tr td:nth-child(2)").all_inner_texts()
    assert natures and set(natures) == {"Document"}
    page.context.close()


def test_a_clinician_cannot_open_a_patient_outside_the_perimeter(served: Served) -> None:
    rows = served.web.sql(
        "select p.person_id from hopia_id.patient p where not "
        + IN_PERIMETER.format(p="p.person_id")
        + " order by p.person_id limit 1",
        site=PERIMETER,
    )
    outside = rows[0].person_id
    page = served.login("clinician")
    answer = page.goto(f"/patients/{outside}")
    assert answer.status == 403
    assert page.locator("h1").inner_text() == "Accès refusé"
    assert "hors de votre périmètre" in page.get_by_role("alert").inner_text()
    assert page.locator("dl.fiche").count() == 0  # no identity on the page
    served.shot(page, "hors-perimetre")
    # breaking the glass: a reason, then the record, flagged (the audit test finds it)
    page.get_by_label("Motif de l'accès").fill(GLASS_REASON)
    _follow(page, page.get_by_role("button", name="Ouvrir le dossier (bris de glace)"))
    assert page.locator("h1").inner_text() == f"Dossier patient {outside}"
    assert "bris de glace" in page.get_by_role("alert").inner_text()
    # the researcher gets no identified page at all (its role, not a perimeter)
    researcher = served.login("researcher")
    refused = researcher.goto(f"/patients/{outside}")
    assert refused.status == 403 and "non autorisée" in researcher.content()
    researcher.context.close()
    page.context.close()


def test_the_jobs_page_shows_a_failed_job_and_its_error_after_a_reload(served: Served) -> None:
    from hopia.services import jobs

    message = "file d'attente injoignable : tâche non lancée"
    with served.web.operator() as ctx:
        store = jobs.store(ctx)
        job_id = "ab" * 16
        store.write(
            lambda conn: store.insert(
                conn,
                job_id=job_id,
                kind="quality",
                owner="admin.test",
                actor="admin.test",
                roles=["admin"],
                parameters={},
            )
        )
        store.fail_queued(job_id, "queue_unavailable", message)
    page = served.login("admin")
    _go(page, "Tâches")
    row = page.locator("table.taches tbody tr", has=page.locator(f'a[href="/jobs/{job_id}"]'))
    assert row.count() == 1
    assert row.locator(".etat").inner_text() == "échouée"
    page.reload()
    assert row.locator(".etat").inner_text() == "échouée" and message in row.inner_text()
    _follow(page, page.locator(f'a[href="/jobs/{job_id}"]'))
    assert page.get_by_role("alert").inner_text() == message
    served.shot(page, "taches")
    page.context.close()


def test_an_export_refused_for_k_anonymity_says_why_on_its_job_page(served: Served) -> None:
    from hopia.services import cohort_library, jobs
    from tests.web.test_jobs_api import COHORT

    with served.web.operator() as ctx:
        cohort_library.save_definition(ctx, cohort_library.DefinitionBody.of(definition=COHORT))
    page = served.login("data_steward")
    _go(page, "Exports")
    page.get_by_label("Cohorte enregistrée").select_option(COHORT["name"])
    page.get_by_label("k (taille minimale des classes").fill("1000")
    page.get_by_label("Motif (obligatoire)").fill("étude insuffisance cardiaque, protocole validé")
    served.shot(page, "export-formulaire")
    _follow(page, page.get_by_role("button", name="Lancer l'export"))
    assert re.search(r"/jobs/[0-9a-f]+$", page.url), page.url
    with served.web.operator() as ctx:  # the test server runs no job runner: one pass here
        jobs.work(ctx, burst=True)
    page.reload()
    assert "Partage refusé — k = 1000 inatteignable" in page.get_by_role("alert").inner_text()
    served.shot(page, "export-refuse")
    page.context.close()


def test_a_researcher_builds_saves_and_runs_a_cohort(served: Served) -> None:
    text = (REPO / "configs" / "cohorts" / "insuffisance_cardiaque.yaml").read_text()
    page = served.login("researcher")
    _go(page, "Cohortes")
    page.get_by_text("Mode avancé (YAML)").click()  # the field-by-field form comes first
    page.get_by_label("Définition (YAML)").fill(text)
    _follow(page, page.get_by_role("button", name="Vérifier", exact=True))
    assert "Définition valide" in page.get_by_role("status").inner_text()
    _follow(page, page.get_by_role("button", name="Enregistrer", exact=True))
    page.wait_for_url("**/cohorts?nom=insuffisance_cardiaque")
    served.shot(page, "cohortes")
    _follow(page, page.get_by_role("button", name="Lancer la cohorte insuffisance_cardiaque"))
    labels = page.locator("table.attrition tbody tr td:nth-child(2)").all_inner_texts()
    assert "Adulte à l'index" in labels and "Dialyse" in labels
    served.shot(page, "cohorte-resultat")
    page.context.close()


def test_the_audit_view_shows_what_was_just_done(served: Served) -> None:
    note_id, _ = _negated_note(served)
    person_id, _ = _lab_patient(served)
    page = served.login("admin")
    _go(page, "Journal d'audit")
    assert "Chaîne vérifiée" in page.locator(".verifie").inner_text()
    page.get_by_label("Utilisateur").fill("clinician.test")
    _follow(page, page.get_by_role("button", name="Filtrer"))
    table = page.locator("table.audit").inner_text()
    assert "document.view" in table and f"note:{note_id}" in table
    assert "patient.view" in table and f"person:{person_id}" in table
    assert "document.list" in table
    served.shot(page, "audit")
    page.get_by_label("Utilisateur").fill("researcher.test")
    _follow(page, page.get_by_role("button", name="Filtrer"))
    assert "cohort:insuffisance_cardiaque@1" in page.locator("table.audit").inner_text()
    page.get_by_label("Action (ou préfixe terminé par « . »)").fill("auth.")
    page.get_by_label("Utilisateur").fill("")
    _follow(page, page.get_by_role("button", name="Filtrer"))
    assert "auth.login" in page.locator("table.audit").inner_text()
    _follow(page, page.get_by_role("link", name="Effacer les filtres"))
    page.get_by_label("Bris de glace seulement").check()
    _follow(page, page.get_by_role("button", name="Filtrer"))
    flagged = page.locator("table.audit tbody tr.bris-de-glace")
    assert flagged.count() == 1 and page.locator("table.audit tbody tr").count() == 1
    row = flagged.inner_text()
    assert "patient.view" in row and GLASS_REASON in row and "bris de glace" in row.casefold()
    served.shot(page, "audit-bris-de-glace")
    page.context.close()


def test_no_patient_identifier_in_the_logs_of_the_whole_session(served: Served) -> None:
    people = served.web.sql("select ipp, family_name, given_name from hopia_id.patient")
    assert people
    words = {r.ipp for r in people} | {
        name for r in people for name in (r.family_name, r.given_name) if name and len(name) > 3
    }
    logs = "\n".join(served.logs.lines)
    assert served.logs.lines, "the session logged its requests"
    found = sorted(w for w in words if re.search(rf"\b{re.escape(w)}\b", logs))
    assert not found, json.dumps(found[:5])

"""The signed-in French pages without a browser (the browser tests are in ``browser/``): who
may open which page, the same rules as the API; every page local, without inline script, every
form with its CSRF token and labelled fields; entities marked with their qualifiers and codes;
lab plots with their reference range. Expected values come from the warehouse (plain SQL)."""

from __future__ import annotations

import html
import re
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hopia.services.documents import Entity
from hopia.web.pages.highlight import marked_text
from hopia.web.pages.plots import Point, bars_svg, trend_svg
from tests.web.conftest import BASE, PASSWORD, PERIMETER, Web

REPO = Path(__file__).resolve().parents[2]

# page -> the roles that get it (the others: the French 403 page)
OPEN_TO = {
    "/documents": {"clinician", "researcher", "data_steward"},
    "/cohorts": {"researcher", "data_steward"},
    "/exports": {"data_steward"},
    "/quality": {"data_steward"},
    "/jobs": {"clinician", "researcher", "data_steward", "manager", "admin"},
    "/audit": {"admin"},
    "/admin/accounts": {"admin"},
    "/pilotage": {"manager"},
    "/pilotage/carbone": {"manager"},
    "/pilotage/stock": {"manager"},
    "/pilotage/planning": {"manager"},
    "/pilotage/activite": {"manager"},
    "/pilotage/lits": {"manager"},
    "/pilotage/previsions": {"manager"},
}


def _check_page(html: str) -> None:
    assert '<html lang="fr">' in html
    assert "<script" not in html and "style=" not in html
    links = re.findall(r'(?:src|href|action)="([^"]+)"', html)
    assert all(link.startswith(("/", "#", "?")) for link in links), links
    for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", html, re.S):
        assert 'name="csrf" value="' in form, form
    for field in re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html):
        assert f'<label for="{field}"' in html, field


@pytest.mark.parametrize("path", sorted(OPEN_TO))
def test_each_page_opens_to_the_roles_of_the_rules_only(web: Web, path: str) -> None:
    for role, client in web.clients.items():
        answer = client.get(path)
        if role in OPEN_TO[path]:
            assert answer.status_code == 200, (role, answer.text[:300])
            _check_page(answer.text)
            assert "default-src 'none'" in answer.headers["content-security-policy"]
        else:
            assert answer.status_code == 403, role
            assert "Accès refusé" in answer.text and "non autorisée" in answer.text
    anonymous = TestClient(web.app, base_url=BASE, follow_redirects=False).get(path)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login"


def test_the_search_finds_the_words_in_the_researchers_space(web: Web) -> None:
    word = "dyspnée"
    total = web.sql(
        "select count(*) from omop.note where person_id > 0 and note_text ilike :w",
        w=f"%{word}%",
    )[0][0]
    assert total > 0
    html = web.clients["researcher"].get("/documents", params={"q": word}).text
    assert f"{total} document(s) contenant « {word} »" in html
    assert "pseudonymisé" in html and "/patients/" not in html  # no identified link


def test_a_document_page_marks_negated_entities_and_the_timeline_plots_labs(web: Web) -> None:
    note = web.sql(
        "select x.note_id from omop.note_nlp x join omop.note n on n.note_id = x.note_id "
        "where x.term_modifiers like '%\"negation\": true%' order by x.note_id limit 1"
    )[0][0]
    html = web.clients["researcher"].get(f"/documents/{note}").text
    _check_page(html)
    assert re.search(r'<mark class="ent [^"]*q-negation[^"]*" title="[^"]+"', html)
    person = web.sql(
        "select m.person_id from omop.measurement m where m.range_low is not null and exists "
        "(select 1 from omop.visit_occurrence v where v.person_id = m.person_id and "
        "v.care_site_id = :site) order by m.person_id limit 1",
        site=PERIMETER,
    )[0][0]
    page = web.clients["clinician"].get(f"/patients/{person}")
    assert page.status_code == 200
    _check_page(page.text)
    assert '<svg class="courbe"' in page.text and 'class="plage"' in page.text


def test_marked_text_escapes_and_keeps_every_character() -> None:
    text = "Pas de <fièvre> & toux."
    entities = [
        Entity(
            start=7,
            end=15,
            label="DISO",
            text="<fièvre>",
            is_fact=False,
            negation=True,
            codes={"cim10": "R50.9"},
        ),
        Entity(start=8, end=14, label="DISO", text="fièvre", is_fact=False),  # overlaps: left
        Entity(start=18, end=22, label="DISO", text="toux", is_fact=True, family=True),
    ]
    html = str(marked_text(text, entities))
    assert "<fièvre>" not in html and "&lt;fièvre&gt;" in html and "&amp;" in html
    assert html.count("<mark") == 2
    assert 'title="DISO — cim10 : R50.9 — nié"' in html
    assert '<span class="qualif">antécédent familial</span>' in html
    plain = re.sub(r'<span class="qualif">[^<]*</span>', "", html)
    plain = re.sub(r"<[^>]+>", "", plain).replace("&lt;", "<").replace("&gt;", ">")
    assert plain.replace("&amp;", "&") == text


def test_a_trend_plot_shows_the_range_and_the_values_outside_it() -> None:
    points = [
        Point(date(2024, 1, 1), 12.0, 13.0, 17.0),
        Point(date(2024, 2, 1), 14.5, 13.0, 17.0),
        Point(date(2024, 3, 1), 18.2, 13.0, 17.0),
    ]
    svg = str(trend_svg("Hémoglobine", "g/dL", points))
    assert svg.count("<circle") == 3 and svg.count("hors-plage") == 2
    assert 'class="plage"' in svg and "<polyline" in svg
    assert "plage de référence 13 – 17, 2 hors plage" in svg
    one = str(trend_svg("Sodium", None, [Point(date(2024, 1, 1), 140.0, None, None)]))
    assert one.count("<circle") == 1 and "plage" not in one


def test_a_cohort_is_checked_saved_and_run_from_the_builder(web: Web) -> None:
    client = web.clients["researcher"]
    form = client.get("/cohorts").text
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    text = (REPO / "configs" / "cohorts" / "insuffisance_cardiaque.yaml").read_text()
    bad = client.post("/cohorts", data={"definition": "format: [", "csrf": token})
    assert bad.status_code == 422 and "YAML illisible" in bad.text
    checked = client.post("/cohorts", data={"definition": text, "csrf": token})
    assert checked.status_code == 200 and "Définition valide" in checked.text
    assert "Adulte à l&#39;index" in checked.text
    saved = client.post(
        "/cohorts",
        data={"definition": text, "action": "enregistrer", "csrf": token},
        follow_redirects=False,
    )
    assert saved.headers["location"] == "/cohorts?nom=insuffisance_cardiaque"
    ran = client.post("/cohorts/insuffisance_cardiaque/run", data={"csrf": token})
    assert ran.status_code == 200
    _check_page(ran.text)
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td><td>([^<]+)</td>", ran.text)
    assert [r[1] for r in rows][1:3] == [
        "Première mention affirmée d&#39;insuffisance cardiaque",
        "Adulte à l&#39;index",
    ]
    entry = web.sql(
        "select action from hopia_meta.audit_log where actor = 'researcher.test' "
        "order by audit_id desc limit 1"
    )
    assert entry[0].action.startswith("cohort")


def test_bars_draw_published_counts_and_never_a_suppressed_one() -> None:
    svg = str(bars_svg("Sexe", [("femmes", 40), ("hommes", "<10"), ("autre", "*")]))
    assert svg.count('class="barre"') == 1  # only the published count has a bar
    assert (
        "&lt;10" in svg and ">*<" in svg and 'aria-label="Sexe : femmes 40 ; hommes &lt;10' in svg
    )


def test_an_account_with_both_spaces_gets_the_toggle(web: Web) -> None:
    from hopia.services import accounts

    with web.operator() as ctx:
        accounts.create_account(
            ctx,
            accounts.CreateAccountRequest.of(
                username="double.test",
                password=PASSWORD,
                roles=["clinician", "researcher"],
                care_sites=[PERIMETER],
            ),
        )
    client = web.login("double.test")
    note = web.sql(
        "select n.note_id from omop.note n join hopia_id.document d on d.note_id = n.note_id "
        "and d.status = 'done' where exists (select 1 from omop.visit_occurrence v where "
        "v.person_id = n.person_id and v.care_site_id = :site) order by n.note_id limit 1",
        site=PERIMETER,
    )[0][0]
    identified = client.get(f"/documents/{note}").text
    assert "Afficher :" in identified
    assert f'href="/documents/{note}?espace=research"' in identified
    research = client.get(f"/documents/{note}?espace=research").text
    assert f'href="/documents/{note}?espace=identified"' in research
    texts = web.sql(
        "select n.note_text, d.text from omop.note n join hopia_id.document d "
        "on d.note_id = n.note_id where n.note_id = :n",
        n=note,
    )[0]
    assert texts[0] != texts[1]  # the two spaces show two texts
    shown = html.unescape(re.sub(r'<span class="qualif">[^<]*</span>|<[^>]+>', "", identified))
    assert texts[1].strip() in shown and texts[0].strip() not in shown


def test_a_document_outside_the_perimeter_asks_a_reason_then_opens_flagged(web: Web) -> None:
    note = web.sql(
        "select n.note_id from omop.note n join hopia_id.document d on d.note_id = n.note_id "
        "and d.status = 'done' where n.person_id > 0 and not exists (select 1 from "
        "omop.visit_occurrence v where v.person_id = n.person_id and v.care_site_id = :site) "
        "order by n.note_id limit 1",
        site=PERIMETER,
    )[0][0]
    client = web.clients["clinician"]
    refused = client.get(f"/documents/{note}")
    assert refused.status_code == 403 and "hors de votre périmètre" in refused.text
    assert f'action="/documents/{note}/bris-de-glace"' in refused.text
    _check_page(refused.text)
    token = re.search(r'name="csrf" value="([^"]+)"', refused.text).group(1)
    reason = "Urgence : avis demandé par le service des urgences"
    forged = client.post(f"/documents/{note}/bris-de-glace", data={"motif": reason})
    assert forged.status_code == 403 and "autre site" in forged.text
    opened = client.post(f"/documents/{note}/bris-de-glace", data={"motif": reason, "csrf": token})
    assert opened.status_code == 200 and "bris de glace" in opened.text
    entry = web.sql(
        "select reason, details from hopia_meta.audit_log where action = 'document.view' "
        "and target = :t order by audit_id desc limit 1",
        t=f"note:{note}",
    )[0]
    assert entry.reason == reason and '"break_glass":true' in entry.details.replace(" ", "")


def test_an_export_from_the_form_refused_for_k_anonymity_shows_why_on_its_job(web: Web) -> None:
    from hopia.platform.jobs import JobStatus
    from hopia.services import cohort_library, jobs
    from tests.web.test_jobs_api import COHORT

    with web.operator() as ctx:
        cohort_library.save_definition(ctx, cohort_library.DefinitionBody.of(definition=COHORT))
    client = web.clients["data_steward"]
    form = client.get("/exports").text
    assert f'value="{COHORT["name"]}"' in form
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    fields = {"cohort": COHORT["name"], "format": "omop-csv", "k": "1000", "csrf": token}
    vague = client.post("/exports", data={**fields, "reason": "xxxxxxxxxxxx"})
    assert vague.status_code == 422 and 'role="alert"' in vague.text and "motif" in vague.text
    reason = "étude insuffisance cardiaque 2026, protocole validé"
    sent = client.post("/exports", data={**fields, "reason": reason}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"].startswith("/jobs/")
    with web.operator() as ctx:
        assert jobs.work(ctx, burst=True) == {JobStatus.FAILED: 1}
    page = client.get(sent.headers["location"])
    assert page.status_code == 200 and "échouée" in page.text
    alert = re.search(r'<p class="erreur" role="alert">(.*?)</p>', page.text, re.S)
    assert alert and "Partage refusé — k = 1000 inatteignable" in alert.group(1)

"""In a real Chromium: a researcher builds a cohort field by field (an age row, then a text
criterion added with the server's "Ajouter un critère" button, its negation qualifier set to
"seulement"), checks it, saves it, finds it loaded back into the rows, runs it and sees the
attrition table and the characterisation charts; the DIM then starts a data-quality run from
the form, follows its job to the new report and filters it by state. Expected counts come
from the warehouse, read with plain SQL."""

from __future__ import annotations

import re

import pytest

from tests.web.browser.conftest import Served

pytestmark = pytest.mark.slow

NEGATED_FEVER = (
    "select count(distinct n.person_id) from omop.note_nlp x join omop.note n "
    "on n.note_id = x.note_id where lower(x.lexical_variant) like '%fièvre%' "
    "and json_extract_string(x.term_modifiers, '$.negation') = 'true' "
    "and json_extract_string(x.term_modifiers, '$.hypothesis') = 'false' "
    "and json_extract_string(x.term_modifiers, '$.family') = 'false' "
    "and json_extract_string(x.term_modifiers, '$.history') = 'false'"
)


def _follow(page: object, target: object) -> None:
    with page.expect_navigation():  # type: ignore[attr-defined]
        target.click()  # type: ignore[attr-defined]


def test_a_cohort_built_field_by_field_runs_with_attrition_and_charts(served: Served) -> None:
    negated = served.web.sql(NEGATED_FEVER)[0][0]
    adults = served.web.sql(
        "select count(*) from omop.person where extract(year from current_date) "
        "- year_of_birth > 18"
    )[0][0]
    assert negated >= 10 and adults == served.web.sql("select count(*) from omop.person")[0][0]
    page = served.login("researcher")
    page.goto("/cohorts")
    page.get_by_label("Nom (identifiant").fill("fievre_niee_navigateur")
    page.get_by_label("Titre").fill("Fièvre explicitement niée")
    page.get_by_label("Nature du critère 1").select_option("age")
    assert not page.get_by_label("Mentions niées (critère 1)").is_visible()  # CSS, no script
    page.get_by_label("Minimum (âge en années").fill("18")
    page.get_by_label("Libellé du critère 1").fill("Adulte")
    _follow(page, page.get_by_role("button", name="Ajouter un critère"))
    assert page.locator("#c-0-min").input_value() == "18"  # kept by the server
    page.get_by_label("Nature du critère 2").select_option("texte")
    page.get_by_label("Codes, analyses ou termes du critère 2").fill("fièvre")
    page.get_by_label("Mentions niées (critère 2)").select_option("only")
    page.get_by_label("Libellé du critère 2").fill("Fièvre niée")
    served.shot(page, "cohorte-formulaire")
    _follow(page, page.get_by_role("button", name="Vérifier les critères"))
    assert "Définition valide" in page.get_by_role("status").inner_text()
    assert "negation: only" in page.locator("pre.genere").inner_text()
    _follow(page, page.get_by_role("button", name="Enregistrer la définition"))
    page.wait_for_url("**/cohorts?nom=fievre_niee_navigateur")
    assert page.get_by_label("Mentions niées (critère 2)").input_value() == "only"
    assert page.get_by_label("Codes, analyses ou termes du critère 2").input_value() == "fièvre"
    _follow(page, page.get_by_role("button", name="Lancer la cohorte fievre_niee_navigateur"))
    rows = page.locator("table.attrition tbody tr")
    labels = page.locator("table.attrition tbody tr td:nth-child(2)").all_inner_texts()
    assert labels[1:] == ["Adulte", "Fièvre niée"]
    final = rows.last.locator("td:nth-child(3)").inner_text()
    assert final == str(negated)
    charts = page.locator("figure.figure-courbe svg.barres")
    assert charts.count() >= 2  # age and sex at least: a demo-size cohort is characterised
    assert "Âge" in charts.first.get_attribute("aria-label")
    served.shot(page, "cohorte-formulaire-resultat")
    page.context.close()


def test_the_dim_starts_a_quality_run_and_reads_its_report(served: Served) -> None:
    from hopia.services import jobs

    page = served.login("data_steward")
    page.goto("/quality")
    _follow(page, page.get_by_role("button", name="Lancer un contrôle qualité"))
    assert re.search(r"/jobs/[0-9a-f]+$", page.url), page.url
    with served.web.operator() as ctx:  # the test server runs no job runner: one pass here
        jobs.work(ctx, burst=True)
    page.reload()
    link = page.get_by_role("link", name=re.compile("Rapport du contrôle qualité"))
    _follow(page, link)
    run_id = int(page.url.rsplit("/", 1)[1])
    failed = served.web.sql(
        "select count(*) from hopia_meta.quality_result where run_id = :r and status = 'failed'",
        r=run_id,
    )[0][0]
    assert page.locator("h1").inner_text() == f"Contrôle qualité n° {run_id}"
    checks = served.web.sql("select checks from hopia_meta.quality_run where run_id = :r", r=run_id)
    total = checks[0][0]
    rows = page.locator("table.controles tbody tr")
    assert rows.count() == min(total, 100)  # a hundred checks a page
    assert f"sur {total}" in page.locator("p.pagination-resume").inner_text()
    if total > 100:  # the next page, by its link
        _follow(page, page.get_by_role("link", name="Contrôles suivants →"))
        assert rows.count() == min(total - 100, 100)
        assert page.get_by_role("link", name="← Contrôles précédents").count() == 1
    filters = page.get_by_role("navigation", name="Filtrer par état")
    _follow(page, filters.get_by_role("link", name="non conforme"))
    assert rows.count() == min(failed, 100)
    states = set(page.locator("table.controles td.etat").all_inner_texts())
    assert states <= {"non conforme"}
    # the filter form (no script): one table, the state kept
    page.get_by_label("Table").select_option("person")
    _follow(page, page.get_by_role("button", name="Filtrer"))
    assert "table=person" in page.url and "etat=echoue" in page.url
    person_failed = served.web.sql(
        "select count(*) from hopia_meta.quality_result where run_id = :r and status = 'failed' "
        "and table_name = 'person'",
        r=run_id,
    )[0][0]
    assert rows.count() == min(person_failed, 100)
    assert set(page.locator("table.controles td.etat").all_inner_texts()) <= {"non conforme"}
    served.shot(page, "qualite-rapport-echecs")  # the whole report is too long a page to shoot
    page.goto("/quality")
    assert page.get_by_role("link", name=f"Rapport du contrôle n° {run_id}").count() == 1
    page.context.close()

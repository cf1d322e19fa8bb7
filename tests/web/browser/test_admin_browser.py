"""Account administration in a real browser: the administrator creates a clinician's account
through the form (keyboard only for the roles and the submission), logs out, and the new
clinician logs in with the password set for them and gets their home page."""

from __future__ import annotations

import json

import pytest

from tests.web.browser.conftest import Served
from tests.web.conftest import PERIMETER

pytestmark = pytest.mark.slow

PASSWORD = "mot de passe du nouveau clinicien"


def test_the_admin_creates_a_clinician_who_then_logs_in(served: Served) -> None:
    web = served.web
    site = web.sql(
        "SELECT care_site_name FROM omop.care_site WHERE care_site_id = :c", c=PERIMETER
    )[0].care_site_name
    page = served.login("admin")
    nav = page.get_by_role("navigation", name="Navigation principale")
    with page.expect_navigation():
        nav.get_by_role("link", name="Comptes", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Comptes"
    assert page.locator("table.comptes tbody tr").count() == len(
        web.sql("SELECT username FROM hopia_meta.account")
    )
    page.get_by_label("Identifiant").fill("dr.navigateur")
    page.get_by_label("Nom affiché").fill("Dr Navigateur")
    # keyboard: the role and the perimeter are checked with the space bar
    page.get_by_label("clinicien", exact=True).focus()
    page.keyboard.press("Space")
    page.get_by_label(f"{site} ({PERIMETER})", exact=True).focus()
    page.keyboard.press("Space")
    page.get_by_label("Mot de passe initial").fill(PASSWORD)
    served.shot(page, "comptes-creation")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # submits the form from its password field
    assert page.url.endswith("/admin/accounts/dr.navigateur?fait=cree")
    assert page.get_by_role("status").inner_text() == "Compte créé."
    row = web.sql(
        "SELECT roles, care_sites, active FROM hopia_meta.account WHERE username = 'dr.navigateur'"
    )[0]
    assert json.loads(row.roles) == ["clinician"] and json.loads(row.care_sites) == [PERIMETER]
    served.shot(page, "compte")
    with page.expect_navigation():
        page.get_by_role("button", name="Se déconnecter").click()
    assert page.url.endswith("/login")
    page.get_by_label("Identifiant").fill("dr.navigateur")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    assert page.url == served.url + "/"
    assert page.get_by_role("heading", level=1).inner_text() == "Bonjour Dr Navigateur"
    links = page.locator("nav.navigation a")
    shown = {links.nth(i).inner_text().strip() for i in range(links.count())}
    assert shown == {"Accueil", "Documents", "Tâches", "Assistant", "Dictée"}  # no "Comptes"
    served.shot(page, "accueil-nouveau-clinicien")
    page.context.close()

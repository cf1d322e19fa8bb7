"""The assistant page in a real browser: the question is posted by ``/static/assistant.js`` and
the answer streamed into the page (no navigation), its citation opens the passage; a task form
says plainly that no model is configured; both land in the user's history, where one is deleted.
The test server configures no language model: the no-model answer is what streams."""

from __future__ import annotations

import re

import pytest

from hopia.platform.jobs import JobStatus
from hopia.services import jobs
from tests.web.browser.conftest import Served
from tests.web.test_collections import EPIVIR

pytestmark = pytest.mark.slow

TRANSCRIPT = "Point 1 : le chariot d'urgence du deuxième étage sera vérifié chaque matin."


def test_a_question_streams_into_the_page_and_its_citation_opens_the_passage(
    served: Served,
) -> None:
    page = served.login("researcher")
    made = page.request.post(
        "/api/v1/collections", data={"name": "navigateur", "title": "Protocoles du navigateur"}
    )
    assert made.status == 201, made.text()
    # the document added from the page: a job, whose page the browser is sent to
    page.goto("/assistant")
    adding = page.locator('form[action="/assistant/documents"]')
    adding.get_by_label("Collection").select_option("navigateur")
    adding.get_by_label("Document").set_input_files(
        files=[{"name": "epivir.txt", "mimeType": "text/plain", "buffer": EPIVIR.encode()}]
    )
    with page.expect_navigation():
        adding.get_by_role("button", name="Ajouter").click()
    assert re.search(r"/jobs/[0-9a-f]{32}$", page.url), page.url
    assert "Ajout d'un document à une collection" in page.locator("main").inner_text()
    with served.web.operator() as ctx:
        assert jobs.work(ctx, burst=True) == {JobStatus.SUCCEEDED: 1}
    page.goto("/assistant")
    page.get_by_label("Protocoles du navigateur").check()
    page.get_by_label("Question").fill("Combien de temps conserver le flacon après ouverture ?")
    page.get_by_role("button", name="Demander").click()
    streamed = page.locator("#reponse-flux")
    link = streamed.locator("ol.sources a").first
    link.wait_for()
    assert page.url.endswith("/assistant")  # the script answered: no page was loaded
    assert "Aucun modèle de langage n'est configuré" in streamed.inner_text()
    served.shot(page, "assistant-reponse-diffusee")
    with page.expect_navigation():
        link.click()
    assert "un mois après ouverture" in page.locator("mark#passage").inner_text()
    page.context.close()


def test_a_task_form_then_the_history(served: Served) -> None:
    page = served.login("manager")
    page.goto("/assistant/taches")
    form = page.locator('form[action="/assistant/taches/minutes"]')
    form.get_by_label("Transcription de la réunion").fill(TRANSCRIPT)
    form.get_by_label("Titre (facultatif)").fill("Réunion du navigateur")
    with page.expect_navigation():
        form.get_by_role("button").click()
    assert "Aucun modèle de langage n'est configuré" in page.locator("main").inner_text()
    served.shot(page, "assistant-tache-sans-modele")
    with page.expect_navigation():
        page.get_by_role("link", name="Cette exécution dans mon historique").click()
    assert "Réunion du navigateur" in page.locator("h1").inner_text()
    with page.expect_navigation():
        page.get_by_role("link", name="Mon historique", exact=True).click()
    rows = page.locator("table.historique tbody tr")
    assert rows.count() == 1
    served.shot(page, "assistant-historique")
    with page.expect_navigation():
        rows.first.get_by_role("button", name="Supprimer").click()
    assert page.locator("table.historique").count() == 0
    assert "Votre historique est vide" in page.locator("main").inner_text()
    page.context.close()


def test_a_generated_answer_shows_as_it_is_written_then_its_citations_link(
    served: Served,
) -> None:
    """With a model (an echo server writing a piece every 0.1 s, behind the application's
    gateway), the text is in the page before the answer has ended; at the end its [n] markers
    are links to the cited passages."""
    from playwright.sync_api import expect

    from hopia.assistant.llm.openai_compat import OpenAICompatBackend
    from hopia.services.llm_gateway import Gateway
    from tests.assistant.echo_server import echo_server

    state = served.web.app.state  # type: ignore[attr-defined]
    saved = getattr(state, "llm_gateway", None)
    with echo_server() as echo:
        echo.piece, echo.piece_delay = 60, 0.1
        state.llm_gateway = Gateway(
            {"local": OpenAICompatBackend("local", echo.url, "echo-7b")}, default="local"
        )
        try:
            page = served.login("researcher")
            page.goto("/assistant")
            page.get_by_label("Protocoles du navigateur").check()
            page.get_by_label("Question").fill("Quelle dose de solution orale chez l'enfant ?")
            page.get_by_role("button", name="Demander").click()
            text = page.locator("#texte-flux")
            expect(text).to_have_text(re.compile(r"\S"))  # polled: no script (the CSP)
            assert page.locator("#reponse-flux .en-cours").count() == 1  # not ended yet
            page.locator("#reponse-flux ol.sources a").first.wait_for()
            assert page.locator("#reponse-flux .en-cours").count() == 0
            assert "Généré par echo-7b" in page.locator("#reponse-flux").inner_text()
            marker = text.get_by_role("link", name="[1]").first
            assert "/assistant/source/navigateur/" in marker.get_attribute("href")
            served.shot(page, "assistant-reponse-generee")
            with page.expect_navigation():
                marker.click()
            assert page.locator("mark#passage").inner_text()
            page.context.close()
        finally:
            state.llm_gateway = saved

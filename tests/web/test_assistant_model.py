"""The assistant's pages with a language model behind the application's gateway: the answer
streamed piece by piece (server-sent events) and its citations at the end, the same answer
without JavaScript, tasks whose text is generated and checked, each kept in the history with
its model; and the embedded plumbing model (SmolLM2-135M, llama.cpp) streaming through the same
page, skipped with the reason when the ``llm`` extra is absent.

The backend is a real OpenAI-compatible HTTP server on localhost that echoes what it receives
(``tests.assistant.echo_server``), marked local: what the page shows is what the gateway sent,
so the tests see the prompt's numbered passages come back as citations."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn", reason="the web extra is not installed (pip install 'hopia[web]')")

from hopia.assistant.llm.openai_compat import OpenAICompatBackend  # noqa: E402
from hopia.services.llm_gateway import Gateway  # noqa: E402
from tests.assistant.echo_server import EchoServer, echo_server  # noqa: E402
from tests.web.conftest import Web, make_web  # noqa: E402
from tests.web.test_assistant_ui import (  # noqa: E402
    TRANSCRIPT,
    _events,
    _history_ids,
    _stay_in_perimeter,
    _task,
    _token,
)
from tests.web.test_collections import EPIVIR, _upload  # noqa: E402

API = "/api/v1"
QUESTION = "Quelle dose de solution orale chez l'enfant de moins de 14 kg ?"


@pytest.fixture(scope="module")
def server() -> Iterator[EchoServer]:
    with echo_server() as running:
        yield running


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory, sample_file: Path, server: EchoServer):
    made = make_web(tmp_path_factory.mktemp("assistant-model"), sample_file)
    made.app.state.llm_gateway = Gateway(
        {"local": OpenAICompatBackend("local", server.url, "echo-7b", parameters_b=7)},
        default="local",
    )
    owner = made.clients["researcher"]
    owner.post(f"{API}/collections", json={"name": "modele", "title": "Protocoles"})
    assert _upload(made, owner, "modele", "epivir.txt", EPIVIR)["status"] == "added"
    yield made
    made.warehouse.close()


def _ask_streamed(web: Web, question: str = QUESTION) -> list[dict[str, Any]]:
    client = web.clients["researcher"]
    token = _token(client.get("/assistant").text)
    answer = client.post(
        "/assistant/flux", data={"question": question, "collection": "modele", "csrf": token}
    )
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["content-type"].startswith("text/event-stream")
    return _events(answer.text)


def test_the_answer_arrives_in_pieces_then_its_citations(web: Web, server: EchoServer) -> None:
    server.piece = 5
    events = _ask_streamed(web)
    pieces = [e["text"] for e in events if e["type"] == "piece"]
    assert len(pieces) > 10 and events[-1]["type"] == "end"
    streamed = "".join(pieces)
    # the echo: what the gateway sent, passages numbered by the versioned prompt
    assert QUESTION in streamed and "[1]" in streamed and "4 mg par kilogramme" in streamed
    end = events[-1]
    assert end["generated"] is True and end["model"] == "echo-7b"
    assert end["citations"] and end["citations"][0]["n"] == 1
    assert end["citations"][0]["passage"] is None  # generated: the text cites, not quotes
    opened = web.clients["researcher"].get(end["citations"][0]["href"])
    assert opened.status_code == 200
    # one gateway call, audited without the prompt; the answer kept with its model
    usage = web.sql(
        "SELECT task, collection FROM hopia_meta.llm_usage WHERE username = 'researcher.test'"
    )
    assert [(u.task, u.collection) for u in usage][-1] == ("assistant.ask", "modele")
    calls = web.sql(
        "SELECT details FROM hopia_meta.audit_log WHERE action = 'assistant.chat' "
        "AND actor = 'researcher.test'"
    )
    assert calls and "kilogramme" not in calls[-1].details
    entry_id = end["history"].rsplit("/", 1)[1]
    row = web.sql(
        "SELECT generated, model, answer, citations FROM hopia_meta.assistant_history "
        "WHERE entry_id = :e",
        e=entry_id,
    )[0]
    assert row.generated is True and row.model == "echo-7b" and row.answer == end["text"]
    assert [c["n"] for c in json.loads(row.citations)] == [c["n"] for c in end["citations"]]


def test_without_javascript_the_same_answer_comes_whole(web: Web) -> None:
    client = web.clients["researcher"]
    token = _token(client.get("/assistant").text)
    page = client.post(
        "/assistant", data={"question": QUESTION, "collection": "modele", "csrf": token}
    )
    assert page.status_code == 200
    shown = html.unescape(page.text.split('id="reponse-serveur"', 1)[1])
    assert "Généré par echo-7b" in shown and "aucun modèle" not in shown.lower()
    assert re.search(r'href="/assistant/source/modele/[^"]+#passage"', page.text)


def test_a_task_with_a_model_shows_its_checked_text(web: Web) -> None:
    client = web.clients["manager"]
    page = _task(client, "minutes", text=TRANSCRIPT, title="Réunion")
    assert page.status_code == 200, page.text[:800]
    text = html.unescape(page.text)
    assert "Texte généré" in text and "Généré par echo-7b" in text
    assert 'id="sans-modele"' not in client.get("/assistant/taches").text
    assert "double contrôle des anticoagulants" in text  # the echo: the transcript came back
    (entry_id,) = _history_ids(page.text)
    row = web.sql(
        "SELECT generated, model, flags FROM hopia_meta.assistant_history WHERE entry_id = :e",
        e=entry_id,
    )[0]
    run = web.sql(
        "SELECT details FROM hopia_meta.audit_log WHERE action = 'task.run' "
        "AND actor = 'manager.test' ORDER BY \"at\" DESC LIMIT 1"
    )[0]
    flags = json.loads(row.flags)
    assert row.generated is True and row.model == "echo-7b"
    assert json.loads(run.details)["flags"] == len(flags)
    shown = page.text.count('<mark class="signale"')
    assert shown == len([f for f in flags if f["end"] > f["start"]])
    if not flags:
        assert "aucune affirmation clinique non retrouvée" in text


def test_a_patient_summary_with_a_model_is_grounded_in_the_perimeter(web: Web) -> None:
    client = web.clients["clinician"]
    stay = _stay_in_perimeter(web)
    page = _task(client, "patient_summary", person_id=stay.person)
    assert page.status_code == 200, page.text[:800]
    assert "Généré par echo-7b" in html.unescape(page.text)
    (entry_id,) = _history_ids(page.text)
    again = client.get(f"/assistant/historique/{entry_id}")
    assert again.status_code == 200 and "Généré par echo-7b" in html.unescape(again.text)
    assert web.clients["admin"].get(f"/assistant/historique/{entry_id}").status_code == 404


def test_the_embedded_plumbing_model_streams_through_the_page(
    web: Web, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from hopia.assistant.llm.embedded import EmbeddedBackend
    from tests.assistant.llm_helpers import PLUMBING_MODEL, plumbing_model_file

    gguf = plumbing_model_file(tmp_path_factory.mktemp("llm-cache"))
    embedded = EmbeddedBackend("embarque", gguf, model=PLUMBING_MODEL, n_threads=1, n_ctx=2048)
    saved = web.app.state.llm_gateway
    web.app.state.llm_gateway = Gateway({"embarque": embedded}, default="embarque")
    try:
        events = _ask_streamed(web)
    finally:
        web.app.state.llm_gateway = saved
    pieces = [e for e in events if e["type"] == "piece"]
    assert len(pieces) > 1 and events[-1]["type"] == "end"
    assert events[-1]["generated"] is True and events[-1]["model"] == PLUMBING_MODEL


def test_a_backend_failing_after_the_first_byte_is_a_french_error_event(
    web: Web, server: EchoServer
) -> None:
    server.fail_status = 500
    try:
        before = web.sql("SELECT count(*) AS n FROM hopia_meta.assistant_history")[0].n
        events = _ask_streamed(web, "Quelle dose chez l'enfant de moins de 14 kg ?")
    finally:
        server.fail_status = None
    assert [e["type"] for e in events] == ["error"]
    assert "local" in events[0]["message"]  # names the backend, in French
    assert "kilogramme" not in events[0]["message"]  # never the prompt the server quoted
    after = web.sql("SELECT count(*) AS n FROM hopia_meta.assistant_history")[0].n
    assert after == before  # an answer never given is not kept


def test_the_api_answer_goes_through_the_application_gateway(web: Web) -> None:
    answer = web.clients["researcher"].post(
        f"{API}/assistant/ask", json={"question": QUESTION, "collections": ["modele"]}
    )
    assert answer.status_code == 200
    assert answer.json()["generated"] is True and answer.json()["model"] == "echo-7b"

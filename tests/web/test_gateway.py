"""The OpenAI-compatible gateway through the web application: API keys, /v1 chat (whole and
streamed), embeddings, models, usage rows and footprint, quotas, one audit record per call
without the prompt, role refusals, and the PHI guard for a backend not local.

The backends are real OpenAI-compatible HTTP servers the tests start on localhost
(``tests.assistant.echo_server``): ``local`` (marked local) and ``distant`` (not local).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn", reason="the web extra is not installed (pip install 'hopia[web]')")

from fastapi.testclient import TestClient  # noqa: E402

from hopia.assistant.llm.openai_compat import OpenAICompatBackend  # noqa: E402
from hopia.services.llm_gateway import Gateway  # noqa: E402
from tests.assistant.echo_server import EchoServer, echo_server  # noqa: E402
from tests.web.conftest import BASE, Web, make_web  # noqa: E402

PROMPT = "Rédige une phrase sur la vaccination antigrippale du personnel soignant."
NAMED = "Patiente Élodie PERRIN, née le 20/11/1957, IPP 815228430, tél. 04 20 37 56 71."


@pytest.fixture(scope="module")
def server() -> Iterator[EchoServer]:
    with echo_server() as running:
        yield running


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory, sample_file: Path, server: EchoServer):
    made = make_web(tmp_path_factory.mktemp("gateway"), sample_file)
    made.app.state.llm_gateway = Gateway(
        {
            "local": OpenAICompatBackend("local", server.url, "echo-7b", parameters_b=7),
            "distant": OpenAICompatBackend("distant", server.url, "echo-70b", local=False),
        },
        default="local",
    )
    yield made
    made.warehouse.close()


@pytest.fixture
def echo(server: EchoServer, web: Web) -> Iterator[EchoServer]:
    server.bodies.clear()
    server.piece, server.usage, server.fail_status, server.delay = 3, True, None, 0.0
    assistant = web.settings.assistant
    saved = (assistant.audit_prompts, assistant.quotas.model_copy())
    yield server
    assistant.audit_prompts, assistant.quotas = saved


def chat(client: TestClient, content: str = PROMPT, **extra: Any) -> Any:
    body = {"model": "local", "messages": [{"role": "user", "content": content}], **extra}
    return client.post("/v1/chat/completions", json=body)


def audit_rows(web: Web, action: str = "assistant.chat") -> list[Any]:
    return web.sql(
        'SELECT actor, target, details FROM hopia_meta.audit_log WHERE action = :a ORDER BY "at"',
        a=action,
    )


def new_key(client: TestClient, label: str = "script") -> str:
    answer = client.post("/api/v1/account/api-keys", json={"label": label})
    assert answer.status_code == 201, answer.text
    return answer.json()["key"]


def bearer(web: Web, key: str) -> TestClient:
    return TestClient(web.app, base_url=BASE, headers={"Authorization": f"Bearer {key}"})


# -- keys ----------------------------------------------------------------------------------------


def test_an_api_key_is_shown_once_works_and_dies_when_revoked(web: Web, echo: EchoServer) -> None:
    researcher = web.clients["researcher"]
    key = new_key(researcher)
    listed = researcher.get("/api/v1/account/api-keys").json()
    assert key not in json.dumps(listed)  # never shown again
    mine = next(k for k in listed if k["revoked_at"] is None)
    stored = web.sql("SELECT key_hash FROM hopia_meta.api_key WHERE key_id = :k", k=mine["key_id"])
    assert stored and key not in stored[0].key_hash  # a hash, not the key

    with_key = bearer(web, key)
    models = with_key.get("/v1/models")
    assert models.status_code == 200
    assert {m["id"] for m in models.json()["data"]} == {"local", "distant"}
    assert chat(with_key).status_code == 200
    assert audit_rows(web)[-1].actor == "researcher.test"  # the key acts as its account

    revoked = researcher.delete(f"/api/v1/account/api-keys/{mine['key_id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    refused = with_key.get("/v1/models")
    assert refused.status_code == 401 and refused.json()["code"] == "authentication_required"
    assert bearer(web, "hop_" + "x" * 43).get("/v1/models").status_code == 401
    assert web.anon.get("/v1/models").status_code == 401


def test_a_key_of_someone_else_cannot_be_revoked(web: Web, echo: EchoServer) -> None:
    new_key(web.clients["manager"], "tableau de bord")
    theirs = web.sql(
        "SELECT k.key_id FROM hopia_meta.api_key k JOIN hopia_meta.account a "
        "ON a.account_id = k.account_id WHERE a.username = 'manager.test'"
    )[0].key_id
    answer = web.clients["clinician"].delete(f"/api/v1/account/api-keys/{theirs}")
    assert answer.status_code == 404


# -- chat ----------------------------------------------------------------------------------------


def test_chat_answers_in_openai_format_and_records_usage_and_one_audit_record(
    web: Web, echo: EchoServer
) -> None:
    before = len(audit_rows(web))
    answer = chat(web.clients["clinician"], task="rédaction", purpose="note de service")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["object"] == "chat.completion" and body["model"] == "local"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": PROMPT}
    words = len(PROMPT.split())
    assert body["usage"] == {
        "prompt_tokens": words, "completion_tokens": words, "total_tokens": 2 * words
    }  # fmt: skip

    row = web.sql(
        "SELECT * FROM hopia_meta.llm_usage WHERE usage_id = :u", u=body["hopia"]["usage_id"]
    )[0]
    assert (row.username, row.user_group, row.backend, row.model) == (
        "clinician.test", "clinician", "local", "echo-7b"
    )  # fmt: skip
    assert (row.task, row.purpose, row.prompt_tokens) == ("rédaction", "note de service", words)
    assert row.energy_wh == pytest.approx((8.91e-5 * 7 + 1.43e-3) * words * 1.2)
    assert row.co2e_g > row.energy_wh * 0.052 and row.cost_eur > 0 and not row.guarded

    records = audit_rows(web)
    assert len(records) == before + 1
    details = json.loads(records[-1].details)
    assert details["backend"] == "local" and details["purpose"] == "note de service"
    assert "vaccination" not in records[-1].details and "prompt" not in details


def test_the_prompt_is_audited_only_when_the_setting_says_so(web: Web, echo: EchoServer) -> None:
    web.settings.assistant.audit_prompts = True
    assert chat(web.clients["data_steward"]).status_code == 200
    details = json.loads(audit_rows(web)[-1].details)
    assert details["prompt"] == [{"role": "user", "content": PROMPT}]


def test_stream_is_openai_sse_and_ends_with_done(web: Web, echo: EchoServer) -> None:
    echo.piece = 4
    answer = chat(web.clients["researcher"], stream=True, stream_options={"include_usage": True})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    events = [e for e in answer.text.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(e[6:]) for e in events[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == PROMPT
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finishes[-1] == "stop" and set(finishes[:-1]) == {None}
    usage = next(c["usage"] for c in chunks if "usage" in c)
    assert usage["completion_tokens"] == len(PROMPT.split())
    hopia = chunks[-1]["hopia"]
    stored = web.sql(
        "SELECT task FROM hopia_meta.llm_usage WHERE usage_id = :u", u=hopia["usage_id"]
    )
    assert stored[0].task == "chat"


def test_a_backend_not_local_gets_surrogates_and_the_user_the_originals(
    web: Web, echo: EchoServer
) -> None:
    answer = chat(web.clients["clinician"], content=NAMED, model="distant")
    assert answer.status_code == 200
    sent = echo.texts()[0]
    for identifier in ("PERRIN", "Élodie", "20/11/1957", "815228430", "04 20 37 56 71"):
        assert identifier not in sent
    assert answer.json()["choices"][0]["message"]["content"] == NAMED
    assert answer.json()["hopia"]["guarded"] is True
    details = json.loads(audit_rows(web)[-1].details)
    assert details["guarded"] and details["phi_replaced"] >= 5


def test_a_backend_failure_is_a_french_problem_naming_it(web: Web, echo: EchoServer) -> None:
    echo.fail_status = 500
    answer = chat(web.clients["clinician"], content=NAMED)
    assert answer.status_code == 502
    problem = answer.json()
    assert problem["code"] == "llm_backend_failed" and "« local »" in problem["message"]
    assert "PERRIN" not in answer.text


def test_response_format_reaches_the_backend_as_is(web: Web, echo: EchoServer) -> None:
    schema = {
        "type": "object",
        "properties": {"dose_mg": {"type": "integer"}},
        "required": ["dose_mg"],
    }
    wanted = {
        "type": "json_schema",
        "json_schema": {"name": "posologie", "schema": schema, "strict": True},
    }
    client = web.clients["clinician"]
    for fmt in (wanted, {"type": "json_object"}):
        assert chat(client, response_format=fmt).status_code == 200
        assert json.loads(echo.bodies[-1])["response_format"] == fmt
    assert chat(client, response_format={"type": "text"}).status_code == 200
    assert "response_format" not in json.loads(echo.bodies[-1])  # text: the default, not sent
    sent = len(echo.bodies)
    for bad in ({"type": "xml"}, {"type": "json_schema"}, {"type": "json_object", "x": 1}):
        refused = chat(client, response_format=bad)
        assert refused.status_code == 422, refused.text
        assert "response_format" in refused.json()["message"]
    assert len(echo.bodies) == sent  # refused before any call


def test_an_unknown_model_is_404(web: Web, echo: EchoServer) -> None:
    answer = chat(web.clients["clinician"], model="gpt-99")
    assert answer.status_code == 404 and "gpt-99" in answer.json()["message"]


# -- quotas --------------------------------------------------------------------------------------


def test_a_spent_user_quota_is_429_in_french(web: Web, echo: EchoServer) -> None:
    client = web.clients["manager"]
    assert chat(client).status_code == 200  # some tokens today, whatever the quota
    used = web.sql(
        "SELECT sum(prompt_tokens + completion_tokens) AS n FROM hopia_meta.llm_usage "
        "WHERE username = 'manager.test'"
    )[0].n
    web.settings.assistant.quotas.user_tokens_per_day = used + 1
    assert chat(client).status_code == 200  # under the quota before the call
    sent = len(echo.bodies)
    refused = chat(client)
    assert refused.status_code == 429
    problem = refused.json()
    assert problem["code"] == "quota_exceeded" and "quota" in problem["message"]
    assert len(echo.bodies) == sent  # nothing reached the backend
    assert chat(web.clients["admin"]).status_code == 200  # another user: their own quota


def test_a_group_quota_counts_every_member(web: Web, echo: EchoServer) -> None:
    web.settings.assistant.quotas.groups = {"admin": 1}
    refused = chat(web.clients["admin"])
    assert refused.status_code == 429 and "admin" in refused.json()["message"]
    assert chat(web.clients["researcher"]).status_code == 200


# -- embeddings, usage, roles --------------------------------------------------------------------


def test_embeddings_pass_through(web: Web, echo: EchoServer) -> None:
    answer = web.clients["researcher"].post(
        "/v1/embeddings", json={"model": "local", "input": ["un", "deux mots"]}
    )
    assert answer.status_code == 200, answer.text
    assert [d["embedding"] for d in answer.json()["data"]] == [[2.0, 1.0], [9.0, 1.0]]


def test_no_model_configured_is_a_501_problem(web: Web, echo: EchoServer) -> None:
    saved = web.app.state.llm_gateway
    web.app.state.llm_gateway = Gateway({})
    try:
        answer = chat(web.clients["clinician"])
        embed = web.clients["clinician"].post("/v1/embeddings", json={"input": "x"})
    finally:
        web.app.state.llm_gateway = saved
    assert answer.status_code == embed.status_code == 501
    assert answer.json()["code"] == "llm_unavailable"


def test_usage_is_summed_per_user_for_oneself_and_for_everyone_by_the_manager(
    web: Web, echo: EchoServer
) -> None:
    assert chat(web.clients["clinician"], task="résumé").status_code == 200
    own = web.clients["clinician"].get("/api/v1/assistant/usage", params={"by": "user"}).json()
    assert [line["key"] for line in own] == ["clinician.test"]
    expected = web.sql(
        "SELECT count(*) AS calls, sum(co2e_g) AS co2 FROM hopia_meta.llm_usage "
        "WHERE username = 'clinician.test'"
    )[0]
    assert own[0]["calls"] == expected.calls and own[0]["co2e_g"] == pytest.approx(expected.co2)

    per_task = web.clients["manager"].get(
        "/api/v1/assistant/usage", params={"by": "task", "everyone": True}
    )
    assert per_task.status_code == 200
    assert "résumé" in {line["key"] for line in per_task.json()}
    refused = web.clients["researcher"].get("/api/v1/assistant/usage", params={"everyone": True})
    assert refused.status_code == 403 and refused.json()["code"] == "access_denied"
    assert audit_rows(web, "access.refused")[-1].target == "llm_usage"


def test_in_background_each_call_still_gets_its_row_and_one_audit_record(
    web: Web, echo: EchoServer, server: EchoServer
) -> None:
    saved = web.app.state.llm_gateway
    backend = OpenAICompatBackend("fond", server.url, "echo-1b", parameters_b=1)
    web.app.state.llm_gateway = gateway = Gateway({"fond": backend}, background=True)
    before = len(audit_rows(web))
    try:
        ids = []
        for i in range(5):
            answer = chat(web.clients["researcher"], model="fond", task=f"lot-{i}")
            assert answer.status_code == 200
            ids.append(answer.json()["hopia"]["usage_id"])
        gateway.flush()
    finally:
        web.app.state.llm_gateway = saved
        gateway.close()
    rows = web.sql("SELECT usage_id, task FROM hopia_meta.llm_usage WHERE backend = 'fond'")
    assert sorted(r.usage_id for r in rows) == sorted(ids)
    records = audit_rows(web)[before:]
    assert sorted(json.loads(r.details)["usage_id"] for r in records) == sorted(ids)
    verified = web.clients["admin"].get("/api/v1/audit/verify")
    assert verified.status_code == 200 and verified.json()["ok"] is True, verified.text


def test_usage_per_day_and_per_backend(web: Web, echo: EchoServer) -> None:
    client = web.clients["data_steward"]
    assert chat(client).status_code == 200
    assert chat(client, content=NAMED, model="distant").status_code == 200
    per_backend = client.get("/api/v1/assistant/usage", params={"by": "backend"}).json()
    assert {line["key"] for line in per_backend} >= {"local", "distant"}
    today = web.sql('SELECT CAST(max("at") AS DATE) AS d FROM hopia_meta.llm_usage')[0].d
    per_day = client.get(
        "/api/v1/assistant/usage", params={"by": "day", "since": str(today), "until": str(today)}
    ).json()
    assert [line["key"] for line in per_day] == [str(today)]
    assert per_day[0]["calls"] == sum(line["calls"] for line in per_backend)

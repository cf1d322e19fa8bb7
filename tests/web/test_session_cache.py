"""The per-process cache of live sessions (``web.session_cache_seconds``) and its revocation
rule: what this process changes takes effect at once, what another process changes within the
cache's delay; the cache never extends a session (expiry, idle timeout, the idle clock)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from hopia.platform.identity import store
from hopia.services import accounts, api_keys
from tests.web.conftest import BASE, PASSWORD, Web, make_web

TTL = 1.5


@pytest.fixture(scope="module")
def cached(tmp_path_factory: pytest.TempPathFactory, sample_file: Path) -> Iterator[Web]:
    made = make_web(tmp_path_factory.mktemp("cache"), sample_file, session_cache_seconds=TTL)
    yield made
    made.warehouse.close()


def _session_reads(web: Web, client: TestClient, path: str = "/api/v1/auth/me") -> int:
    """How many times answering ``path`` read the session table."""
    seen: list[str] = []

    def on_execute(conn: object, cursor: object, statement: str, *_: object) -> None:
        if "hopia_meta.web_session" in statement:
            seen.append(statement)

    event.listen(web.warehouse.engine, "before_cursor_execute", on_execute)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(web.warehouse.engine, "before_cursor_execute", on_execute)
    return len(seen)


def _account(web: Web, name: str) -> TestClient:
    with web.operator() as ctx:
        accounts.create_account(
            ctx,
            accounts.CreateAccountRequest.of(
                username=name, password=PASSWORD, roles=["researcher"]
            ),
        )
    return web.login(name)


def test_a_session_read_is_reused_for_a_few_seconds(cached: Web) -> None:
    client = cached.clients["researcher"]
    assert client.get("/api/v1/auth/me").status_code == 200
    assert _session_reads(cached, client) == 0  # answered from the cache
    time.sleep(TTL + 0.2)
    assert _session_reads(cached, client) == 1  # read again once the delay has passed


def test_what_this_process_changes_takes_effect_at_once(cached: Web) -> None:
    client = _account(cached, "cache.revoked")
    assert client.get("/api/v1/auth/me").status_code == 200  # cached now
    with cached.operator() as ctx:
        accounts.update_account(
            ctx, accounts.UpdateAccountRequest.of(username="cache.revoked", active=False)
        )
    assert client.get("/api/v1/auth/me").status_code == 401

    other = _account(cached, "cache.logout")
    token = other.cookies["hopia_session"]
    assert other.get("/api/v1/auth/me").status_code == 200
    assert other.post("/api/v1/auth/logout").status_code == 200
    replay = TestClient(cached.app, base_url=BASE, cookies={"hopia_session": token})
    assert replay.get("/api/v1/auth/me").status_code == 401


def test_a_role_change_is_seen_at_once(cached: Web) -> None:
    client = _account(cached, "cache.roles")
    assert client.get("/api/v1/auth/me").json()["roles"] == ["researcher"]
    with cached.operator() as ctx:
        accounts.update_account(
            ctx, accounts.UpdateAccountRequest.of(username="cache.roles", roles=["manager"])
        )
    assert client.get("/api/v1/auth/me").status_code == 401  # its sessions were closed
    assert cached.login("cache.roles").get("/api/v1/auth/me").json()["roles"] == ["manager"]


def test_what_another_process_changes_is_seen_within_the_delay(cached: Web) -> None:
    client = _account(cached, "cache.elsewhere")
    digest = store.token_hash(client.cookies["hopia_session"])
    assert client.get("/api/v1/auth/me").status_code == 200
    # Another process (another worker, the hopia account command) deletes the session: this
    # process does not know; the rule bounds how long it may still answer.
    with cached.warehouse.engine.begin() as conn:
        conn.execute(
            text("DELETE FROM hopia_meta.web_session WHERE token_hash = :d"), {"d": digest}
        )
    deleted_at = time.monotonic()
    while client.get("/api/v1/auth/me").status_code == 200:
        assert time.monotonic() - deleted_at < TTL + 0.5, "a revoked session outlived the delay"
        time.sleep(0.1)


def test_without_the_cache_every_request_reads_the_session(
    tmp_path: Path, sample_file: Path
) -> None:
    web = make_web(tmp_path, sample_file, session_cache_seconds=0)
    try:
        client = web.clients["researcher"]
        assert client.get("/api/v1/auth/me").status_code == 200
        assert _session_reads(web, client) == 1
        digest = store.token_hash(client.cookies["hopia_session"])
        with web.warehouse.engine.begin() as conn:
            conn.execute(
                text("DELETE FROM hopia_meta.web_session WHERE token_hash = :d"), {"d": digest}
            )
        assert client.get("/api/v1/auth/me").status_code == 401
    finally:
        web.warehouse.close()


def _state(last_seen: timedelta, expires: timedelta) -> store.SessionState:
    now = store.utcnow()
    account = store.Account(1, "u", None, ("researcher",), (), True, True, 0, None, now, now, None)
    return store.SessionState(account, last_seen_at=now - last_seen, expires_at=now + expires)


def test_the_cache_never_extends_a_session(cached: Web) -> None:
    cache, engine, idle = store.SessionCache(), cached.warehouse.engine, timedelta(minutes=30)
    live = _state(timedelta(seconds=5), timedelta(hours=1))
    cache.put(engine, "live", live, cache.generation, 60)
    assert cache.get(engine, "live", idle, 60) == live.account
    # expired, idle, or its use to be noted (the idle clock): read again, never served
    for token, state in (
        ("expired", _state(timedelta(seconds=5), timedelta(seconds=-1))),
        ("idle", _state(idle + timedelta(seconds=1), timedelta(hours=1))),
        ("to-touch", _state(store.TOUCH_EVERY + timedelta(seconds=1), timedelta(hours=1))),
    ):
        cache._entries[(str(engine.url), store.token_hash(token))] = (time.monotonic(), state)
        assert cache.get(engine, token, idle, 60) is None
    # read before a write (an account changed, a session ended): not kept
    before = cache.generation
    cache.forget()
    cache.put(engine, "late", live, before, 60)
    assert cache.get(engine, "late", idle, 60) is None
    assert cache.get(engine, "live", idle, 60) is None  # the write emptied the cache


# -- API keys (the gateway's /v1): the same rule -------------------------------------------------


def _key_reads(web: Web, client: TestClient) -> int:
    seen: list[str] = []

    def on_execute(conn: object, cursor: object, statement: str, *_: object) -> None:
        if "hopia_meta.api_key" in statement:
            seen.append(statement)

    event.listen(web.warehouse.engine, "before_cursor_execute", on_execute)
    try:
        assert client.get("/v1/models").status_code == 200
    finally:
        event.remove(web.warehouse.engine, "before_cursor_execute", on_execute)
    return len(seen)


def _with_key(web: Web, name: str) -> tuple[TestClient, TestClient, str]:
    session = _account(web, name)
    answer = session.post("/api/v1/account/api-keys", json={"label": "script"})
    assert answer.status_code == 201, answer.text
    key = answer.json()["key"]
    bearer = TestClient(web.app, base_url=BASE, headers={"Authorization": f"Bearer {key}"})
    return session, bearer, key


def test_a_key_read_is_reused_and_revoking_it_here_ends_it_at_once(cached: Web) -> None:
    session, client, _ = _with_key(cached, "key.cached")
    assert client.get("/v1/models").status_code == 200
    assert _key_reads(cached, client) == 0  # answered from the cache
    time.sleep(TTL + 0.2)
    assert _key_reads(cached, client) == 1
    key_id = session.get("/api/v1/account/api-keys").json()[0]["key_id"]
    assert session.delete(f"/api/v1/account/api-keys/{key_id}").status_code == 200
    assert client.get("/v1/models").status_code == 401  # at once, though cached a moment ago

    _, other, _ = _with_key(cached, "key.disabled")
    assert other.get("/v1/models").status_code == 200
    with cached.operator() as ctx:
        accounts.update_account(
            ctx, accounts.UpdateAccountRequest.of(username="key.disabled", active=False)
        )
    assert other.get("/v1/models").status_code == 401


def test_a_key_revoked_by_another_process_dies_within_the_delay(cached: Web) -> None:
    _, client, key = _with_key(cached, "key.elsewhere")
    assert client.get("/v1/models").status_code == 200
    with cached.warehouse.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE hopia_meta.api_key SET revoked_at = CURRENT_TIMESTAMP WHERE key_hash = :d"
            ),
            {"d": api_keys.key_hash(key)},
        )
    revoked_at = time.monotonic()
    while client.get("/v1/models").status_code == 200:
        assert time.monotonic() - revoked_at < TTL + 0.5, "a revoked key outlived the delay"
        time.sleep(0.1)

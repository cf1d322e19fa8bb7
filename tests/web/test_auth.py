"""Login, sessions, lockout, passwords: against the real application and warehouse."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from hopia.platform.exceptions import PasswordPolicyError
from hopia.platform.identity import passwords, store
from hopia.services import accounts
from tests.web.conftest import BASE, PASSWORD, Web, make_web


def test_login_sets_a_safe_session_cookie_and_me_answers(web: Web) -> None:
    client = TestClient(web.app, base_url=BASE)
    answer = client.post(
        "/api/v1/auth/login", json={"username": "researcher.test", "password": PASSWORD}
    )
    assert answer.status_code == 200
    cookie = answer.headers["set-cookie"]
    assert "hopia_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http to localhost: development
    me = client.get("/api/v1/auth/me").json()
    assert me["username"] == "researcher.test" and me["roles"] == ["researcher"]
    assert "document.research" in me["actions"]
    # Only the token's hash is stored: the cookie value is nowhere in the table.
    token = client.cookies["hopia_session"]
    stored = [r.token_hash for r in web.sql("SELECT token_hash FROM hopia_meta.web_session")]
    assert token not in stored and store.token_hash(token) in stored


def test_the_cookie_is_secure_off_localhost(web: Web) -> None:
    client = TestClient(web.app, base_url="http://hopia.chu.example")
    answer = client.post(
        "/api/v1/auth/login", json={"username": "manager.test", "password": PASSWORD}
    )
    assert answer.status_code == 200 and "Secure" in answer.headers["set-cookie"]


def test_wrong_password_and_unknown_user_get_the_same_answer(web: Web) -> None:
    wrong = web.anon.post(
        "/api/v1/auth/login", json={"username": "admin.test", "password": "pas le bon du tout"}
    )
    unknown = web.anon.post(
        "/api/v1/auth/login", json={"username": "personne", "password": "pas le bon du tout"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["message"] == unknown.json()["message"]
    assert wrong.json()["code"] == "authentication_required"
    assert "set-cookie" not in wrong.headers
    failed = web.sql(
        "SELECT actor, target, details FROM hopia_meta.audit_log "
        "WHERE action = 'auth.login_failed' ORDER BY audit_id"
    )
    assert ("admin.test", "account:admin.test") in [(r.actor, r.target) for r in failed]
    assert "personne" not in str(failed)  # an unknown name may be a password typed there
    web.login("admin.test")  # one failure does not lock; a success resets the count
    (row,) = web.sql("SELECT failed_logins FROM hopia_meta.account WHERE username = 'admin.test'")
    assert row.failed_logins == 0


def test_lockout_after_repeated_failures_is_kept_in_the_warehouse(tmp_path, sample_file) -> None:
    w = make_web(tmp_path, sample_file, max_failed_logins=3, lockout_minutes=15)
    try:
        bad = {"username": "manager.test", "password": "mauvais mot de passe"}
        codes = [w.anon.post("/api/v1/auth/login", json=bad).status_code for _ in range(3)]
        assert codes == [401, 401, 429]
        # Locked: even the right password is refused, and says until when.
        good = w.anon.post(
            "/api/v1/auth/login", json={"username": "manager.test", "password": PASSWORD}
        )
        assert good.status_code == 429 and good.json()["code"] == "account_locked"
        (row,) = w.sql(
            "SELECT locked_until, failed_logins FROM hopia_meta.account "
            "WHERE username = 'manager.test'"
        )
        assert row.locked_until is not None
        # A second application on the same warehouse (another worker) sees the lock.
        from hopia.web.app import create_app

        other = TestClient(create_app(w.settings, w.warehouse), base_url=BASE)
        again = other.post(
            "/api/v1/auth/login", json={"username": "manager.test", "password": PASSWORD}
        )
        assert again.status_code == 429
        # An admin's new password lifts it.
        with w.operator() as ctx:
            accounts.set_password(
                ctx,
                accounts.PasswordRequest.of(
                    username="manager.test", password="une toute autre phrase"
                ),
            )
        w.login("manager.test", "une toute autre phrase")
    finally:
        w.warehouse.close()


def test_logout_closes_the_session_server_side(web: Web) -> None:
    client = web.login("data-steward.test")
    token = client.cookies["hopia_session"]
    answer = client.post("/api/v1/auth/logout")
    # a local session: nothing to end at an identity provider
    assert answer.status_code == 200
    assert answer.json() == {"logged_out": True, "provider_logout_url": None}
    # The old token, replayed, is refused: the row is gone, not only the cookie.
    replay = TestClient(web.app, base_url=BASE, cookies={"hopia_session": token})
    assert replay.get("/api/v1/auth/me").status_code == 401
    assert (
        web.sql("SELECT count(*) AS n FROM hopia_meta.audit_log WHERE action = 'auth.logout'")[0].n
        >= 1
    )


def test_an_idle_or_expired_session_is_refused_and_deleted(web: Web) -> None:
    client = web.login("researcher.test")
    digest = store.token_hash(client.cookies["hopia_session"])
    idle = timedelta(minutes=web.settings.web.idle_minutes + 1)
    with web.warehouse.begin() as conn:
        conn.execute(
            store.schema.web_session.update()
            .where(store.schema.web_session.c.token_hash == digest)
            .values(last_seen_at=store.utcnow() - idle)
        )
    assert client.get("/api/v1/auth/me").status_code == 401
    assert not web.sql("SELECT 1 FROM hopia_meta.web_session WHERE token_hash = :d", d=digest)


def test_disabling_an_account_closes_its_sessions(web: Web) -> None:
    with web.operator() as ctx:
        accounts.create_account(
            ctx,
            accounts.CreateAccountRequest.of(
                username="bientot.parti", password=PASSWORD, roles=["manager"]
            ),
        )
    client = web.login("bientot.parti")
    assert client.get("/api/v1/auth/me").status_code == 200
    admin = web.clients["admin"]
    assert admin.patch("/api/v1/accounts/bientot.parti", json={"active": False}).status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 401
    refused = web.anon.post(
        "/api/v1/auth/login", json={"username": "bientot.parti", "password": PASSWORD}
    )
    assert refused.status_code == 401


@pytest.mark.parametrize(
    "password",
    ["court", "azertyuiop123", "AZERTYUIOP123", "aaaaaaaaaaaaaaa", "dr.martin-2026-ok"],
)
def test_password_policy(password: str) -> None:
    with pytest.raises(PasswordPolicyError) as err:
        passwords.check_password(password, "dr.martin")
    assert err.value.fields == ("password",) and "mot de passe refusé" in err.value.message


def test_passwords_are_argon2id_hashes() -> None:
    hashed = passwords.hash_password("une phrase de passe")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password(hashed, "une phrase de passe")
    assert not passwords.verify_password(hashed, "une autre phrase")
    assert not passwords.verify_password(None, "une phrase de passe")


def test_one_address_trying_many_accounts_is_refused_for_a_while(tmp_path, sample_file) -> None:
    w = make_web(tmp_path, sample_file, max_failed_logins_per_address=3)
    try:
        spray = TestClient(w.app, base_url=BASE, client=("10.1.2.3", 50000))
        tries = [
            spray.post("/api/v1/auth/login", json={"username": u, "password": "mot de passe 2026"})
            for u in ("admin.test", "manager.test", "inconnu.test")
        ]
        assert [t.status_code for t in tries] == [401, 401, 401]
        # No account reached its own limit, but the address did: even a right password waits.
        right = {"username": "researcher.test", "password": PASSWORD}
        refused = spray.post("/api/v1/auth/login", json=right)
        assert refused.status_code == 429 and refused.json()["code"] == "too_many_attempts"
        other = TestClient(w.app, base_url=BASE, client=("10.9.9.9", 50000))
        assert other.post("/api/v1/auth/login", json=right).status_code == 200
        stored = w.sql("SELECT address_hash FROM hopia_meta.login_failure")
        assert len(stored) == 3 and all("10.1.2.3" not in r.address_hash for r in stored)
    finally:
        w.warehouse.close()

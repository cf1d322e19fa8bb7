"""The account administration pages (``/admin/accounts``), without a browser: only the admin
opens them; every form carries its CSRF token and labelled fields and is refused without it;
creations, changes and passwords go through the accounts service (audited, sessions closed);
the service's refusals (perimeter, password policy, a taken name, the last administrator) are
French messages in the form, with status 422. Expected values come from the warehouse (SQL)."""

from __future__ import annotations

import html
import json
import re

import pytest
from fastapi.testclient import TestClient

from hopia.platform.identity.roles import ROLE_LABELS, Role
from tests.web.conftest import BASE, PASSWORD, PERIMETER, Web
from tests.web.test_ui_pages import _check_page

NEW_PASSWORD = "une autre phrase de passe solide"


def _token(client: TestClient, path: str = "/admin/accounts") -> str:
    page = client.get(path)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


def _account(web: Web, username: str) -> dict[str, object] | None:
    rows = web.sql(
        "SELECT display_name, roles, care_sites, active, password_hash IS NOT NULL AS pw "
        "FROM hopia_meta.account WHERE username = :u",
        u=username,
    )
    if not rows:
        return None
    r = rows[0]
    return {
        "display_name": r.display_name,
        "roles": json.loads(r.roles),
        "care_sites": json.loads(r.care_sites),
        "active": bool(r.active),
        "password": bool(r.pw),
    }


def _audit(web: Web, action: str, target: str) -> list[dict[str, object]]:
    rows = web.sql(
        "SELECT actor, details FROM hopia_meta.audit_log WHERE action = :a AND target = :t "
        "ORDER BY audit_id",
        a=action,
        t=target,
    )
    return [{"actor": r.actor, **json.loads(r.details or "{}")} for r in rows]


def _text(answer_html: str) -> str:
    return html.unescape(answer_html)


def test_only_the_admin_opens_the_account_pages(web: Web) -> None:
    for role, client in web.clients.items():
        for path in ("/admin/accounts", "/admin/accounts/admin.test"):
            answer = client.get(path)
            if role == "admin":
                assert answer.status_code == 200, answer.text[:300]
                _check_page(answer.text)
                assert 'href="/admin/accounts" aria-current="page">Comptes' in answer.text
            else:
                assert answer.status_code == 403, (role, path)
                assert "Accès refusé" in answer.text and "non autorisée" in answer.text
                assert 'href="/admin/accounts"' not in answer.text  # not in their navigation
    anonymous = TestClient(web.app, base_url=BASE, follow_redirects=False)
    assert anonymous.get("/admin/accounts").headers["location"] == "/login"
    # the refusals are on record (access.refused, the action asked)
    refused = web.sql(
        "SELECT count(*) AS n FROM hopia_meta.audit_log WHERE action = 'access.refused' "
        "AND actor = 'researcher.test' AND details LIKE '%account.list%'"
    )[0].n
    assert refused >= 2


def test_the_list_shows_every_account_with_roles_perimeter_state_and_origin(web: Web) -> None:
    page = _text(web.clients["admin"].get("/admin/accounts").text)
    names = [r.username for r in web.sql("SELECT username FROM hopia_meta.account")]
    rows = re.findall(r"<tr class=\"etat-[^\"]+\">(.*?)</tr>", page, re.S)
    assert len(rows) == len(names)
    by_name = {re.search(r'">([^<]+)</a>', row).group(1): row for row in rows}  # type: ignore[union-attr]
    assert set(by_name) == set(names)
    site = web.sql(
        "SELECT care_site_name FROM omop.care_site WHERE care_site_id = :c", c=PERIMETER
    )[0].care_site_name
    clinician = by_name["clinician.test"]
    assert ROLE_LABELS[Role.CLINICIAN] in clinician and f"{site} ({PERIMETER})" in clinician
    assert ">actif<" in clinician and ">local<" in clinician
    assert ROLE_LABELS[Role.ADMIN] in by_name["admin.test"]
    # every role account logged in once (conftest): a date, in the audit log's minute
    last = web.sql(
        "SELECT max(\"at\") AS at FROM hopia_meta.audit_log WHERE action = 'auth.login' "
        "AND target = 'account:manager.test'"
    )[0].at
    assert last.strftime("%d/%m/%Y %H:%M") + " UTC" in by_name["manager.test"]
    # the perimeter is chosen among the warehouse's care sites
    sites = web.sql("SELECT care_site_id FROM omop.care_site ORDER BY care_site_id")
    offered = re.findall(r'name="care_sites" value="(\d+)"', page)
    assert [int(v) for v in offered] == [r.care_site_id for r in sites]
    offered_roles = re.findall(r'name="roles" value="([a-z_]+)"', page)
    assert offered_roles == [r.value for r in Role]


def test_the_admin_creates_a_clinician_who_can_log_in(web: Web) -> None:
    admin = web.clients["admin"]
    answer = admin.post(
        "/admin/accounts",
        data={
            "csrf": _token(admin),
            "username": "dr.nouvelle",
            "display_name": "Dr Nouvelle",
            "roles": ["clinician"],
            "care_sites": [str(PERIMETER)],
            "password": PASSWORD,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:500]
    assert answer.headers["location"] == "/admin/accounts/dr.nouvelle?fait=cree"
    assert _account(web, "dr.nouvelle") == {
        "display_name": "Dr Nouvelle",
        "roles": ["clinician"],
        "care_sites": [PERIMETER],
        "active": True,
        "password": True,
    }
    created = _audit(web, "account.create", "account:dr.nouvelle")
    assert len(created) == 1 and created[0]["actor"] == "admin.test"
    assert created[0]["roles"] == ["clinician"] and created[0]["care_sites"] == [PERIMETER]
    assert PASSWORD not in json.dumps(created)
    page = admin.get(answer.headers["location"])
    assert page.status_code == 200 and "Compte créé." in page.text
    me = web.login("dr.nouvelle").get("/api/v1/auth/me").json()
    assert me["roles"] == ["clinician"] and me["care_sites"] == [PERIMETER]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": "dr.sans", "roles": ["clinician"]}, "au moins un service"),
        ({"username": "faible", "roles": ["researcher"], "password": "court"}, "mot de passe"),
        ({"username": "researcher.test", "roles": ["researcher"]}, "existe déjà"),
        ({"username": "Majuscules!", "roles": ["researcher"]}, "username"),
        ({"username": "sans.role"}, "roles"),
    ],
)
def test_a_refused_creation_is_explained_in_the_form(
    web: Web, fields: dict[str, object], message: str
) -> None:
    admin = web.clients["admin"]
    before = web.sql("SELECT count(*) AS n FROM hopia_meta.account")[0].n
    answer = admin.post("/admin/accounts", data={"csrf": _token(admin), **fields})
    assert answer.status_code == 422, answer.text[:300]
    text = _text(answer.text)
    found = re.search(r'<p class="erreur" role="alert" id="erreur-creation">(.*?)</p>', text, re.S)
    assert found and message in found.group(1), found
    assert web.sql("SELECT count(*) AS n FROM hopia_meta.account")[0].n == before
    assert f'value="{fields["username"]}"' in answer.text  # what was typed is kept
    assert 'name="password" type="password" maxlength="256" autocomplete="new-password">' in (
        answer.text
    )  # never the password
    _check_page(answer.text)


def test_every_form_is_refused_without_its_csrf_token(web: Web) -> None:
    admin = web.clients["admin"]
    posts = {
        "/admin/accounts": {"username": "sans.jeton", "roles": ["researcher"]},
        "/admin/accounts/researcher.test": {"roles": ["admin"]},
        "/admin/accounts/researcher.test/password": {"password": NEW_PASSWORD},
    }
    before = _account(web, "researcher.test")
    for path, data in posts.items():
        for token in ({}, {"csrf": "un-jeton-invente"}):
            answer = admin.post(path, data={**data, **token})
            assert answer.status_code == 403, (path, answer.text[:200])
            assert "formulaire expiré" in _text(answer.text)
    # a token without its cookie (another site's page cannot read or set it)
    stranger = TestClient(web.app, base_url=BASE)
    stranger.cookies.set("hopia_session", web.clients["admin"].cookies.get("hopia_session") or "")
    answer = stranger.post(
        "/admin/accounts", data={"csrf": _token(admin), **posts["/admin/accounts"]}
    )
    assert answer.status_code == 403
    assert _account(web, "sans.jeton") is None and _account(web, "researcher.test") == before


def test_other_roles_cannot_post_the_forms(web: Web) -> None:
    for role in ("clinician", "researcher", "data_steward", "manager"):
        client = web.clients[role]
        token = _token(client, "/jobs")  # any page of theirs gives them a token
        answer = client.post(
            "/admin/accounts",
            data={"csrf": token, "username": f"intrus.{role}", "roles": ["admin"]},
        )
        assert answer.status_code == 403, role
        changed = client.post(
            f"/admin/accounts/{role.replace('_', '-')}.test",
            data={"csrf": token, "roles": ["admin"]},
        )
        assert changed.status_code == 403
        password = client.post(
            "/admin/accounts/admin.test/password", data={"csrf": token, "password": NEW_PASSWORD}
        )
        assert password.status_code == 403
        assert _account(web, f"intrus.{role}") is None
        assert _account(web, f"{role.replace('_', '-')}.test")["roles"] == [role]  # type: ignore[index]
    assert not _audit(web, "account.password", "account:admin.test")


def test_the_admin_changes_roles_perimeter_and_state_and_the_sessions_close(web: Web) -> None:
    admin = web.clients["admin"]
    admin.post(
        "/admin/accounts",
        data={
            "csrf": _token(admin),
            "username": "dr.change",
            "roles": ["clinician"],
            "care_sites": [str(PERIMETER)],
            "password": PASSWORD,
        },
    )
    user = web.login("dr.change")
    other = web.sql(
        "SELECT min(care_site_id) AS c FROM omop.care_site WHERE care_site_id <> :p", p=PERIMETER
    )[0].c
    answer = admin.post(
        "/admin/accounts/dr.change",
        data={
            "csrf": _token(admin, "/admin/accounts/dr.change"),
            "display_name": "Dr Change",
            "roles": ["clinician", "researcher"],
            "care_sites": [str(PERIMETER), str(other)],
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"].endswith("?fait=modifie")
    assert _account(web, "dr.change") == {
        "display_name": "Dr Change",
        "roles": ["clinician", "researcher"],
        "care_sites": sorted([PERIMETER, other]),
        "active": True,
        "password": True,
    }
    update = _audit(web, "account.update", "account:dr.change")[-1]
    assert update["actor"] == "admin.test" and update["sessions_closed"] == 1
    assert update["after"]["roles"] == ["clinician", "researcher"]  # type: ignore[index]
    assert user.get("/api/v1/auth/me").status_code == 401  # its session went
    # disabled: no login any more, and the list says so
    user = web.login("dr.change")
    admin.post(
        "/admin/accounts/dr.change",
        data={
            "csrf": _token(admin, "/admin/accounts/dr.change"),
            "roles": ["researcher"],
            "disabled": "true",
        },
    )
    assert _account(web, "dr.change")["active"] is False  # type: ignore[index]
    assert user.get("/api/v1/auth/me").status_code == 401
    refused = TestClient(web.app, base_url=BASE).post(
        "/api/v1/auth/login", json={"username": "dr.change", "password": PASSWORD}
    )
    assert refused.status_code == 401
    row = re.search(
        r'<tr class="etat-désactivé">.*?dr\.change.*?</tr>', admin.get("/admin/accounts").text, re.S
    )
    assert row is not None


def test_an_account_keeps_at_least_one_role(web: Web) -> None:
    admin = web.clients["admin"]
    before = _account(web, "manager.test")
    answer = admin.post(
        "/admin/accounts/manager.test",
        data={"csrf": _token(admin, "/admin/accounts/manager.test"), "display_name": "M"},
    )
    assert answer.status_code == 422
    found = re.search(r'id="erreur-modification">(.*?)</p>', _text(answer.text), re.S)
    assert found and "roles" in found.group(1) and "au moins 1" in found.group(1)
    assert _account(web, "manager.test") == before


def test_the_last_admin_cannot_lose_the_role_nor_be_disabled(web: Web) -> None:
    admin = web.clients["admin"]
    admins = web.sql("SELECT username, roles, active FROM hopia_meta.account")
    assert [r.username for r in admins if "admin" in json.loads(r.roles) and r.active] == [
        "admin.test"
    ]
    before = _account(web, "admin.test")
    for data in ({"roles": ["manager"]}, {"roles": ["admin"], "disabled": "true"}):
        answer = admin.post(
            "/admin/accounts/admin.test",
            data={"csrf": _token(admin, "/admin/accounts/admin.test"), **data},
        )
        assert answer.status_code == 422, answer.text[:300]
        text = _text(answer.text)
        assert "dernier administrateur actif" in text and 'role="alert"' in text
        _check_page(answer.text)
        assert _account(web, "admin.test") == before  # rolled back
    assert admin.get("/api/v1/auth/me").status_code == 200  # still logged in


def test_setting_a_password_lifts_the_lockout(web: Web) -> None:
    admin = web.clients["admin"]
    admin.post(
        "/admin/accounts",
        data={
            "csrf": _token(admin),
            "username": "verrou",
            "roles": ["researcher"],
            "password": PASSWORD,
        },
    )
    for _ in range(web.settings.web.max_failed_logins):
        TestClient(web.app, base_url=BASE).post(
            "/api/v1/auth/login", json={"username": "verrou", "password": "pas le bon"}
        )
    locked = web.sql("SELECT locked_until FROM hopia_meta.account WHERE username = 'verrou'")
    assert locked[0].locked_until is not None
    assert "verrouillé" in admin.get("/admin/accounts/verrou").text
    weak = admin.post(
        "/admin/accounts/verrou/password",
        data={"csrf": _token(admin, "/admin/accounts/verrou"), "password": "court"},
    )
    assert weak.status_code == 422 and "mot de passe refusé" in _text(weak.text)
    assert 'id="erreur-mot-de-passe"' in weak.text
    answer = admin.post(
        "/admin/accounts/verrou/password",
        data={"csrf": _token(admin, "/admin/accounts/verrou"), "password": NEW_PASSWORD},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"].endswith("?fait=mot-de-passe")
    row = web.sql(
        "SELECT locked_until, failed_logins FROM hopia_meta.account WHERE username = 'verrou'"
    )[0]
    assert row.locked_until is None and row.failed_logins == 0
    assert web.login("verrou", NEW_PASSWORD).get("/api/v1/auth/me").status_code == 200
    changed = _audit(web, "account.password", "account:verrou")
    assert len(changed) == 1 and changed[0]["actor"] == "admin.test"
    assert NEW_PASSWORD not in json.dumps(changed)


def test_an_unknown_account_is_a_french_404(web: Web) -> None:
    answer = web.clients["admin"].get("/admin/accounts/personne")
    assert answer.status_code == 404 and "introuvable" in _text(answer.text)
    assert "Traceback" not in answer.text

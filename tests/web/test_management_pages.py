"""``/pilotage``: the manager's entry to the axis-4 dashboards, one "Pilotage" entry in the
navigation for them all; other roles neither see it nor open it."""

from __future__ import annotations

import re

from hopia.web.pages.management import DASHBOARDS
from tests.web.conftest import Web
from tests.web.test_ui_pages import _check_page


def test_the_manager_finds_every_dashboard_from_one_entry(web: Web) -> None:
    answer = web.clients["manager"].get("/pilotage")
    assert answer.status_code == 200, answer.text[:300]
    _check_page(answer.text)
    assert '<a href="/pilotage" aria-current="page">Pilotage</a>' in answer.text
    links = re.findall(r'<h2><a href="(/pilotage/[a-z]+)">', answer.text)
    assert links == [href for href, _, _ in DASHBOARDS] and len(links) == 6


def test_other_roles_have_no_entry_and_are_refused(web: Web) -> None:
    for role in ("clinician", "researcher", "data_steward"):
        client = web.clients[role]
        assert 'href="/pilotage"' not in client.get("/").text
        assert client.get("/pilotage").status_code == 403
    assert web.anon.get("/pilotage", follow_redirects=False).status_code == 303

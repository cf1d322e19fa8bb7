"""The web application over the synthetic hospital of ``tests/management/steering/data.py``
(its own small DuckDB warehouse, no sample build), with a manager and a researcher."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from hopia.platform.warehouse import Warehouse
from hopia.services import accounts
from hopia.web.app import create_app
from tests import sample as sample_module
from tests.conftest import TEST_AUDIT_KEY
from tests.management.steering import data
from tests.web.conftest import BASE, PASSWORD, Web, settings_for

ROLES = ("manager", "researcher")


def management_site(folder: Path) -> Web:
    wh = Warehouse(f"duckdb:///{folder / 'w.duckdb'}")
    data.fill(wh, data.frames())
    sample_module.anchor_audit(wh, folder / "home" / "audit", TEST_AUDIT_KEY)
    web = Web(settings_for(folder / "home"), wh, None, {}, None)  # type: ignore[arg-type]
    with web.operator() as ctx:
        for role in ROLES:
            accounts.create_account(
                ctx,
                accounts.CreateAccountRequest.of(
                    username=f"{role}.test", password=PASSWORD, roles=[role]
                ),
            )
    web.app = create_app(web.settings, wh)
    web.clients = {role: web.login(f"{role}.test") for role in ROLES}
    web.anon = TestClient(web.app, base_url=BASE)
    return web

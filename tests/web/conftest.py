"""The web application over a writable copy of the sample warehouse, with one account per role.

The copy, the accounts and the application are made once per module (logins cost an argon2
hash each); each role gets its own logged-in client (``clients["clinician"]``), and ``anon`` is
a client without a session. The clinician's perimeter is cardiology (care site 1 in the
sample); expected values in tests come from the data, read with plain SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install 'hopia[web]')")

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import text  # noqa: E402

from hopia.platform.config import Settings  # noqa: E402
from hopia.platform.warehouse import Warehouse  # noqa: E402
from hopia.services import accounts  # noqa: E402
from hopia.services.context import Context  # noqa: E402
from hopia.web.app import create_app  # noqa: E402
from tests import sample as sample_module  # noqa: E402
from tests.conftest import TEST_AUDIT_KEY, TEST_SECRET_KEY, TEST_VAULT_KEY  # noqa: E402

PASSWORD = "une phrase de passe de test"
ROLES = ("clinician", "researcher", "data_steward", "manager", "admin")
PERIMETER = 1  # cardiologie in the sample
BASE = "http://localhost"


@dataclass
class Web:
    settings: Settings
    warehouse: Warehouse
    app: object
    clients: dict[str, TestClient]
    anon: TestClient

    def sql(self, query: str, **params: object) -> list:
        with self.warehouse.engine.connect() as conn:
            return list(conn.execute(text(query), params))

    def operator(self) -> Context:
        """The local operator's context on this warehouse (what ``hopia account`` uses)."""
        ctx = Context.local(self.settings, "test")
        ctx._warehouse, ctx._owns_warehouse = self.warehouse, False
        return ctx

    def login(self, username: str, password: str = PASSWORD) -> TestClient:
        client = TestClient(self.app, base_url=BASE)
        answer = client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert answer.status_code == 200, answer.text
        return client


def settings_for(home: Path, **web: object) -> Settings:
    return Settings(
        home=home,
        secret_key=TEST_SECRET_KEY,
        vault_key=TEST_VAULT_KEY,
        audit_key=TEST_AUDIT_KEY,
        web=web,
    )


def make_web(folder: Path, sample_file: Path, **web_settings: object) -> Web:
    wh = sample_module.duckdb_copy(sample_file, folder / "copy")
    sample_module.anchor_audit(wh, folder / "home" / "audit", TEST_AUDIT_KEY)
    settings = settings_for(folder / "home", **web_settings)
    web = Web(settings, wh, None, {}, None)  # type: ignore[arg-type]
    with web.operator() as ctx:
        for role in ROLES:
            accounts.create_account(
                ctx,
                accounts.CreateAccountRequest.of(
                    username=f"{role.replace('_', '-')}.test",
                    password=PASSWORD,
                    roles=[role],
                    care_sites=[PERIMETER] if role == "clinician" else [],
                ),
            )
    web.app = create_app(settings, wh)
    web.clients = {role: web.login(f"{role.replace('_', '-')}.test") for role in ROLES}
    web.anon = TestClient(web.app, base_url=BASE)
    return web


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory, sample_file: Path) -> Iterator[Web]:
    made = make_web(tmp_path_factory.mktemp("web"), sample_file)
    yield made
    made.warehouse.close()

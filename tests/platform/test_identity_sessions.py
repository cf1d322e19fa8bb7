"""The ID tokens kept beside the sessions opened through an identity provider (migration 11):
found by the session's token, and gone with the session however it ends (logout, a change of
the account, expiry), on DuckDB and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from hopia.platform.identity import store
from hopia.platform.warehouse import Warehouse, schema

ID_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.signature"


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    if request.param == "duckdb":
        wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
        yield wh
        wh.close()
        return
    from tests.platform.pg import postgres_url

    with postgres_url() as url:
        wh = Warehouse(url)
        yield wh
        wh.close()


def _kept(wh: Warehouse) -> int:
    with wh.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.web_session_oidc)).scalar_one()


def test_an_id_token_goes_with_its_session(warehouse: Warehouse) -> None:
    hour = timedelta(hours=1)
    with warehouse.begin() as conn:
        account = store.insert_account(
            conn, "dr.x", display_name=None, password_hash=None, roles=["clinician"]
        )
        ended, closed, expired, local = (
            store.create_session(conn, account.account_id, hour) for _ in range(4)
        )
        for token in (ended, closed, expired):
            store.keep_id_token(conn, token, f"{ID_TOKEN}.{token[:4]}")
    with warehouse.engine.connect() as conn:
        assert store.id_token_of(conn, ended) == f"{ID_TOKEN}.{ended[:4]}"
        assert store.id_token_of(conn, local) is None  # a local login keeps none
    assert _kept(warehouse) == 3
    with warehouse.begin() as conn:  # logout
        assert store.delete_session(conn, ended) == 1
    assert _kept(warehouse) == 2
    with warehouse.begin() as conn:  # an expired session, purged at the next login
        s = schema.web_session
        conn.execute(
            update(s)
            .where(s.c.token_hash == store.token_hash(expired))
            .values(expires_at=store.utcnow() - hour)
        )
        assert store.purge_sessions(conn, timedelta(minutes=30)) == 1
    with warehouse.engine.connect() as conn:
        assert store.id_token_of(conn, expired) is None
        assert store.id_token_of(conn, closed) is not None
    with warehouse.begin() as conn:  # the account changed: every session of it closes
        assert store.delete_sessions_of(conn, account.account_id) == 2
    assert _kept(warehouse) == 0

"""The service context and the request base every service uses."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from hopia.platform.access import Principal, RolePolicy
from hopia.platform.config import Settings
from hopia.platform.exceptions import AccessDeniedError, InvalidRequestError
from hopia.services.context import Context, Request


class Example(Request):
    count: int
    ratio: float = 0.5
    fmt: Literal["csv", "parquet", "fhir"] = "csv"


def test_requests_are_validated_in_french_with_their_fields() -> None:
    assert Example.of(count="3").count == 3
    with pytest.raises(InvalidRequestError, match="« count » : nombre entier attendu") as e:
        Example.of(count="trois")
    assert e.value.fields == ("count",)
    with pytest.raises(InvalidRequestError, match="« other » : champ inconnu"):
        Example.of(count=1, other=2)
    with pytest.raises(InvalidRequestError, match="« count » : valeur obligatoire"):
        Example.of()
    with pytest.raises(InvalidRequestError, match="'csv', 'parquet' ou 'fhir'"):
        Example.of(count=1, fmt="xml")


def test_the_warehouse_is_opened_once_and_closed_with_the_context(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "h")
    with Context.local(settings) as ctx:
        wh = ctx.warehouse()
        assert ctx.warehouse() is wh and wh.url.endswith("h/warehouse.duckdb")
    assert ctx._warehouse is None


def test_a_warehouse_handed_over_stays_open(tmp_path: Path) -> None:
    """A web application shares one engine between requests: a request's context must not
    dispose of it; one the context opened itself is closed before it is replaced."""
    from hopia.platform.warehouse import Warehouse

    shared = Warehouse(f"duckdb:///{tmp_path / 'shared.duckdb'}")
    ctx = Context.local(Settings(home=tmp_path / "h"))
    own = ctx.warehouse()
    closed: list[bool] = []
    own.close = lambda: closed.append(True)  # type: ignore[method-assign]
    ctx.use_warehouse(shared)
    assert closed == [True] and ctx.warehouse() is shared
    ctx.close()
    with shared.engine.connect() as conn:  # still usable
        assert conn.exec_driver_sql("select 1").scalar() == 1
    shared.close()


def test_authorize_asks_the_policy(tmp_path: Path) -> None:
    ctx = Context(Settings(home=tmp_path), Principal("alice", frozenset({"researcher"})))
    with pytest.raises(AccessDeniedError):
        ctx.authorize("reidentify", "note:1")
    ctx.policy = RolePolicy({"researcher": ["reidentify"]})
    ctx.authorize("reidentify", "note:1")

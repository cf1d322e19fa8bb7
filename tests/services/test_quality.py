"""Quality service: the selection and the builders checked before any query, the policy before
the warehouse, reports written whole (readable by colleagues) under <home>/quality by default,
the history kept in the warehouse; no audit entry (table-level counts only)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from hopia.platform.access import RolePolicy
from hopia.platform.config import Settings
from hopia.platform.exceptions import AccessDeniedError, CatalogueError, InvalidRequestError
from hopia.platform.warehouse import Warehouse, schema
from hopia.services import quality
from hopia.services.context import Context
from tests.data.quality.builders import plant_defects, seed_clean
from tests.services.contexts import researcher

TABLES = ("person", "death")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path / "h")
    wh = Warehouse(settings.resolved_warehouse_url())
    seed_clean(wh)
    plant_defects(wh)
    wh.close()
    return settings


def test_run_writes_shared_reports_and_keeps_the_history(settings: Settings) -> None:
    progress: list[int] = []
    umask = os.umask(0o022)
    try:
        with Context.local(settings) as ctx:
            outcome = quality.run(
                ctx,
                quality.RunRequest.of(tables=TABLES),
                on_start=progress.append,
                on_progress=progress.append,
            )
            again = quality.run(ctx, quality.RunRequest.of(tables=TABLES, enrichment=False))
            runs = quality.history(ctx, quality.HistoryRequest.of(limit=5))
    finally:
        os.umask(umask)
    total = len(outcome.run.results)
    assert progress == [total] + [1] * total
    assert outcome.json_path.parent == settings.home / "quality"
    assert stat.S_IMODE(outcome.html_path.stat().st_mode) == 0o644  # for colleagues
    data = json.loads(outcome.json_path.read_text("utf-8"))
    failed = {r["check_id"] for r in data["results"] if r["status"] == "failed"}
    assert "plausibleAfterBirth:death.death_date" in failed
    assert {r["table"] for r in data["results"]} <= set(TABLES)
    assert [r.run_id for r in runs] == [outcome.run.run_id, again.run.run_id] == [1, 2]
    assert again.report.enrichment is None and again.json_path != outcome.json_path
    wh = Warehouse(settings.resolved_warehouse_url())
    with wh.engine.connect() as conn:
        assert conn.execute(select(schema.audit_log)).first() is None
    wh.close()


def test_without_history_nothing_is_recorded(settings: Settings, tmp_path: Path) -> None:
    with Context.local(settings) as ctx:
        outcome = quality.run(
            ctx, quality.RunRequest.of(output=tmp_path / "r", tables=TABLES, history=False)
        )
        assert outcome.run.run_id is None and outcome.json_path.parent == tmp_path / "r"
        assert quality.history(ctx, quality.HistoryRequest.of()) == []


@pytest.mark.parametrize(
    ("values", "fields"),
    [({"check_types": ["isFoo"]}, ("check_types",)), ({"tables": ["patients"]}, ("tables",))],
)
def test_a_bad_selection_is_refused_before_any_query(
    settings: Settings, values: dict, fields: tuple
) -> None:
    with Context.local(settings) as ctx:
        with pytest.raises(CatalogueError) as e:
            quality.run(ctx, quality.RunRequest.of(**values))
        assert e.value.fields == fields and ctx._warehouse is None
    with pytest.raises(InvalidRequestError) as e:
        quality.HistoryRequest.of(limit=0)
    assert e.value.fields == ("limit",)


def test_the_policy_refuses_before_the_warehouse_is_opened(settings: Settings) -> None:
    ctx = researcher(settings)
    with pytest.raises(AccessDeniedError, match="quality.run"):
        quality.run(ctx, quality.RunRequest.of(tables=TABLES))
    with pytest.raises(AccessDeniedError, match="quality.history"):
        quality.history(ctx, quality.HistoryRequest.of())
    assert ctx._warehouse is None
    ctx.policy = RolePolicy({"researcher": ["quality.catalogue"]})
    assert len(quality.catalogue(ctx).types) == 27
    assert not (settings.home / "quality").exists()

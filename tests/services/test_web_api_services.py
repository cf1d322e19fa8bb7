"""The services behind the API's second wave, as any front end calls them: deleting a saved
cohort definition (audited with its hash), the latest quality results, the last active
administrator kept, and a quality job's bad selection refused as the caller's mistake."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from hopia.platform.access import Principal
from hopia.platform.config import get_settings
from hopia.platform.exceptions import (
    AccessDeniedError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
)
from hopia.platform.identity import store
from hopia.platform.identity.roles import SpacePolicy
from hopia.platform.warehouse import Warehouse
from hopia.services import accounts, cohort_library, jobs, quality
from hopia.services.context import Context

DEFINITION = {
    "name": "ic_service",
    "title": "Insuffisance cardiaque",
    "inclusion": [{"label": "IC", "condition": {"cim10": ["I50"]}}],
}


def _operator(wh: Warehouse) -> Context:
    ctx = Context.local(get_settings(), "test")
    ctx._warehouse, ctx._owns_warehouse = wh, False
    return ctx


def _as(wh: Warehouse, role: str) -> Context:
    sites = store.perimeter_reader(wh.engine)
    ctx = Context(get_settings(), Principal(role, frozenset({role})), SpacePolicy(sites))
    ctx._warehouse, ctx._owns_warehouse = wh, False
    return ctx


def _entries(wh: Warehouse, action: str) -> list:
    with wh.engine.connect() as conn:
        q = "SELECT actor, target, details FROM hopia_meta.audit_log WHERE action = :a"
        return list(conn.execute(text(q + " ORDER BY audit_id"), {"a": action}))


def test_a_deleted_definition_is_gone_and_audited(sample_copy: Warehouse) -> None:
    researcher = _as(sample_copy, "researcher")
    saved = cohort_library.save_definition(
        researcher, cohort_library.DefinitionBody.of(definition=DEFINITION)
    )
    named = cohort_library.NamedRequest.of(name="ic_service")
    with pytest.raises(AccessDeniedError):
        cohort_library.delete_definition(_as(sample_copy, "manager"), named)
    assert cohort_library.get_definition(researcher, named).sha256 == saved.sha256
    deleted = cohort_library.delete_definition(researcher, named)
    assert (deleted.name, deleted.sha256) == ("ic_service", saved.sha256)
    with pytest.raises(NotFoundError, match="ic_service"):
        cohort_library.get_definition(researcher, named)
    with pytest.raises(NotFoundError):
        cohort_library.delete_definition(researcher, named)
    [entry] = _entries(sample_copy, "cohort.delete")
    details = json.loads(entry.details) if isinstance(entry.details, str) else entry.details
    assert (entry.actor, entry.target) == ("researcher", "cohort-definition:ic_service")
    assert details == {"version": saved.version, "sha256": saved.sha256}


def test_the_latest_quality_run_with_its_results(sample_copy: Warehouse) -> None:
    ctx = _operator(sample_copy)
    with pytest.raises(NotFoundError, match="aucun contrôle de qualité"):
        quality.latest(ctx, quality.LatestRequest.of())
    first = quality.run(ctx, quality.RunRequest.of(tables=["person"], enrichment=False))
    second = quality.run(ctx, quality.RunRequest.of(tables=["visit_occurrence"], enrichment=False))
    every = quality.latest(ctx, quality.LatestRequest.of(failed_only=False, limit=1000))
    assert every.run.run_id == second.run.run_id != first.run.run_id
    assert sorted(r.check_id for r in every.results) == sorted(
        r.check_id for r in second.run.results
    )
    assert {r.table_name for r in every.results} == {"visit_occurrence"}
    assert every.total == len(second.run.results)
    expected = sorted(
        r.check_id for r in second.run.results if r.status.value in ("failed", "error")
    )
    # the ones to act on, one page (the default size) after another
    first_page = quality.latest(ctx, quality.LatestRequest.of())
    assert first_page.total == len(expected) and first_page.limit == quality.PAGE_SIZE
    rest = quality.latest(ctx, quality.LatestRequest.of(offset=quality.PAGE_SIZE))
    assert [r.check_id for r in first_page.results + rest.results] == expected
    with pytest.raises(AccessDeniedError):
        quality.latest(_as(sample_copy, "researcher"), quality.LatestRequest.of())


def test_the_last_active_admin_is_kept(sample_copy: Warehouse) -> None:
    ctx = _operator(sample_copy)
    create = accounts.CreateAccountRequest.of
    accounts.create_account(ctx, create(username="chef", password=None, roles=["admin"]))
    for change in ({"active": False}, {"roles": ["manager"]}):
        with pytest.raises(ConflictError, match="dernier administrateur actif") as refused:
            accounts.update_account(
                ctx, accounts.UpdateAccountRequest.of(username="chef", **change)
            )
        assert set(refused.value.fields) == {"roles", "active"}
    kept = accounts.get_account(ctx, accounts.UsernameRequest.of(username="chef"))
    assert (kept.active, list(kept.roles)) == (True, ["admin"])  # rolled back whole
    assert not _entries(sample_copy, "account.update")
    accounts.create_account(ctx, create(username="adjoint", password=None, roles=["admin"]))
    demoted = accounts.update_account(
        ctx, accounts.UpdateAccountRequest.of(username="chef", roles=["manager", "admin"])
    )
    assert "admin" in demoted.roles  # still an admin: allowed
    accounts.update_account(ctx, accounts.UpdateAccountRequest.of(username="chef", active=False))
    with pytest.raises(ConflictError):
        accounts.update_account(
            ctx, accounts.UpdateAccountRequest.of(username="adjoint", active=False)
        )


def test_a_quality_job_with_an_unknown_table_is_the_callers_mistake() -> None:
    ctx = Context.local(get_settings())
    request = jobs.JobRequest.of(kind="quality", parameters={"tables": ["pas_une_table"]})
    with pytest.raises(InvalidRequestError, match="pas_une_table") as refused:
        jobs.submit(ctx, request)
    assert refused.value.fields == ("parameters.tables",)
    assert refused.value.http_status == 422

"""The assistant's history service on the sample warehouse, DuckDB and PostgreSQL: entries kept
by the tasks service for their user only, a patient entry read again within the perimeter and
audited, a pasted text kept only when the settings keep prompts, deletion audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from hopia.platform.access import Principal
from hopia.platform.config import Settings, get_settings
from hopia.platform.exceptions import AccessDeniedError, NotFoundError
from hopia.platform.identity import store
from hopia.platform.identity.roles import SpacePolicy
from hopia.platform.warehouse import Warehouse
from hopia.services import history, tasks
from hopia.services.context import Context
from tests.services.test_tasks import _patient_of_site

TRANSCRIPT = "Réunion de service : le chariot d'urgence sera vérifié chaque matin."


def _as(
    wh: Warehouse,
    role: str,
    care_sites: frozenset[int] = frozenset(),
    settings: Settings | None = None,
) -> Context:
    sites = store.perimeter_reader(wh.engine)
    principal = Principal(role, frozenset({role}), care_sites=care_sites)
    ctx = Context(settings or get_settings(), principal, SpacePolicy(sites))
    ctx._warehouse, ctx._owns_warehouse = wh, False
    return ctx


def _audit(wh: Warehouse, action: str) -> list[tuple[str, str, dict]]:
    with wh.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT actor, target, details FROM hopia_meta.audit_log WHERE action = :a"),
            {"a": action},
        ).all()
    return [
        (r.actor, r.target, json.loads(r.details) if isinstance(r.details, str) else r.details)
        for r in rows
    ]


def test_a_patient_entry_is_its_users_and_read_within_the_perimeter(
    sample_copy: Warehouse,
) -> None:
    person, _ = _patient_of_site(sample_copy, 2)
    clinician = _as(sample_copy, "clinician", frozenset({2}))
    run = tasks.run_task(clinician, tasks.TaskRequest.of(task="patient_summary", person_id=person))
    assert run.history_id is not None
    (summary,) = history.list_entries(clinician, history.ListRequest.of())
    assert (summary.entry_id, summary.kind, summary.name) == (
        run.history_id,
        "task",
        "patient_summary",
    )
    assert summary.person_id == person and summary.generated is False
    assert summary.title == f"Synthèse du dossier patient : patient n° {person}"

    request = history.EntryRequest.of(entry_id=run.history_id)
    entry = history.get_entry(clinician, request)
    assert entry.answer == run.result.message and entry.inputs == {"person_id": person}
    assert [c["id"] for c in entry.citations] == [s.id for s in run.result.sources]
    assert all("text" not in c for c in entry.citations)  # ids and sizes, never the documents
    reads = _audit(sample_copy, "assistant.history.read")
    assert [(a, t) for a, t, _ in reads] == [("clinician", f"person:{person}")]

    # the same user, whose perimeter no longer covers the patient: refused, like the documents
    moved = _as(sample_copy, "clinician", frozenset({999}))
    with pytest.raises(AccessDeniedError):
        history.get_entry(moved, request)
    # another user, an administrator included: unknown
    for role in ("researcher", "admin"):
        with pytest.raises(NotFoundError):
            history.get_entry(_as(sample_copy, role), request)
        with pytest.raises(NotFoundError):
            history.delete_entry(_as(sample_copy, role), request)
        assert history.list_entries(_as(sample_copy, role), history.ListRequest.of()) == []
    assert len(_audit(sample_copy, "assistant.history.read")) == 1

    history.delete_entry(clinician, request)
    assert history.list_entries(clinician, history.ListRequest.of()) == []
    with pytest.raises(NotFoundError):
        history.get_entry(clinician, request)
    ((actor, target, details),) = _audit(sample_copy, "assistant.history.delete")
    assert (actor, target, details["name"]) == (
        "clinician",
        f"history:{run.history_id}",
        "patient_summary",
    )
    assert len(_audit(sample_copy, "task.run")) == 1  # the run's own record stays


def test_a_pasted_text_is_kept_only_when_the_settings_keep_prompts(
    sample_copy: Warehouse,
) -> None:
    minutes = tasks.TaskRequest.of(task="minutes", text=TRANSCRIPT, title="CR")
    plain = _as(sample_copy, "manager")
    kept_not = tasks.run_task(plain, minutes).history_id
    keeping = get_settings().model_copy(deep=True)
    keeping.assistant.audit_prompts = True
    kept = tasks.run_task(_as(sample_copy, "manager", settings=keeping), minutes).history_id
    entries = {
        e: history.get_entry(plain, history.EntryRequest.of(entry_id=e)) for e in (kept_not, kept)
    }
    assert entries[kept_not].prompt is None and entries[kept].prompt == TRANSCRIPT
    assert entries[kept_not].inputs == {"title": "CR", "chars": len(TRANSCRIPT)}
    assert [e.entry_id for e in history.list_entries(plain, history.ListRequest.of())] == [
        kept,
        kept_not,
    ]  # newest first
    assert (
        history.get_entry(plain, history.EntryRequest.of(entry_id=kept)).summary.person_id is None
    )
    assert _audit(sample_copy, "assistant.history.read") == []  # no patient: not a patient read


def test_an_entry_id_is_checked_before_anything_is_read() -> None:
    from hopia.platform.exceptions import InvalidRequestError

    with pytest.raises(InvalidRequestError) as refused:
        history.EntryRequest.of(entry_id="../../etc")
    assert refused.value.fields == ("entry_id",)

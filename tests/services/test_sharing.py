"""Sharing service: the reason first, then the form of the request, then the policy; defaults
from the settings; a refused check is an outcome, a refused export an error; every read
audited with figures only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hopia.platform.access import Principal, RolePolicy
from hopia.platform.config import Settings
from hopia.platform.exceptions import (
    AccessDeniedError,
    InvalidRequestError,
    KeysMissingError,
    ReasonRequiredError,
    ShareRefusedError,
    SharingError,
)
from hopia.platform.warehouse import Warehouse, schema
from hopia.services import sharing
from hopia.services.context import Context
from tests.data.sharing.warehouse import IDS, REFERENCE, SECRET_STRINGS, fill

REASON = "étude ICARE, convention 2025-014"
UNBALANCED = IDS[:8] + IDS[10:12]  # eight women, two men: k = 5 cannot hold


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path / "h")
    wh = Warehouse(settings.resolved_warehouse_url())
    fill(wh)
    wh.close()
    return settings


def persons_file(folder: Path, ids: list[int]) -> Path:
    path = folder / "persons.txt"
    path.write_text("\n".join(map(str, ids)) + "\n", encoding="utf-8")
    return path


def audit_rows(settings: Settings) -> list[dict[str, Any]]:
    wh = Warehouse(settings.resolved_warehouse_url())
    with wh.engine.connect() as conn:
        rows = conn.execute(select(schema.audit_log).order_by(schema.audit_log.c.audit_id))
        out = [{**r._mapping, "details": json.loads(r.details)} for r in rows]
    wh.close()
    return out


def test_check_takes_its_defaults_from_the_settings(tmp_path: Path, settings: Settings) -> None:
    site = Settings(home=settings.home, data={"sharing": {"k": 3, "l": 1}})
    out = tmp_path / "rapport.json"
    with Context.local(site) as ctx:
        result = sharing.check(
            ctx,
            sharing.CheckRequest.of(
                persons=persons_file(tmp_path, IDS), reference_date="2025-06-30", json_out=out
            ),
        )
    assert not result.refused and (result.report.k, result.report.l) == (3, 1)
    assert result.report.reference_year == REFERENCE.year
    assert json.loads(out.read_text("utf-8"))["k"] == 3
    (entry,) = audit_rows(settings)
    assert entry["action"] == "share.check" and entry["target"].startswith("persons:")
    assert entry["details"]["persons"] == 40 and entry["details"]["reached"] is True


def test_a_refused_check_is_an_outcome_and_is_audited(tmp_path: Path, settings: Settings) -> None:
    with Context.local(settings) as ctx:
        result = sharing.check(
            ctx,
            sharing.CheckRequest.of(
                persons=persons_file(tmp_path, UNBALANCED), reference_date=REFERENCE
            ),
        )
    assert result.refused and "Quasi-identifiant bloquant : sexe" in (result.report.message or "")
    (entry,) = audit_rows(settings)
    assert entry["action"] == "share.check" and entry["details"]["reached"] is False
    assert entry["details"]["blocking"] == "sex"


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({"reference_date": "30/06/2025"}, ("reference_date",)),
        ({"k": 0}, ("k",)),
        ({"max_suppression": 1.5}, ("max_suppression",)),
    ],
)
def test_bad_values_are_field_errors(values: dict, fields: tuple) -> None:
    with pytest.raises(InvalidRequestError) as e:
        sharing.CheckRequest.of(persons=Path("p.txt"), **values)
    assert e.value.fields == fields


def test_one_source_is_checked_before_anything_is_opened(
    tmp_path: Path, settings: Settings
) -> None:
    path = persons_file(tmp_path, IDS)
    with Context.local(settings) as ctx:
        for values in ({}, {"persons": path, "cohort": path}):
            with pytest.raises(SharingError, match="soit une définition") as e:
                sharing.check(ctx, sharing.CheckRequest.of(**values))
            assert e.value.fields == ("cohort", "persons")
        assert ctx._warehouse is None


def test_export_demands_a_reason_before_anything(tmp_path: Path, settings: Settings) -> None:
    out = tmp_path / "out"
    ctx = Context(settings, Principal("alice"), RolePolicy({}))  # would be refused: later
    for reason in (None, "court"):
        request = sharing.ExportRequest.of(
            persons=persons_file(tmp_path, IDS), out=out, format="fhir", reason=reason
        )
        with pytest.raises(ReasonRequiredError) as e:
            sharing.export(ctx, request)
        assert e.value.fields == ("reason",)
    assert ctx._warehouse is None and not out.exists()
    # Each refusal is on record, and nothing else.
    refused = [(r["action"], r["details"]["action"]) for r in audit_rows(settings)]
    assert refused == [("access.refused", "share.export")] * 2


def test_export_refusals_before_any_read(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(InvalidRequestError, match="« format »") as e:
        sharing.ExportRequest.of(persons="p.txt", out="o", format="csv", reason=REASON)
    assert e.value.fields == ("format",)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    path = persons_file(tmp_path, IDS)
    with Context.local(settings) as ctx:
        request = sharing.ExportRequest.of(persons=path, out=busy, format="fhir", reason=REASON)
        with pytest.raises(SharingError, match="n'est pas un dossier vide") as e:
            sharing.export(ctx, request)
        assert e.value.fields == ("out",) and ctx._warehouse is None
    ctx = Context(settings, Principal("alice", frozenset({"researcher"})))
    ctx.policy = RolePolicy({"researcher": ["share.check"]})
    request = sharing.ExportRequest.of(
        persons=path, out=tmp_path / "o", format="fhir", reason=REASON
    )
    with pytest.raises(AccessDeniedError, match="share.export"):
        sharing.export(ctx, request)
    assert ctx._warehouse is None
    no_keys = settings.model_copy(update={"secret_key": None})
    with Context.local(no_keys) as ctx:
        with pytest.raises(KeysMissingError):
            sharing.export(ctx, request)
        assert ctx._warehouse is None
    # Only the policy's refusal is on record (who, what, why; no data read).
    refusals = [(r["action"], r["actor"], r["target"]) for r in audit_rows(settings)]
    assert refusals == [("access.refused", "alice", refusals[0][2])]
    assert not (tmp_path / "o").exists()


def test_export_is_written_and_audited_without_identities(
    tmp_path: Path, settings: Settings
) -> None:
    out = tmp_path / "out"
    with Context.local(settings, actor="dr.x") as ctx:
        result = sharing.export(
            ctx,
            sharing.ExportRequest.of(
                persons=persons_file(tmp_path, IDS),
                out=out,
                format="omop-csv",
                reason=REASON,
                reference_date=REFERENCE,
            ),
        )
    assert result.folder == out.absolute() and (out / "manifest.json").exists()
    (entry,) = audit_rows(settings)
    assert (entry["action"], entry["actor"], entry["reason"]) == ("share.export", "dr.x", REASON)
    assert entry["audit_id"] == result.audit_id and entry["details"]["persons"] == 40
    logged = json.dumps(entry["details"], ensure_ascii=False)
    assert not any(secret in logged for secret in SECRET_STRINGS)


def test_a_refused_export_raises_with_its_report(tmp_path: Path, settings: Settings) -> None:
    out = tmp_path / "out"
    with Context.local(settings) as ctx, pytest.raises(ShareRefusedError, match="sexe") as e:
        sharing.export(
            ctx,
            sharing.ExportRequest.of(
                persons=persons_file(tmp_path, UNBALANCED),
                out=out,
                format="fhir",
                reason=REASON,
                reference_date=REFERENCE,
            ),
        )
    assert e.value.report.blocking == "sex" and not out.exists()
    assert [r["action"] for r in audit_rows(settings)] == ["share.refused"]

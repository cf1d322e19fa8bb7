"""Cohort service: validation before anything is read, the policy before the warehouse, the
audit entries (``cohort.run``, ``cohort.patients``) with counts and hashes, never a name."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hopia.platform.access import RolePolicy
from hopia.platform.config import Settings
from hopia.platform.exceptions import (
    AccessDeniedError,
    CohortDefinitionError,
    InvalidRequestError,
    ReasonRequiredError,
)
from hopia.platform.warehouse import Warehouse, schema
from hopia.services import cohorts
from hopia.services.context import Context
from tests.conftest import REPO
from tests.data.cohorts.warehouse import fill
from tests.services.contexts import researcher

HEART_FAILURE = REPO / "configs" / "cohorts" / "insuffisance_cardiaque.yaml"
TARGET = "cohort:insuffisance_cardiaque@1"
REASON = "Étude ICARE, avis CPP 24-012"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose warehouse holds the eight-person cohort data (closed again)."""
    settings = Settings(home=tmp_path / "h")
    wh = Warehouse(settings.resolved_warehouse_url())
    fill(wh)
    wh.close()
    return settings


def audit_rows(settings: Settings) -> list[dict[str, Any]]:
    wh = Warehouse(settings.resolved_warehouse_url())
    with wh.engine.connect() as conn:
        rows = conn.execute(select(schema.audit_log).order_by(schema.audit_log.c.audit_id))
        out = [dict(r._mapping) for r in rows]
    wh.close()
    return out


def test_check_and_sql_read_no_warehouse(settings: Settings) -> None:
    with Context.local(settings) as ctx:
        checked = cohorts.check(ctx, cohorts.DefinitionRequest.of(definition=HEART_FAILURE))
        assert checked.definition.name == "insuffisance_cardiaque" and len(checked.sha256) == 64
        assert checked.steps[0] == "Personnes de l'entrepôt"
        text = cohorts.sql(ctx, cohorts.SqlRequest.of(definition=HEART_FAILURE))
        assert "omop.note_nlp" in text
        with pytest.raises(InvalidRequestError, match="dialecte inconnu : oracle") as e:
            cohorts.sql(ctx, cohorts.SqlRequest.of(definition=HEART_FAILURE, dialect="oracle"))
        assert e.value.fields == ("dialect",)
        with pytest.raises(CohortDefinitionError, match="fichier introuvable") as e:
            cohorts.check(ctx, cohorts.DefinitionRequest.of(definition=Path("absente.yaml")))
        assert e.value.fields == ("definition",)
        assert ctx._warehouse is None


def test_run_is_suppressed_written_and_audited(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "resultats"
    with Context.local(settings, actor="dr.x") as ctx:
        result = cohorts.run(
            ctx, cohorts.RunRequest.of(definition=HEART_FAILURE, output=out, top=5)
        )
    assert result.public["attrition"][0]["count"] == "<10"  # 8 persons: suppressed
    assert result.charts == ["attrition.png"] and result.patient_list is None
    written = json.loads((out / "results.json").read_text("utf-8"))
    assert (
        written["charts"] == ["attrition.png"]
        and written["attrition"] == result.public["attrition"]
    )
    (entry,) = audit_rows(settings)
    assert (entry["action"], entry["target"], entry["actor"]) == ("cohort.run", TARGET, "dr.x")
    assert entry["audit_id"] == result.audit_id and entry["reason"] is None
    details = json.loads(entry["details"])
    assert (
        details["persons"] == 2
        and details["steps"] == 6
        and len(details["definition_sha256"]) == 64
    )


def test_run_without_output_writes_nothing(settings: Settings, tmp_path: Path) -> None:
    with Context.local(settings) as ctx:
        result = cohorts.run(ctx, cohorts.RunRequest.of(definition=HEART_FAILURE))
    assert result.output is None and result.charts is None
    assert [e["action"] for e in audit_rows(settings)] == ["cohort.run"]


@pytest.mark.parametrize(
    ("values", "error", "fields"),
    [
        ({"patients": True, "reason": REASON}, InvalidRequestError, ("output",)),
        ({"patients": True, "output": "o"}, ReasonRequiredError, ("reason",)),
        ({"patients": True, "output": "o", "reason": "court"}, ReasonRequiredError, ("reason",)),
        ({"top": 0}, InvalidRequestError, ("top",)),
    ],
)
def test_the_patient_list_rules_come_before_any_read(
    settings: Settings, tmp_path: Path, values: dict, error: type, fields: tuple
) -> None:
    if "output" in values:
        values = {**values, "output": tmp_path / values["output"]}
    with Context.local(settings) as ctx:
        with pytest.raises(error) as e:
            cohorts.run(ctx, cohorts.RunRequest.of(definition=HEART_FAILURE, **values))
        assert e.value.fields == fields
        assert ctx._warehouse is None  # nothing opened, nothing queried
    # Nothing on record but a refused reason (who, what; not the reason typed).
    expected = ["access.refused"] if error is ReasonRequiredError else []
    assert [r["action"] for r in audit_rows(settings)] == expected
    assert not (tmp_path / "o").exists()


def test_patient_list_is_private_and_audited_without_names(
    settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "liste"
    with Context.local(settings) as ctx:
        result = cohorts.run(
            ctx,
            cohorts.RunRequest.of(
                definition=HEART_FAILURE, output=out, patients=True, reason=REASON
            ),
        )
    listed = result.patient_list
    assert listed is not None and listed.patients == 2
    assert stat.S_IMODE(listed.path.stat().st_mode) == 0o600
    with listed.path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["ipp"] for r in rows] == ["IPP0001", "IPP0008"]
    entries = audit_rows(settings)
    assert [(e["action"], e["target"]) for e in entries] == [
        ("cohort.run", TARGET),
        ("cohort.patients", TARGET),
    ]
    assert entries[1]["reason"] == REASON and entries[1]["audit_id"] == listed.audit_id
    logged = json.dumps([e["details"] for e in entries])
    assert "IPP0001" not in logged and "NOM1" not in logged


def test_patient_list_service_needs_its_folder(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError, match="« output » : valeur obligatoire") as e:
        cohorts.PatientListRequest.of(definition=HEART_FAILURE, reason=REASON)
    assert e.value.fields == ("output",)
    with Context.local(settings) as ctx:
        listed = cohorts.patient_list(
            ctx,
            cohorts.PatientListRequest.of(definition=HEART_FAILURE, output=tmp_path, reason=REASON),
        )
    assert listed.path == tmp_path / cohorts.PATIENTS_FILE and listed.patients == 2
    assert [e["action"] for e in audit_rows(settings)] == ["cohort.patients"]


def test_the_policy_refuses_before_the_warehouse_is_opened(
    settings: Settings, tmp_path: Path
) -> None:
    ctx = researcher(settings)
    with pytest.raises(AccessDeniedError, match="cohort.run"):
        cohorts.run(ctx, cohorts.RunRequest.of(definition=HEART_FAILURE))
    assert ctx._warehouse is None
    # Allowed to run aggregates, not to list the patients: refused before the run.
    ctx.policy = RolePolicy({"researcher": ["cohort.run"]})
    request = cohorts.RunRequest.of(
        definition=HEART_FAILURE, output=tmp_path / "o", patients=True, reason=REASON
    )
    with pytest.raises(AccessDeniedError, match="cohort.patients"):
        cohorts.run(ctx, request)
    assert ctx._warehouse is None
    # The refusals alone are on record: who, which action, on what; nothing was read.
    rows = [(r["action"], r["actor"], r["target"]) for r in audit_rows(settings)]
    assert rows == [("access.refused", "alice", TARGET)] * 2
    assert [json.loads(r["details"])["action"] for r in audit_rows(settings)] == [
        "cohort.run",
        "cohort.patients",
    ]
    with ctx:
        cohorts.run(ctx, cohorts.RunRequest.of(definition=HEART_FAILURE))
    assert [e["action"] for e in audit_rows(settings)][-1] == "cohort.run"
    assert [e["actor"] for e in audit_rows(settings)] == ["alice"] * 3


@pytest.mark.parametrize("existing", [False, True], ids=["new-folder", "existing-0755-folder"])
def test_a_cohort_folder_is_owner_only_whatever_the_umask(
    settings: Settings, tmp_path: Path, existing: bool
) -> None:
    """Issue 11, finding 8: ``cohort run -o`` wrote patient-level results (and the identified
    list) in a folder any local user could read. Folder 0700, every file 0600."""
    import os

    out = tmp_path / "etudes" / "ic"
    if existing:
        out.mkdir(parents=True, mode=0o755)
        os.chmod(out, 0o755)
    old = os.umask(0o022)
    try:
        with Context.local(settings) as ctx:
            result = cohorts.run(
                ctx,
                cohorts.RunRequest.of(
                    definition=HEART_FAILURE, output=out, patients=True, reason=REASON
                ),
            )
    finally:
        os.umask(old)
    assert result.patient_list is not None and result.charts
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    files = sorted(p for p in out.iterdir())
    names = {p.name for p in files}
    assert {cohorts.RESULTS_FILE, cohorts.PATIENTS_FILE, *result.charts} <= names
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in files} == dict.fromkeys(names, 0o600)

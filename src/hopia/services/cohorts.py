"""Cohort service: check a definition, show its SQL, run it, list its patients.

The rules, for every front end:

- a run reads the research space (pseudonymised) and returns only suppressed figures (counts
  below 10 as ``"<10"``); it is audited (``cohort.run``: the definition's hash and the number
  of members), because every access to patient data is, whatever leaves it;
- the identified patient list shows real identities and birth dates beside index dates read
  in the research space, shifted per patient: that column is named so (``index_date_decalee``);
- the identified patient list needs a reason of at least ten characters and an output folder,
  both checked before anything is read; the list is read and audited in one transaction
  (``cohort.patients``, :func:`hopia.data.cohorts.run.identified_patients`) and written to a
  file readable by its owner only;
- the access policy is asked (``cohort.<action>``) before the warehouse is opened.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from hopia.data.cohorts import compile_cohort, definition_hash, load_definition, run_cohort
from hopia.data.cohorts.characterise import TOP_TITLES  # noqa: F401 - for front ends
from hopia.data.cohorts.run import audit_run, identified_patients
from hopia.data.cohorts.schema import CohortDefinition
from hopia.platform.access import Purpose
from hopia.platform.exceptions import InvalidRequestError
from hopia.platform.files import atomic_file, check_output_dir, private_dir, write_text_atomic
from hopia.services.context import Context, Request
from hopia.services.warehouse import existing_warehouse

PATIENTS_FILE = "patients_identifies.csv"
RESULTS_FILE = "results.json"
PATIENT_COLUMNS = (
    "ipp",
    "family_name",
    "given_name",
    "birth_date",
    "sex",
    "person_id",
    "index_date_decalee",
)
# The list's columns and where they come from: the index date is read in the research space,
# shifted per patient; next to real identities it must say so (docs/cohorts.md).
_COLUMN_OF = {"index_date_decalee": "index_date"}
DIALECTS = ("duckdb", "postgresql")


class DefinitionRequest(Request):
    definition: Path
    """A cohort definition file (.yaml, .yml or .json)."""


class SqlRequest(DefinitionRequest):
    dialect: str = "duckdb"


class RunRequest(DefinitionRequest):
    output: Path | None = None
    """Folder for results.json and the charts (and the patient list); nothing written if None."""
    top: int = Field(10, ge=1, le=100)
    """Length of the most-frequent lists of the characterisation."""
    patients: bool = False
    """Also write the identified patient list (reason and output folder required)."""
    reason: str | None = None


class PatientListRequest(DefinitionRequest):
    output: Path
    reason: str | None = None


@dataclass(frozen=True)
class DefinitionCheck:
    definition: CohortDefinition
    sha256: str
    steps: list[str]


@dataclass(frozen=True)
class PatientList:
    path: Path
    patients: int
    audit_id: int


@dataclass(frozen=True)
class CohortRun:
    public: dict[str, Any]
    """The suppressed results (what may leave the research space), as in results.json."""
    audit_id: int
    output: Path | None = None
    charts: list[str] | None = None
    patient_list: PatientList | None = None


def _target(definition: CohortDefinition) -> str:
    return f"cohort:{definition.name}@{definition.version}"


def check(ctx: Context, request: DefinitionRequest) -> DefinitionCheck:
    """Validate a definition and compile it; the warehouse is not opened."""
    d = load_definition(request.definition)
    ctx.authorize("cohort.check", _target(d))
    compiled = compile_cohort(d)
    return DefinitionCheck(d, definition_hash(d), [step.label for step in compiled.steps])


def sql(ctx: Context, request: SqlRequest) -> str:
    """The members query of a definition, in the SQL of ``dialect``."""
    if request.dialect not in DIALECTS:
        raise InvalidRequestError(
            f"dialecte inconnu : {request.dialect} ({' ou '.join(DIALECTS)})",
            fields=("dialect",),
        )
    d = load_definition(request.definition)
    ctx.authorize("cohort.sql", _target(d))
    if request.dialect == "duckdb":
        from duckdb_engine import Dialect
    else:
        from sqlalchemy.dialects.postgresql import dialect as Dialect  # noqa: N812
    return compile_cohort(d).sql(Dialect())


def _patient_list_allowed(
    ctx: Context, definition: Path, output: Path | None, reason: str | None
) -> tuple[Path, str]:
    """The list's rules, before anything is read: a folder to write it to, then a reason."""
    if output is None:
        raise InvalidRequestError(
            "la liste nominative s'écrit dans un fichier : dossier de sortie obligatoire",
            fields=("output",),
        )
    # A refused reason is on record (the definition is not read yet: named by its file).
    resource = f"cohort-definition:{Path(definition).name}"
    return output, ctx.check_reason(reason, Purpose.PATIENT_LIST, "cohort.patients", resource)


def run(ctx: Context, request: RunRequest) -> CohortRun:
    """Attrition and characterisation (suppressed), audited; with ``patients``, the identified
    list too. Files go to ``output`` when given."""
    if request.output is not None:
        check_output_dir(request.output, "output")  # before the query runs
    allowed = (
        _patient_list_allowed(ctx, request.definition, request.output, request.reason)
        if request.patients
        else None
    )
    d = load_definition(request.definition)
    ctx.authorize("cohort.run", _target(d))
    if allowed:
        ctx.authorize("cohort.patients", _target(d))
    wh = existing_warehouse(ctx)
    result = run_cohort(wh, d, top=request.top)
    entry = audit_run(wh, result, actor=ctx.actor)  # before anything leaves
    public = result.public()
    charts = None
    if request.output is not None:
        charts = _write_results(public, request.output)
    patient_list = _write_patient_list(ctx, d, *allowed) if allowed else None
    return CohortRun(public, entry.audit_id, request.output, charts, patient_list)


def patient_list(ctx: Context, request: PatientListRequest) -> PatientList:
    """The identified members of a cohort, written to ``output``/patients_identifies.csv."""
    output, reason = _patient_list_allowed(ctx, request.definition, request.output, request.reason)
    check_output_dir(output, "output")
    d = load_definition(request.definition)
    ctx.authorize("cohort.patients", _target(d))
    return _write_patient_list(ctx, d, output, reason)


def _write_results(public: dict[str, Any], output: Path) -> list[str]:
    from hopia.data.cohorts.charts import write_charts  # matplotlib: only when writing

    # A cohort's folder is patient-level data (its identified list lands beside the results):
    # owner-only, folder 0700 and files 0600, whatever the umask.
    private_dir(output)
    charts = [p.name for p in write_charts(public, output)]
    public["charts"] = charts
    text = json.dumps(public, ensure_ascii=False, indent=2) + "\n"
    write_text_atomic(output / RESULTS_FILE, text, private=True)
    return charts


def _write_patient_list(
    ctx: Context, definition: CohortDefinition, output: Path, reason: str
) -> PatientList:
    wh = existing_warehouse(ctx)
    rows, entry = identified_patients(wh, definition, reason=reason, actor=ctx.actor)
    path = output / PATIENTS_FILE
    private_dir(output)  # the folder too, made or tightened: 0700
    # Identified data: readable by its owner only, from the file's creation on.
    with atomic_file(path, newline="", private=True) as fh:
        writer = csv.DictWriter(fh, fieldnames=PATIENT_COLUMNS)
        writer.writeheader()
        writer.writerows(
            {
                k: ("" if r[_COLUMN_OF.get(k, k)] is None else r[_COLUMN_OF.get(k, k)])
                for k in PATIENT_COLUMNS
            }
            for r in rows
        )
    return PatientList(path, len(rows), entry.audit_id)

"""``/api/v1/cohorts``: saved definitions (the YAML DSL), validation, runs (attrition and
characterisation with small-cell suppression, research space, audited)."""

from __future__ import annotations

from fastapi import APIRouter

from hopia.services import cohort_library as library
from hopia.web.deps import ContextDep
from hopia.web.roles import Allow
from hopia.web.schemas.cohorts import CheckOut, DefinitionIn, DefinitionOut, DeletedOut, RunOut
from hopia.web.schemas.problem import PROBLEMS

router = APIRouter(
    responses=PROBLEMS, prefix="/cohorts", tags=["cohorts"], dependencies=[Allow("cohort.run")]
)


def _out(saved: library.SavedDefinition) -> DefinitionOut:
    return DefinitionOut(**saved.__dict__)


@router.get("", summary="The saved cohort definitions")
def list_definitions(ctx: ContextDep) -> list[DefinitionOut]:
    return [_out(d) for d in library.list_definitions(ctx)]


@router.post("", summary="Validate and save a definition (replaces one of the same name)")
def save_definition(body: DefinitionIn, ctx: ContextDep) -> DefinitionOut:
    return _out(library.save_definition(ctx, library.DefinitionBody.of(definition=body.definition)))


@router.post("/validate", summary="Check a definition and list its steps; nothing is stored")
def validate_definition(body: DefinitionIn, ctx: ContextDep) -> CheckOut:
    check = library.validate_definition(ctx, library.DefinitionBody.of(definition=body.definition))
    d = check.definition
    return CheckOut(name=d.name, version=d.version, sha256=check.sha256, steps=check.steps)


@router.get("/{name}", summary="One saved definition")
def get_definition(name: str, ctx: ContextDep) -> DefinitionOut:
    return _out(library.get_definition(ctx, library.NamedRequest.of(name=name)))


@router.post("/{name}/run", summary="Run a saved definition: attrition, characterisation")
def run_definition(name: str, ctx: ContextDep, top: int = 10) -> RunOut:
    run = library.run_saved(ctx, library.RunSavedRequest.of(name=name, top=top))
    return RunOut(audit_id=run.audit_id, results=run.public)


@router.delete("/{name}", summary="Delete a saved definition (audited with its hash)")
def delete_definition(name: str, ctx: ContextDep) -> DeletedOut:
    deleted = library.delete_definition(ctx, library.NamedRequest.of(name=name))
    return DeletedOut(**deleted.__dict__)

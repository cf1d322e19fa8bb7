"""Saved cohort definitions: the web's cohort builder stores, lists, validates and runs them.

Definitions are the YAML DSL of ``docs/cohorts.md``, one file per name in ``<home>/cohorts/``
(what ``hopia cohort run <file>`` reads too). Saving checks the definition first (nothing
invalid is stored) and keeps the previous file only as the new one replaces it whole. A run is
:func:`hopia.services.cohorts.run`: the research space, suppressed figures, audited
(``cohort.run``). Definitions hold criteria, never patient data: reading or saving one is not
audited; the policy is asked (``cohort.list``, ``cohort.check``, ``cohort.define``). Deleting
one (``cohort.delete``) is audited with the definition's hash: the audit entries of its past
runs name that hash, and the log keeps what was removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field

from hopia.platform import audit
from hopia.platform.exceptions import CohortDefinitionError, NotFoundError
from hopia.platform.files import write_text_atomic
from hopia.services import cohorts
from hopia.services.context import Context, Request
from hopia.services.warehouse import existing_warehouse

FOLDER = "cohorts"
NAME_PATTERN = r"^[a-z0-9][a-z0-9_\-]{0,79}$"


class DefinitionBody(Request):
    definition: dict[str, Any]
    """A cohort definition as a mapping (the YAML file's content)."""


class NamedRequest(Request):
    name: str = Field(pattern=NAME_PATTERN)


class RunSavedRequest(NamedRequest):
    top: int = Field(10, ge=1, le=100)


@dataclass(frozen=True)
class SavedDefinition:
    name: str
    version: str
    title: str
    description: str
    sha256: str
    definition: dict[str, Any]


def folder(ctx: Context) -> Path:
    return Path(ctx.settings.home) / FOLDER


def _parse(data: dict[str, Any]) -> Any:
    from hopia.data.cohorts import parse_definition  # axis 1, loaded when used

    return parse_definition(data)


def _saved(path: Path) -> SavedDefinition:
    from hopia.data.cohorts import definition_hash, load_definition

    d = load_definition(path)
    return SavedDefinition(
        d.name,
        d.version,
        d.title,
        d.description,
        definition_hash(d),
        d.model_dump(mode="json", by_alias=True, exclude_none=True),
    )


def _path(ctx: Context, name: str) -> Path:
    path = folder(ctx) / f"{name}.yaml"
    if not path.is_file():
        raise NotFoundError(f"définition de cohorte « {name} » introuvable", fields=("name",))
    return path


def list_definitions(ctx: Context) -> list[SavedDefinition]:
    """The saved definitions, by name; an unreadable file is skipped (named in the logs of
    ``hopia cohort check``, not here: one bad file must not hide the others)."""
    ctx.authorize("cohort.list", "cohort-definitions")
    out = []
    for path in sorted(folder(ctx).glob("*.yaml")):
        try:
            out.append(_saved(path))
        except CohortDefinitionError:
            continue
    return out


def get_definition(ctx: Context, request: NamedRequest) -> SavedDefinition:
    ctx.authorize("cohort.list", f"cohort-definition:{request.name}")
    return _saved(_path(ctx, request.name))


def definition_file(ctx: Context, request: NamedRequest) -> Path:
    """The file of a saved definition (what an export job reads): the web names a definition,
    never a path of the server."""
    ctx.authorize("cohort.list", f"cohort-definition:{request.name}")
    return _path(ctx, request.name)


def validate_definition(ctx: Context, request: DefinitionBody) -> cohorts.DefinitionCheck:
    """Parse and compile a definition (nothing read, nothing stored): its steps, or a French
    error naming the field at fault."""
    from hopia.data.cohorts import compile_cohort, definition_hash

    d = _parse(request.definition)
    ctx.authorize("cohort.check", f"cohort:{d.name}@{d.version}")
    compiled = compile_cohort(d)
    return cohorts.DefinitionCheck(d, definition_hash(d), [s.label for s in compiled.steps])


def save_definition(ctx: Context, request: DefinitionBody) -> SavedDefinition:
    """Validate, then store ``<home>/cohorts/<name>.yaml`` (replacing one of the same name)."""
    check = validate_definition(ctx, request)
    d = check.definition
    ctx.authorize("cohort.define", f"cohort:{d.name}@{d.version}")
    data = d.model_dump(mode="json", by_alias=True, exclude_none=True)
    path = folder(ctx) / f"{d.name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return _saved(path)


@dataclass(frozen=True)
class DeletedDefinition:
    name: str
    sha256: str | None
    """The hash of what was removed (None: the file did not read as a definition)."""
    audit_id: int


def delete_definition(ctx: Context, request: NamedRequest) -> DeletedDefinition:
    """Remove ``<home>/cohorts/<name>.yaml``, audited (``cohort.delete``, its hash): the entry
    and the removal go together (a file that cannot be removed leaves no entry)."""
    target = f"cohort-definition:{request.name}"
    ctx.authorize("cohort.delete", target)
    path = _path(ctx, request.name)
    try:
        saved = _saved(path)
        sha256: str | None = saved.sha256
        details: dict[str, Any] = {"version": saved.version, "sha256": saved.sha256}
    except CohortDefinitionError:  # an unreadable file can still be removed
        sha256, details = None, {"unreadable": True}
    with existing_warehouse(ctx).begin() as conn:
        entry = audit.record(conn, ctx.actor, "cohort.delete", target, None, details)
        path.unlink()
    return DeletedDefinition(request.name, sha256, entry.audit_id)


def run_saved(ctx: Context, request: RunSavedRequest) -> cohorts.CohortRun:
    """Attrition and characterisation of a saved definition, suppressed, audited."""
    path = _path(ctx, request.name)
    return cohorts.run(ctx, cohorts.RunRequest.of(definition=path, top=request.top))

"""``/cohorts``: the cohort builder over the YAML DSL (docs/cohorts.md): the saved definitions,
a field-by-field form (criteria rows added and removed by the server, no script), the YAML box
as the advanced mode, and a run's attrition table and characterisation charts, with the counts
as published (small cells suppressed by the service). The cohort library service does every
check, store and run, and audits the runs; the form only carries the definition, compiled to
the DSL by :func:`hopia.web.pages.cohort_form.compile_form`."""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from hopia.platform.exceptions import InvalidRequestError
from hopia.services import cohort_library as library
from hopia.web.pages import cohort_form, csrf
from hopia.web.pages.common import Viewer, show, to_login, viewer
from hopia.web.pages.plots import bars_svg

router = APIRouter(include_in_schema=False)
MAX_YAML_CHARS = 50_000
TOP_TITLES_FR = {
    "conditions": "Diagnostics les plus fréquents",
    "drugs": "Médicaments les plus fréquents",
    "measurements": "Examens les plus fréquents",
    "procedures": "Actes les plus fréquents",
}
SEX_FR = {"F": "femmes", "M": "hommes", "female": "femmes", "male": "hommes"}


@router.get("/cohorts")
def builder(
    request: Request,
    nom: Annotated[str | None, Query(max_length=80)] = None,
    mode: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    saved = library.list_definitions(who.ctx)
    if not nom:
        return _builder(request, who, saved, "", advanced=mode == "yaml")
    chosen = library.get_definition(who.ctx, library.NamedRequest.of(name=nom))
    text = yaml.safe_dump(chosen.definition, allow_unicode=True, sort_keys=False)
    form, missing = _rows_of(who, chosen)
    notice = None
    if missing:
        notice = (
            f"La définition « {nom} » utilise ce que le formulaire ne sait pas montrer "
            f"({missing}) : elle est ouverte dans le mode avancé (YAML)."
        )
    return _builder(
        request,
        who,
        saved,
        text,
        form=form,
        advanced=bool(missing) or mode == "yaml",
        notice=notice,
        loaded=nom,
    )


def _rows_of(
    who: Viewer, chosen: library.SavedDefinition
) -> tuple[cohort_form.BuilderForm | None, str | None]:
    """The rows of a saved definition, or what keeps the form from showing it. The rows are
    compiled back and validated: a definition the rows would change (same hash or nothing) is
    not shown in them."""
    form, missing = cohort_form.from_definition(chosen.definition)
    if form is None:
        return None, missing
    compiled = cohort_form.compile_form(form)
    differs = "critères que le formulaire écrirait autrement"
    if compiled.errors:
        return None, differs
    try:
        again = library.DefinitionBody.of(definition=compiled.mapping)
        same = library.validate_definition(who.ctx, again).sha256 == chosen.sha256
    except InvalidRequestError:
        return None, differs
    if not same:
        return None, differs
    return form, None


@router.post("/cohorts/formulaire")
async def builder_form(request: Request) -> Response:
    """The field-by-field form: add or remove a row (re-rendered, nothing checked), check the
    compiled definition, or save it. The posted fields are read here (their names carry the
    row number); the blocking work runs in the thread pool, as the other pages' does."""
    posted = await request.form()
    csrf.check(request, str(posted.get(csrf.FIELD, "")))
    values = {k: v for k, v in posted.items() if isinstance(v, str)}
    return await run_in_threadpool(_submit_form, request, values)


def _submit_form(request: Request, posted: dict[str, str]) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    try:
        rows = int(posted.get("lignes", "1"))
    except ValueError:
        rows = 1
    form = cohort_form.parse_fields(posted, rows)
    action = posted.get("action", "verifier")
    saved = library.list_definitions(who.ctx)
    if action == "ajouter":
        if len(form.rows) < cohort_form.MAX_ROWS:
            form.rows.append(cohort_form.Row())
        return _builder(request, who, saved, "", form=form, focus=len(form.rows) - 1)
    if action.startswith("retirer-"):
        index = action.removeprefix("retirer-")
        if index.isdigit() and int(index) < len(form.rows):
            del form.rows[int(index)]
        form.rows = form.rows or [cohort_form.Row()]
        return _builder(request, who, saved, "", form=form)
    compiled = cohort_form.compile_form(form)
    if compiled.errors:
        return _builder(request, who, saved, "", form=form, errors=compiled.errors, status=422)
    mapping = compiled.mapping
    generated = yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False)
    try:
        body = library.DefinitionBody.of(definition=mapping)
        if action == "enregistrer":
            stored = library.save_definition(who.ctx, body)
            return RedirectResponse(f"/cohorts?nom={stored.name}", status_code=303)
        check = library.validate_definition(who.ctx, body)
    except InvalidRequestError as exc:  # the DSL validator's message, put next to the fields
        errors, general = cohort_form.errors_by_field(form, exc.message)
        return _builder(
            request,
            who,
            saved,
            generated,
            form=form,
            errors=errors,
            general=general,
            generated=generated,
            status=422,
        )
    return _builder(request, who, saved, generated, form=form, check=check, generated=generated)


@router.post("/cohorts")
def check_or_save(
    request: Request,
    definition: Annotated[str, Form(max_length=MAX_YAML_CHARS)] = "",
    action: Annotated[str, Form(max_length=20)] = "verifier",
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    try:
        body = library.DefinitionBody.of(definition=_mapping(definition))
        if action == "enregistrer":
            stored = library.save_definition(who.ctx, body)
            return RedirectResponse(f"/cohorts?nom={stored.name}", status_code=303)
        check = library.validate_definition(who.ctx, body)
    except InvalidRequestError as exc:  # the definition's errors (CohortDefinitionError too)
        saved = library.list_definitions(who.ctx)
        return _builder(
            request, who, saved, definition, error=exc.message, status=422, advanced=True
        )
    saved = library.list_definitions(who.ctx)
    return _builder(request, who, saved, definition, yaml_check=check, advanced=True)


@router.post("/cohorts/{name}/run")
def run(
    request: Request, name: str, token: Annotated[str, Form(alias=csrf.FIELD)] = ""
) -> Response:
    csrf.check(request, token)
    who = viewer(request)
    if who is None:
        return to_login()
    done = library.run_saved(who.ctx, library.RunSavedRequest.of(name=name))
    public = done.public
    return show(
        request,
        who,
        "cohorts/run.html",
        "/cohorts",
        public=public,
        audit_id=done.audit_id,
        charts=_charts(public.get("characterisation") or {}),
        name=name,
    )


def _mapping(text: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (ligne {mark.line + 1})" if mark is not None else ""
        raise InvalidRequestError(
            f"définition : YAML illisible{where}", fields=("definition",)
        ) from None
    if not isinstance(data, dict):
        raise InvalidRequestError(
            "définition : un dictionnaire YAML est attendu (format, name, version, …)",
            fields=("definition",),
        )
    return data


def _builder(
    request: Request,
    who: Viewer,
    saved: list[library.SavedDefinition],
    text: str,
    *,
    form: cohort_form.BuilderForm | None = None,
    check: object | None = None,
    yaml_check: object | None = None,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    generated: str | None = None,
    advanced: bool = False,
    notice: str | None = None,
    loaded: str | None = None,
    focus: int | None = None,
    status: int = 200,
) -> Response:
    return show(
        request,
        who,
        "cohorts/builder.html",
        "/cohorts",
        status,
        saved=saved,
        text=text,
        form=form or cohort_form.BuilderForm(),
        check=check,
        yaml_check=yaml_check,
        error=error,
        errors=errors or {},
        general=general or [],
        generated=generated,
        advanced=advanced,
        notice=notice,
        loaded=loaded,
        focus=focus,
        kinds=cohort_form.KINDS,
        roles=cohort_form.ROLES,
        sexes=cohort_form.SEXES,
        qualifiers=cohort_form.QUALIFIERS,
        modes=cohort_form.QUALIFIER_MODES,
        field=cohort_form.field_name,
    )


def _charts(c: dict[str, Any]) -> list[tuple[str, Any]]:
    """(title, bar chart) of a published characterisation (none when it was withheld)."""
    if "sex" not in c:
        return []
    charts = [
        ("Âge (années)", list(c["age"]["bins"].items())),
        ("Sexe", [(SEX_FR.get(k, k), v) for k, v in c["sex"].items()]),
    ]
    for key, title in TOP_TITLES_FR.items():
        items = (c.get(key) or {}).get("items") or []
        if items:
            cells = [
                (f"{i.get('code') or ''} {i.get('name') or ''}".strip(), i["persons"])
                for i in items
            ]
            charts.append((title, cells))
    return [(title, bars_svg(title, cells)) for title, cells in charts]

"""``/cohorts``: the cohort builder over the YAML DSL (docs/cohorts.md): the saved definitions,
a form to check and save one, and a run's attrition table and characterisation charts, with
the counts as published (small cells suppressed by the service). The cohort library service
does every check, store and run, and audits the runs; the form only carries the YAML."""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from hopia.platform.exceptions import InvalidRequestError
from hopia.services import cohort_library as library
from hopia.web.pages import csrf
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
def builder(request: Request, nom: Annotated[str | None, Query(max_length=80)] = None) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    saved = library.list_definitions(who.ctx)
    text = ""
    if nom:
        chosen = library.get_definition(who.ctx, library.NamedRequest.of(name=nom))
        text = yaml.safe_dump(chosen.definition, allow_unicode=True, sort_keys=False)
    return _builder(request, who, saved, text)


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
        return _builder(request, who, saved, definition, error=exc.message, status=422)
    saved = library.list_definitions(who.ctx)
    return _builder(request, who, saved, definition, check=check)


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
    check: object | None = None,
    error: str | None = None,
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
        check=check,
        error=error,
    )


def _charts(c: dict[str, Any]) -> list[Any]:
    """Bar charts of a published characterisation (none when it was withheld)."""
    if "sex" not in c:
        return []
    charts = [
        bars_svg("Âge (années)", list(c["age"]["bins"].items())),
        bars_svg("Sexe", [(SEX_FR.get(k, k), v) for k, v in c["sex"].items()]),
    ]
    for key, title in TOP_TITLES_FR.items():
        items = (c.get(key) or {}).get("items") or []
        if items:
            cells = [
                (f"{i.get('code') or ''} {i.get('name') or ''}".strip(), i["persons"])
                for i in items
            ]
            charts.append(bars_svg(title, cells))
    return charts

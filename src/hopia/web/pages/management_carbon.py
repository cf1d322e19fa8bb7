"""``/pilotage/carbone``: the carbon footprint of the illustrative inventory (managers).

Totals by BEGES scope as a server-side SVG bar chart with the 95 % interval drawn as a
whisker, the table by post with its uncertainty, a scenario compared to the baseline (chosen
in a form: the shipped scenarios only), the factor table with its sources; each table as CSV
and XLSX (``/pilotage/carbone/<table>.csv|xlsx``), all of them in one workbook. Every read
goes through :mod:`hopia.services.carbon` (``management.read``; the compute line audited)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup, escape

from hopia.platform.scores import fmt_number
from hopia.services import carbon
from hopia.web.pages.common import show, to_login, viewer

router = APIRouter(include_in_schema=False)
SECTION = "/pilotage/carbone"
SCENARIOS = {
    "sortie-desflurane": "Sortie du desflurane",
    "gaz-moins-20": "−20 % de gaz naturel",
    "textiles-reutilisables": "Textiles opératoires réutilisables",
    "menus-vegetariens": "Un repas moyen sur cinq végétarien",
}
METHODS = {"ar5": "GIEC AR5", "ar6": "GIEC AR6"}
SCOPE_SHORT = {1: "Scope 1 : direct", 2: "Scope 2 : énergie", 3: "Scope 3 : indirect"}

BAR_W, ROW_H, LABEL_W = 560, 26, 150


def scopes_svg(scopes: list[carbon.ScopeTotal]) -> Markup:
    """Horizontal bars of tCO2e per scope, each with its 95 % interval as a whisker."""
    top = max((s.tco2e + s.half_width_t for s in scopes), default=0) or 1
    height = ROW_H * len(scopes) + 8
    words = "Émissions par scope : " + " ; ".join(
        f"{SCOPE_SHORT.get(s.scope, s.scope)} {fmt_number(s.tco2e, 0)} tCO2e "
        f"(± {fmt_number(s.half_width_t, 0)})"
        for s in scopes
    )
    parts = [
        f'<svg class="barres" viewBox="0 0 {BAR_W} {height}" width="{BAR_W}" height="{height}"'
        f' role="img" aria-label="{escape(words)}">'
    ]
    room = BAR_W - LABEL_W - 110
    for i, s in enumerate(scopes):
        y = 4 + i * ROW_H
        width = room * s.tco2e / top
        low = LABEL_W + room * max(0.0, s.tco2e - s.half_width_t) / top
        high = LABEL_W + room * (s.tco2e + s.half_width_t) / top
        text = f"{fmt_number(s.tco2e, 0)} t ± {fmt_number(s.half_width_t, 0)}"
        parts.append(
            f'<text class="graduation" x="{LABEL_W - 6}" y="{y + 16}" text-anchor="end">'
            f"{escape(SCOPE_SHORT.get(s.scope, str(s.scope)))}</text>"
            f'<rect class="barre" x="{LABEL_W}" y="{y + 4}" width="{width:.1f}" height="16">'
            f"<title>{escape(text)} tCO2e</title></rect>"
            f'<line class="incertitude" x1="{low:.1f}" y1="{y + 12}" x2="{high:.1f}"'
            f' y2="{y + 12}"/>'
            f'<text class="graduation" x="{high + 4:.1f}" y="{y + 16}">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _choice(scenario: str | None, methode: str | None) -> tuple[str | None, Literal["ar5", "ar6"]]:
    # An unknown value is no choice (a hand-edited address reads as the default); never a path.
    return (
        scenario if scenario in SCENARIOS else None,
        "ar6" if methode == "ar6" else "ar5",
    )


def _query(scenario: str | None, method: str) -> str:
    params = {"scenario": scenario, "methode": method if method != "ar5" else None}
    params = {k: v for k, v in params.items() if v}
    return "?" + urlencode(params) if params else ""


@router.get(SECTION)
def footprint(
    request: Request,
    scenario: Annotated[str | None, Query(max_length=40)] = None,
    methode: Annotated[str | None, Query(max_length=5)] = None,
) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    chosen, method = _choice(scenario, methode)
    result = carbon.report(who.ctx, carbon.ReportRequest.of(scenario=chosen, method=method))
    tables = {t.name: t for t in result.tables}
    return show(
        request,
        who,
        "management/carbon.html",
        SECTION,
        result=result,
        tables=tables,
        chart=scopes_svg(result.scopes),
        scenarios=SCENARIOS,
        methods=METHODS,
        chosen=chosen,
        method=method,
        query=_query(chosen, method),
        keys={v: k for k, v in carbon.TABLES.items()},
        fmt=fmt_number,
    )


@router.get(SECTION + "/{name}.{fmt}")
def table_file(
    request: Request,
    name: str,
    fmt: str,
    scenario: Annotated[str | None, Query(max_length=40)] = None,
    methode: Annotated[str | None, Query(max_length=5)] = None,
) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    if fmt not in ("csv", "xlsx"):
        return Response("format inconnu (csv ou xlsx)", status_code=404)
    chosen, method = _choice(scenario, methode)
    found = carbon.download(
        who.ctx,
        carbon.ReportRequest.of(scenario=chosen, method=method),
        None if name == "rapport" else name,
        fmt,  # type: ignore[arg-type]
    )
    return Response(
        found.content,
        media_type=found.media_type,
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
    )

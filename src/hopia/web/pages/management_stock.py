"""``/pilotage/stock``: the pharmacy's stock alerts and its replenishment policy per ABC × VEN
class, from the files under ``<home>/management/stock`` (``items.csv``, ``movements.csv``,
``orders.csv``; ``hopia stock synth --out <home>/management/stock`` writes a synthetic
pharmacy there), each table downloadable as CSV and XLSX. The service asks
``management.read``."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hopia.platform.exceptions import InvalidRequestError
from hopia.services import stock
from hopia.services.context import Context
from hopia.web.pages.common import show, to_login, viewer

router = APIRouter(include_in_schema=False)
PATH = "/pilotage/stock"
SHOWN_ALERTS = 200
# the downloads: file name -> (what the service computes, which table for CSV)
DOWNLOADS = {
    "alertes": ("alerts", None),
    "politique": ("policy", "politique"),
    "classes": ("policy", "classes ABC x VEN"),
    "stock": ("status", None),
}


def _compute(ctx: Context, what: str) -> stock.StockResult:
    request = stock.SourceRequest.in_folder(stock.default_folder(ctx))
    if what == "alerts":
        return stock.alerts(ctx, request)
    if what == "policy":
        return stock.policy_table(ctx, request)
    return stock.status(ctx, request)


@router.get(PATH)
def page(request: Request) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    folder = stock.default_folder(who.ctx)
    try:
        found = _compute(who.ctx, "alerts")
        plan = _compute(who.ctx, "policy")
    except InvalidRequestError as exc:
        return show(
            request,
            who,
            "management/stock.html",
            PATH,
            422 if (folder / "items.csv").exists() else 200,
            error=exc.message,
            folder=folder,
            absent=not (folder / "items.csv").exists(),
        )
    alerts = found.tables[0]
    return show(
        request,
        who,
        "management/stock.html",
        PATH,
        folder=folder,
        as_of=found.as_of,
        counts=found.counts,
        alerts=alerts,
        alert_rows=alerts.rows[:SHOWN_ALERTS],
        cells=plan.table("classes ABC x VEN"),
        items=found.items,
    )


@router.get(PATH + "/{name}.{fmt}")
def download(request: Request, name: str, fmt: Literal["csv", "xlsx"]) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    if name not in DOWNLOADS:
        return Response("Fichier inconnu", status_code=404, media_type="text/plain")
    what, table = DOWNLOADS[name]
    result = _compute(who.ctx, what)
    media = stock.CSV_MEDIA_TYPE if fmt == "csv" else stock.XLSX_MEDIA_TYPE
    return Response(
        stock.download(result, fmt, table),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="stock-{name}.{fmt}"'},
    )

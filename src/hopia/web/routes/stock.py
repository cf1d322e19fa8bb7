"""``/api/v1/stock``: the pharmacy's stock, policy, alerts (managers), from the files under
``<home>/management/stock`` (:func:`hopia.services.stock.default_folder`)."""

from __future__ import annotations

from fastapi import APIRouter

from hopia.services import stock
from hopia.web.deps import ContextDep
from hopia.web.roles import Allow
from hopia.web.schemas.problem import PROBLEMS

router = APIRouter(
    responses=PROBLEMS,
    prefix="/stock",
    tags=["stock"],
    dependencies=[Allow("management.read")],
)


def _request(ctx: ContextDep) -> stock.SourceRequest:
    return stock.SourceRequest.in_folder(stock.default_folder(ctx))


@router.get("/status", summary="Stock on hand and on order per item, stock per lot")
def status(ctx: ContextDep) -> stock.StockResult:
    return stock.status(ctx, _request(ctx))


@router.get("/policy", summary="Replenishment policy per item and per ABC x VEN cell")
def policy(ctx: ContextDep) -> stock.StockResult:
    return stock.policy_table(ctx, _request(ctx))


@router.get("/alerts", summary="Stock-outs, reorder, expiry and overstock alerts")
def alerts(ctx: ContextDep) -> stock.StockResult:
    return stock.alerts(ctx, _request(ctx))

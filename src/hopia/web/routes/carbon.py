"""``/api/v1/carbon``: the emission factors and the footprint of the illustrative inventory
(managers: ``management.read``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from hopia.services import carbon
from hopia.web.deps import ContextDep
from hopia.web.roles import Allow
from hopia.web.schemas.problem import PROBLEMS

router = APIRouter(
    responses=PROBLEMS,
    prefix="/carbon",
    tags=["carbon"],
    dependencies=[Allow("management.read")],
)

Scenario = Literal[
    "sortie-desflurane", "gaz-moins-20", "textiles-reutilisables", "menus-vegetariens"
]


@router.get("/factors", summary="The emission factor table with sources and years")
def factors(ctx: ContextDep, method: Literal["ar5", "ar6"] | None = None) -> carbon.FactorList:
    return carbon.factors(ctx, carbon.FactorsRequest.of(method=method))


@router.get("/report", summary="Footprint by scope and post of the illustrative inventory")
def report(
    ctx: ContextDep,
    scenario: Annotated[Scenario | None, Query()] = None,
    method: Literal["ar5", "ar6"] = "ar5",
) -> carbon.CarbonResult:
    return carbon.report(ctx, carbon.ReportRequest.of(scenario=scenario, method=method))

"""``/pilotage/lits``: bed needs per service and day (P50/P80/P95) from
:func:`hopia.services.beds.forecast`, a small server-side SVG fan per service (no script), and
the table as CSV or XLSX (``/pilotage/lits.csv``, ``/pilotage/lits.xlsx``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup, escape

from hopia.services import beds
from hopia.web.pages.common import show, to_login, viewer

router = APIRouter(include_in_schema=False)
WIDTH, HEIGHT, LEFT, BOTTOM, TOP, RIGHT = 480, 160, 40, 24, 10, 10


def fan_svg(service: str, needs: list[beds.BedNeed]) -> Markup:
    """The P50 line over the P80 and P95 bands of one service."""
    if not needs:
        return Markup("")
    top = max(max(n.p95 for n in needs), max((n.capacity or 0) for n in needs), 1)
    w, h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = w / max(1, len(needs) - 1)

    def x(i: int) -> float:
        return LEFT + i * step

    def y(v: float) -> float:
        return TOP + h * (1 - v / top)

    def band(low: list[int], high: list[int]) -> str:
        up = [f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(high)]
        down = [f"{x(i):.1f},{y(v):.1f}" for i, v in reversed(list(enumerate(low)))]
        return " ".join(up + down)

    p50 = [n.p50 for n in needs]
    p80 = [n.p80 for n in needs]
    p95 = [n.p95 for n in needs]
    label = (
        f"{service} : de {p50[0]} lits (P50) le {needs[0].day:%d/%m} à {p50[-1]} le "
        f"{needs[-1].day:%d/%m}, jusqu'à {max(p95)} lits au P95"
    )
    parts = [
        f'<svg class="eventail" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label)}">',
        f'<polygon class="p95" points="{band(p50, p95)}"/>',
        f'<polygon class="p80" points="{band(p50, p80)}"/>',
        '<polyline class="p50" points="'
        + " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(p50))
        + '"/>',
        f'<text x="4" y="{y(top) + 4:.1f}">{top}</text>',
        f'<text x="4" y="{y(0):.1f}">0</text>',
        f'<text x="{LEFT}" y="{HEIGHT - 6}">{needs[0].day:%d/%m}</text>',
        f'<text x="{WIDTH - RIGHT - 34}" y="{HEIGHT - 6}">{needs[-1].day:%d/%m}</text>',
    ]
    capacity = needs[0].capacity
    if capacity:
        parts.append(
            f'<line class="capacite" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
            f'y1="{y(capacity):.1f}" y2="{y(capacity):.1f}"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _request(service: int | None, jours: int) -> beds.ForecastRequest:
    return beds.ForecastRequest.of(site=service, days=jours)


@router.get("/pilotage/lits")
def bed_needs(
    request: Request,
    service: Annotated[int | None, Query(ge=0)] = None,
    jours: Annotated[int, Query(ge=1, le=60)] = 14,
) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    result = beds.forecast(who.ctx, _request(service, jours))
    by_site: dict[int, list[beds.BedNeed]] = {}
    for n in result.needs:
        by_site.setdefault(n.care_site_id, []).append(n)
    # services with patients in bed first (an empty or uncoded one, e.g. "Service non
    # renseigné", would otherwise head the page with a flat line)
    fans = [
        (s.service, s.in_bed, fan_svg(s.service, by_site.get(s.care_site_id, [])))
        for s in sorted(result.services, key=lambda s: s.in_bed == 0)
    ]
    query = "?" + "&".join(
        f"{k}={v}" for k, v in (("service", service), ("jours", jours)) if v is not None
    )
    return show(
        request,
        who,
        "management/beds.html",
        "/pilotage/lits",
        result=result,
        fans=fans,
        query=query,
        service=service,
        jours=jours,
    )


@router.get("/pilotage/lits.{fmt}")
def download(
    request: Request,
    fmt: str,
    service: Annotated[int | None, Query(ge=0)] = None,
    jours: Annotated[int, Query(ge=1, le=60)] = 14,
) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    if fmt not in beds.MEDIA_TYPES:
        return Response("format inconnu (csv ou xlsx)", status_code=404, media_type="text/plain")
    result = beds.forecast(who.ctx, _request(service, jours))
    name = f"besoins-lits-{result.origin:%Y-%m-%d}.{fmt}"
    return Response(
        beds.download(result, fmt),  # type: ignore[arg-type]
        media_type=beds.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )

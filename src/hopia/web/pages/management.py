"""``/pilotage``: the manager's entry to axis 4 — one card per dashboard (activity indicators,
forecasts, bed needs, roster, stock, carbon footprint), each saying what it shows and from
which data. The dashboards themselves are ``pages/management_<tool>.py``; the navigation has
one "Pilotage" entry for them all."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hopia.platform.exceptions import AccessDeniedError
from hopia.web.pages.common import show, to_login, viewer

router = APIRouter(include_in_schema=False)
SECTION = "/pilotage"

# (address, title, what it shows) in the order a directorate reads them
DASHBOARDS: tuple[tuple[str, str, str], ...] = (
    (
        "/pilotage/activite",
        "Indicateurs d'activité",
        "Séjours, entrées, durée de séjour, réhospitalisations à 30 jours et case-mix par "
        "service et par mois, calculés sur l'entrepôt (petits effectifs masqués).",
    ),
    (
        "/pilotage/previsions",
        "Prévisions d'activité",
        "Entrées des prochains jours avec leur incertitude (éventail P5–P95), par service.",
    ),
    (
        "/pilotage/lits",
        "Besoins en lits",
        "Occupation prévue à 14 jours par service : besoins P50, P80 et P95.",
    ),
    (
        "/pilotage/planning",
        "Planning infirmier",
        "Roulement de l'équipe sur plusieurs semaines couvrant la charge prévue, règles "
        "françaises du temps de travail comprises.",
    ),
    (
        "/pilotage/stock",
        "Achats et stocks",
        "Alertes de rupture et de péremption, points de commande par classe ABC × VEN.",
    ),
    (
        "/pilotage/carbone",
        "Bilan carbone",
        "Émissions par scope et par poste avec leur incertitude, scénarios de réduction.",
    ),
)


@router.get(SECTION)
def hub(request: Request) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    if not who.may("management.read"):
        raise AccessDeniedError(
            "action « management.read » non autorisée pour votre rôle",
            details={"action": "management.read"},
        )
    return show(request, who, "management/index.html", SECTION, dashboards=DASHBOARDS)

"""``/login``, ``/logout`` and ``/`` (the home page): the pages of local accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hopia.platform.exceptions import AuthenticationError
from hopia.services import accounts
from hopia.web.auth.oidc_pages import provider_logout_url
from hopia.web.cookies import clear_session, session_token, set_session
from hopia.web.deps import anonymous_context, client_address, context_for, current_account
from hopia.web.pages import csrf
from hopia.web.pages.common import show, to_login, viewer
from hopia.web.pages.render import page

router = APIRouter(include_in_schema=False)


def _login_page(
    request: Request, status: int = 200, error: str | None = None, user: str = ""
) -> Response:
    token = csrf.token_for(request)
    response = page(request, "login.html", status, csrf=token, error=error, username=user)
    csrf.set_token(response, request, token)
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
) -> Response:
    csrf.check(request, token)
    ctx = anonymous_context(request)
    try:
        done = accounts.login(
            ctx,
            accounts.LoginRequest.of(
                username=username, password=password, client=client_address(request)
            ),
        )
    except AuthenticationError as exc:
        return _login_page(request, exc.http_status, exc.message, username)
    response = RedirectResponse("/", status_code=303)
    set_session(response, request, ctx.settings, done.token, done.expires_at)
    return response


@router.post("/logout")
def logout(request: Request, token: Annotated[str, Form(alias=csrf.FIELD)] = "") -> Response:
    """Close the session here; when it was opened through the identity provider (OIDC) and
    the provider has a logout endpoint, send the browser there too (RP-initiated logout), or
    the next "se connecter avec…" would find the provider's session still open."""
    csrf.check(request, token)
    session = session_token(request)
    id_token = None
    if session:
        try:
            account = current_account(request)
            id_token = accounts.logout(context_for(request, account.principal()), session)
        except AuthenticationError:
            pass  # already closed: the cookie goes all the same
    target = provider_logout_url(request, id_token) if id_token else None
    response = RedirectResponse(target or "/login", status_code=303)
    clear_session(response, request, request.app.state.settings)
    return response


@router.get("/")
def home(request: Request) -> Response:
    who = viewer(request)
    if who is None:
        return to_login()
    cards = [card for card, action in HOME_CARDS if who.may(action)]
    return show(request, who, "home.html", "/", roles=who.role_labels(), cards=cards)


# The home page's entries, each shown to the roles that may do its action.
HOME_CARDS = (
    (
        {
            "href": "/documents",
            "title": "Documents de vos patients",
            "text": "Recherche en texte intégral dans les documents identifiés des patients "
            "de votre périmètre, entités et dossier patient.",
        },
        "document.identified",
    ),
    (
        {
            "href": "/documents",
            "title": "Documents pseudonymisés",
            "text": "Recherche dans l'espace de recherche (textes pseudonymisés, dates décalées).",
        },
        "document.research",
    ),
    (
        {
            "href": "/dictee",
            "title": "Dictée",
            "text": "Dictez une note (au téléphone ou au bureau) : brouillon structuré et codé, "
            "relu puis validé dans le dossier du patient.",
        },
        "dictation.draft",
    ),
    (
        {
            "href": "/cohorts",
            "title": "Cohortes",
            "text": "Définir une cohorte (texte avec qualificatifs, diagnostics, médicaments, "
            "biologie), l'enregistrer, la lancer : attrition et caractérisation.",
        },
        "cohort.run",
    ),
    (
        {
            "href": "/quality",
            "title": "Qualité des données",
            "text": "Les contrôles de l'entrepôt : réussis, échoués, non applicables.",
        },
        "quality.history",
    ),
    (
        {
            "href": "/jobs",
            "title": "Tâches de fond",
            "text": "Import, contrôle qualité, export : avancement, résultat ou erreur.",
        },
        "jobs.read",
    ),
    (
        {
            "href": "/audit",
            "title": "Journal d'audit",
            "text": "Qui a consulté quoi : filtres, accès par bris de glace, vérification.",
        },
        "audit.browse",
    ),
    (
        {
            "href": "/admin/accounts",
            "title": "Comptes",
            "text": "Créer les comptes, leurs rôles et leur périmètre ; désactiver, "
            "déverrouiller, définir un mot de passe.",
        },
        "account.list",
    ),
)

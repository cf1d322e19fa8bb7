"""``/api/v1/auth``: login (a session cookie), logout, the logged-in user."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from hopia.services import accounts
from hopia.web.auth.oidc_pages import provider_logout_url
from hopia.web.cookies import clear_session, session_token, set_session
from hopia.web.deps import AnonymousContext, ContextDep, CurrentUser, client_address
from hopia.web.schemas.auth import LoggedOut, LoginBody, Me
from hopia.web.schemas.problem import PROBLEMS

router = APIRouter(prefix="/auth", tags=["auth"], responses=PROBLEMS)


@router.post("/login", summary="Log in with a local account; sets the session cookie")
def login(body: LoginBody, request: Request, response: Response, ctx: AnonymousContext) -> Me:
    done = accounts.login(
        ctx,
        accounts.LoginRequest.of(
            username=body.username, password=body.password, client=client_address(request)
        ),
    )
    set_session(response, request, ctx.settings, done.token, done.expires_at)
    return Me.of(done.account)


@router.post(
    "/logout",
    summary="Close the session and clear its cookie; the identity provider's logout URL if any",
)
def logout(request: Request, response: Response, ctx: ContextDep) -> LoggedOut:
    token = session_token(request)
    id_token = accounts.logout(ctx, token) if token else None
    clear_session(response, request, ctx.settings)
    url = provider_logout_url(request, id_token) if id_token else None
    return LoggedOut(provider_logout_url=url)


@router.get("/me", summary="The logged-in user: roles, perimeter, allowed actions")
def me(user: CurrentUser) -> Me:
    return Me.of(user)

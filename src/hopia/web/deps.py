"""The request's dependencies: who is logged in, and the service context they act in.

``ContextDep`` is what a route takes to call a service: the settings, the principal of the
session (roles, perimeter), the web's access policy and the application's warehouse, shared by
every request (the context never closes it). ``CurrentUser`` is the session's account.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hopia.platform.access import Principal
from hopia.platform.config import Settings
from hopia.platform.identity.store import Account
from hopia.platform.warehouse import Warehouse
from hopia.services import accounts
from hopia.services.context import Context
from hopia.services.jobs import JobRunner
from hopia.web.cookies import session_token

ANONYMOUS = Principal("anonyme")


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def warehouse_of(request: Request) -> Warehouse:
    return request.app.state.warehouse


def context_for(request: Request, principal: Principal) -> Context:
    """A service context on the application's warehouse (handed over: not closed here)."""
    state = request.app.state
    return Context(
        state.settings,
        principal,
        state.policy,
        _warehouse=state.warehouse,
        _owns_warehouse=False,
        _migrated=state.schema_ready,
    )


def job_runner(request: Request) -> JobRunner | None:
    """The runner ``hopia serve`` started (told at once of a job submitted), or None: the job
    waits for a worker (``hopia jobs worker``, on PostgreSQL) — tests run it themselves."""
    return getattr(request.app.state, "runner", None)


def anonymous_context(request: Request) -> Context:
    """The context of a caller not logged in (the login itself)."""
    return context_for(request, ANONYMOUS)


def client_address(request: Request) -> str | None:
    """The client's address (uvicorn resolves X-Forwarded-For from trusted proxies only)."""
    return request.client.host if request.client else None


def current_account(request: Request) -> Account:
    """The session's account; 401 (``authentication_required``) without a live session."""
    cached = getattr(request.state, "account", None)
    if cached is not None:
        return cached
    account = accounts.authenticate(anonymous_context(request), session_token(request))
    request.state.account = account
    return account


def user_context(
    request: Request, account: Annotated[Account, Depends(current_account)]
) -> Context:
    return context_for(request, account.principal())


CurrentUser = Annotated[Account, Depends(current_account)]
ContextDep = Annotated[Context, Depends(user_context)]
AnonymousContext = Annotated[Context, Depends(anonymous_context)]
RunnerDep = Annotated[JobRunner | None, Depends(job_runner)]

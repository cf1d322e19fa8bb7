"""The route side of the role x action rules.

The rules are :data:`hopia.platform.identity.roles.RULES`, applied by the services through the
access policy (so a service refuses whatever calls it). A router states the action its routes
serve with :func:`Allow`: a user whose roles have no rule for it gets 403 before anything is
parsed or read, and the refusal is audited as the services audit theirs. What a rule's scope
(perimeter) allows is judged by the service, on the resource.
"""

from __future__ import annotations

from fastapi import Depends

from hopia.platform.exceptions import AccessDeniedError
from hopia.platform.identity.roles import may
from hopia.services.context import Context
from hopia.web.deps import ContextDep


def Allow(*actions: str) -> object:  # noqa: N802 - reads as a declaration: Allow("cohort.run")
    """A dependency: the user's roles allow one of ``actions`` (any scope)."""

    def check(ctx: ContextDep) -> Context:
        if not any(may(ctx.principal, a) for a in actions):
            roles = ", ".join(sorted(ctx.principal.roles)) or "aucun"
            error = AccessDeniedError(
                f"action « {actions[0]} » non autorisée pour votre rôle ({roles})",
                details={"action": actions[0]},
            )
            ctx.audit_refusal(actions[0], "api", error)
            raise error
        return ctx

    return Depends(check)

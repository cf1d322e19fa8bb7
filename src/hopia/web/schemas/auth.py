"""Login and the logged-in user."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hopia.platform.identity.roles import RULES, Role
from hopia.platform.identity.store import Account


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(examples=["dr.martin"])
    password: str = Field(examples=["une phrase de passe longue"])


class LoggedOut(BaseModel):
    """The answer of ``POST /api/v1/auth/logout``."""

    logged_out: bool = True
    """The session is closed here and its cookie cleared."""
    provider_logout_url: str | None = None
    """For a session opened through the identity provider (OIDC), the provider's logout URL
    (RP-initiated logout, with ``id_token_hint``), for the client to send the browser to, or
    the provider's session stays open; None for a local session, or when the provider has no
    logout endpoint or cannot be reached."""


class Me(BaseModel):
    username: str
    display_name: str | None
    roles: list[str]
    care_sites: list[int]
    actions: list[str]
    """The actions the roles allow (what a front end offers); the services still judge each."""

    @classmethod
    def of(cls, account: Account) -> Me:
        actions = sorted(
            {a for r in account.roles if r in Role.__members__.values() for a in RULES[Role(r)]}
        )
        return cls(
            username=account.username,
            display_name=account.display_name,
            roles=list(account.roles),
            care_sites=list(account.care_sites),
            actions=actions,
        )

"""Login and the logged-in user."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hopia.platform.identity.roles import RULES, Role
from hopia.platform.identity.store import Account


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(examples=["dr.martin"])
    password: str = Field(examples=["une phrase de passe longue"])


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

"""Accounts as the API shows them: never a password hash."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hopia.platform.identity.store import Account
from hopia.platform.times import UtcDatetime


class AccountOut(BaseModel):
    username: str
    display_name: str | None
    roles: list[str]
    care_sites: list[int]
    active: bool
    has_password: bool
    locked_until: UtcDatetime | None
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        return cls(
            username=account.username,
            display_name=account.display_name,
            roles=list(account.roles),
            care_sites=list(account.care_sites),
            active=account.active,
            has_password=account.has_password,
            locked_until=account.locked_until,
            created_at=account.created_at,
            updated_at=account.updated_at,
        )


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(examples=["dr.martin"])
    password: str | None = Field(None, examples=["une phrase de passe longue"])
    roles: list[str] = Field(examples=[["clinician"]])
    care_sites: list[int] = Field(default_factory=list, examples=[[1]])
    display_name: str | None = None


class AccountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: list[str] | None = None
    care_sites: list[int] | None = None
    active: bool | None = None
    display_name: str | None = None


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str

"""``/api/v1/accounts``: local accounts, roles and perimeters (admin); every change audited."""

from __future__ import annotations

from fastapi import APIRouter

from hopia.services import accounts
from hopia.web.deps import ContextDep
from hopia.web.roles import Allow
from hopia.web.schemas.accounts import AccountCreate, AccountOut, AccountUpdate, PasswordChange
from hopia.web.schemas.problem import PROBLEMS

router = APIRouter(
    responses=PROBLEMS, prefix="/accounts", tags=["accounts"], dependencies=[Allow("account.list")]
)


@router.get("", summary="Every account")
def list_accounts(ctx: ContextDep) -> list[AccountOut]:
    return [AccountOut.of(a) for a in accounts.list_accounts(ctx)]


@router.post("", status_code=201, summary="Create an account (roles; perimeter for clinicians)")
def create_account(body: AccountCreate, ctx: ContextDep) -> AccountOut:
    request = accounts.CreateAccountRequest.of(**body.model_dump())
    return AccountOut.of(accounts.create_account(ctx, request))


@router.get("/{username}", summary="One account")
def get_account(username: str, ctx: ContextDep) -> AccountOut:
    return AccountOut.of(accounts.get_account(ctx, accounts.UsernameRequest.of(username=username)))


@router.patch("/{username}", summary="Change roles, perimeter, name or state (closes sessions)")
def update_account(username: str, body: AccountUpdate, ctx: ContextDep) -> AccountOut:
    request = accounts.UpdateAccountRequest.of(
        username=username, **body.model_dump(exclude_unset=True)
    )
    return AccountOut.of(accounts.update_account(ctx, request))


@router.put("/{username}/password", summary="Set a new password (lifts a lockout)")
def set_password(username: str, body: PasswordChange, ctx: ContextDep) -> AccountOut:
    request = accounts.PasswordRequest.of(username=username, password=body.password)
    return AccountOut.of(accounts.set_password(ctx, request))

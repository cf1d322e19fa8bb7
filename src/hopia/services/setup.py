"""Set-up service: ``hopia init`` makes an installation ready, explicitly and idempotently.

It creates the key files that are neither configured nor present (the pseudonymisation secret
and the vault key, mode 0600, under ``home``) and creates or migrates the warehouse schema.
Nothing else creates keys, except the first ingest, which needs them to write anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from hopia.platform.keys import KeyStatus, init_keys
from hopia.services.context import Context


@dataclass(frozen=True)
class InitResult:
    keys: KeyStatus
    warehouse: str  # the warehouse URL, password hidden
    dialect: str


def init(ctx: Context) -> InitResult:
    ctx.authorize("setup.init", "installation")
    status = init_keys(ctx.settings)
    wh = ctx.warehouse()  # opening migrates the schema to the latest version
    return InitResult(status, wh.display_url, wh.dialect)

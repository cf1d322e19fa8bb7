"""Set-up service: ``hopia init`` makes an installation ready, explicitly and idempotently.

- Keys: it creates the key files that are neither configured nor present (the pseudonymisation
  secret, the vault key and the audit key; mode 0600 in a 0700 home). It never replaces a key,
  and it refuses to create a secret or a vault key for a warehouse that already holds data:
  that key must be restored from the backup (:func:`hopia.platform.keys.init_keys`). Nothing
  else creates keys (``hopia demo`` calls this for its own demo home).
- Warehouse: it creates or migrates the schema.
- Audit log: it anchors the log (:func:`hopia.platform.audit.reanchor`) when its head has no
  checkpoint yet: a new warehouse, or one from before the keyed chain, whose unkeyed chain is
  checked first. This is the migration path of an existing warehouse (the demo's included):
  run ``hopia init`` once with this version. The anchoring is itself an audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select

from hopia.platform import audit
from hopia.platform.exceptions import AuditError
from hopia.platform.files import private_dir
from hopia.platform.keys import KeyStatus, init_keys
from hopia.platform.warehouse import Warehouse, schema
from hopia.services.context import Context

# Tables whose rows mean "this warehouse holds data made with the current keys".
_DATA_TABLES = ("patient", "document", "vault_patient", "vault_entry", "audit_log")


@dataclass(frozen=True)
class InitResult:
    keys: KeyStatus
    warehouse: str  # the warehouse URL, password hidden
    dialect: str
    audit: str  # "anchored" (checkpoint written now), "present" (already anchored)
    audit_entries: int = 0


def init(ctx: Context) -> InitResult:
    ctx.authorize("setup.init", "installation")
    private_dir(ctx.settings.home)
    wh = ctx.warehouse()  # opening migrates the schema to the latest version
    status = init_keys(ctx.settings, data_exists=holds_data(wh))
    bound = ctx.audit_anchor(wh)
    with wh.engine.connect() as conn:
        if audit.read_checkpoint(bound) is not None:
            return InitResult(status, wh.display_url, wh.dialect, "present")
        checked = audit.reanchor(conn, bound)
    if not checked.ok:
        raise AuditError(
            f"journal d'audit invalide, non ancré : {checked.problem} (entrée "
            f"{checked.broken_at}) ; l'installation est prête sauf son journal",
            details={"broken_at": checked.broken_at},
        )
    with wh.begin() as conn:  # the anchoring, on the record (and checkpointed after commit)
        details = {"entries": checked.entries, "head": checked.head_id or 0}
        audit.record(conn, ctx.actor, "audit.anchor", "audit_log", None, details)
    return InitResult(status, wh.display_url, wh.dialect, "anchored", checked.entries)


def holds_data(wh: Warehouse) -> bool:
    """Whether the warehouse already holds identities, documents, vault entries or audit
    entries: data made under keys that must not be replaced."""
    tables = [t for t in schema.metadata.sorted_tables if t.name in _DATA_TABLES]
    with wh.engine.connect() as conn:
        return any(conn.execute(select(exists().select_from(t))).scalar() for t in tables)

"""What every service call runs with, and the shape of its requests.

A front end (the CLI, the web API and pages, the job runner; the assistant tomorrow) is a
composition root: it reads the settings once, says who acts, and builds a :class:`Context`.
Services take that context and a typed request, check the rules (reason, thresholds, the access
policy), write the audit record and return a typed result. A front end never validates, audits
or opens the warehouse by itself.

>>> from hopia.platform.config import Settings
>>> with Context.local(Settings(home="/tmp/hopia-doc")) as ctx:  # doctest: +SKIP
...     result = reidentify_note(ctx, ReidentifyRequest(note_id=12, reason="demande du DIM"))
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import Connection

from hopia.platform import audit, keys
from hopia.platform.access import (
    AccessPolicy,
    LocalOperatorPolicy,
    Principal,
    Purpose,
    check_reason,
)
from hopia.platform.config import Settings
from hopia.platform.exceptions import (
    AccessDeniedError,
    HopiaError,
    InvalidRequestError,
    ReasonRequiredError,
)
from hopia.platform.warehouse import AFTER_END, Warehouse

REFUSED_ACTION = "access.refused"


@dataclass
class Context:
    """Settings, principal and access policy of one front-end session; the warehouse is opened
    on first use and closed with the context."""

    settings: Settings
    principal: Principal
    policy: AccessPolicy = field(default_factory=LocalOperatorPolicy)
    _warehouse: Warehouse | None = field(default=None, repr=False)
    _owns_warehouse: bool = field(default=False, repr=False)
    _migrated: bool = field(default=False, repr=False)

    @classmethod
    def local(cls, settings: Settings, actor: str | None = None) -> Context:
        """The context of the local operator (the CLI); ``actor`` names the requester on whose
        behalf the operator acts, for the audit log."""
        return cls(settings, Principal.local(actor))

    @property
    def actor(self) -> str:
        """Who the audit log names."""
        return self.principal.actor

    def warehouse(self, *, migrate: bool = True) -> Warehouse:
        """The configured warehouse, opened once per context; its audit log is keyed and
        checkpointed with this installation's audit key (:meth:`audit_anchor`).

        A writing service (init, ingest, loads) opens it migrated to the latest schema; a
        service that only reads passes ``migrate=False`` (through
        :func:`hopia.services.warehouse.existing_warehouse`): nothing is created or migrated,
        an absent or older schema is a :class:`~hopia.platform.exceptions.WarehouseSchemaError`
        naming ``hopia init`` — the same on DuckDB and PostgreSQL."""
        if self._warehouse is None:
            url = self.settings.resolved_warehouse_url()
            opened = Warehouse(url, migrate=migrate)
            try:
                if not migrate:
                    opened.check_schema()
            except HopiaError:
                opened.close()
                raise
            self._warehouse, self._owns_warehouse, self._migrated = opened, True, migrate
            audit.anchor(opened.engine, self.audit_anchor(opened))
        elif migrate and not self._migrated:  # read first, now a write: migrate it now
            self._warehouse.migrate()
            self._migrated = True
        return self._warehouse

    def use_warehouse(self, warehouse: Warehouse) -> None:
        """Work on ``warehouse`` instead of the configured one (the demo's own file, a web
        application's shared engine, tests). The caller keeps it: the context never closes it."""
        self.close()
        self._warehouse, self._migrated = warehouse, True  # the caller opened it as it wants
        audit.anchor(warehouse.engine, self.audit_anchor(warehouse))

    def audit_anchor(self, warehouse: Warehouse) -> audit.AuditAnchor:
        """The audit key (loaded when first needed) and the head checkpoint of ``warehouse``,
        under ``<home>/audit``: beside the keys, outside the warehouse."""
        return audit.AuditAnchor(
            folder=Path(self.settings.home) / "audit",
            warehouse=warehouse.display_url,
            load_key=lambda: keys.load_audit_key(self.settings),
        )

    def authorize(self, action: str, resource: str, *, conn: Connection | None = None) -> None:
        """Ask the access policy before anything is read (raises ``AccessDeniedError``). A
        refusal is written to the audit log (who, what, on what, why; no data).

        ``conn``: the transaction of the audited read (:meth:`Warehouse.begin`), opened before
        the check so that what the policy reads to judge (a clinician's perimeter), the read
        and its audit entry are one transaction. The refusal is then recorded once that
        transaction has rolled back (its own transaction, after the writers' turn), before the
        error leaves the service."""
        try:
            self.policy.check(self.principal, action, resource, conn)
        except AccessDeniedError as exc:
            self._refused(action, resource, exc, conn)
            raise

    def check_reason(
        self,
        reason: str | None,
        purpose: Purpose,
        action: str,
        resource: str,
        *,
        conn: Connection | None = None,
    ) -> str:
        """:func:`hopia.platform.access.check_reason`, the refusal audited as the policy's are
        (the refused reason itself is not recorded: only its length); ``conn`` as for
        :meth:`authorize`."""
        try:
            return check_reason(reason, purpose)
        except ReasonRequiredError as exc:
            exc.details.setdefault("reason_chars", len((reason or "").strip()))
            self._refused(action, resource, exc, conn)
            raise

    def _refused(
        self, action: str, resource: str, error: HopiaError, conn: Connection | None
    ) -> None:
        hooks = conn.info.get(AFTER_END) if conn is not None else None
        if hooks is None:  # no transaction of Warehouse.begin to outlive: recorded now
            self.audit_refusal(action, resource, error)
            return
        error.details["audited"] = False  # until the transaction has rolled back
        hooks.append(lambda: self.audit_refusal(action, resource, error))

    def audit_refusal(self, action: str, resource: str, error: HopiaError) -> None:
        """Record a refused access (``access.refused``): the actor, the action asked, the
        resource, the error's code and message. Nothing is read, and nothing is created: when
        this installation has no warehouse yet, there is nothing to protect and nothing to
        record. A refusal that cannot be recorded stays a refusal: the error goes on as is,
        with ``details["audited"]`` false."""
        details = {"action": action, "code": error.code, "why": error.message[:500]}
        details.update({k: v for k, v in error.details.items() if k in ("reason_chars",)})
        try:
            if self._warehouse is not None:
                self._record_refusal(self._warehouse, resource, details)
            elif self._configured_warehouse_exists():
                # Recording a refusal never creates nor migrates a schema: without one, the
                # insert fails and the refusal stands unaudited.
                wh = Warehouse(self.settings.resolved_warehouse_url(), migrate=False)
                try:
                    audit.anchor(wh.engine, self.audit_anchor(wh))
                    self._record_refusal(wh, resource, details)
                finally:
                    wh.close()
            else:
                error.details["audited"] = False
                return
        except Exception:  # noqa: BLE001 - whatever stops the record, the refusal stands
            error.details["audited"] = False
            return
        error.details["audited"] = True

    def _record_refusal(self, wh: Warehouse, resource: str, details: dict[str, Any]) -> None:
        with wh.begin() as conn:
            audit.record(conn, self.actor, REFUSED_ACTION, resource, None, details)

    def _configured_warehouse_exists(self) -> bool:
        url = self.settings.resolved_warehouse_url()
        if url.startswith("duckdb:///"):
            path = Path(url[len("duckdb:///") :].split("?", 1)[0])
            with contextlib.suppress(OSError):
                return path.stat().st_size > 0
            return False
        return True  # a server database exists before Hopia connects to it

    def secret(self) -> bytes:
        """The pseudonymisation secret (``hopia init`` creates it)."""
        return keys.load_secret(self.settings)

    def vault_key(self) -> bytes:
        """The re-identification vault key (``hopia init`` creates it)."""
        return keys.load_vault_key(self.settings)

    def audit_key(self) -> bytes:
        """The audit log's HMAC key (``hopia init`` creates it)."""
        return keys.load_audit_key(self.settings)

    def close(self) -> None:
        """Close the warehouse this context opened (one handed over is the caller's)."""
        if self._warehouse is not None and self._owns_warehouse:
            self._warehouse.close()
        self._warehouse, self._owns_warehouse, self._migrated = None, False, False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Pydantic's error types, in French, for the messages a person reads.
_PYDANTIC_FR = {
    "missing": "valeur obligatoire",
    "greater_than": "doit être supérieur à {gt}",
    "greater_than_equal": "doit être supérieur ou égal à {ge}",
    "less_than": "doit être inférieur à {lt}",
    "less_than_equal": "doit être inférieur ou égal à {le}",
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "float_parsing": "nombre attendu",
    "float_type": "nombre attendu",
    "bool_parsing": "booléen attendu",
    "date_from_datetime_parsing": "date AAAA-MM-JJ attendue",
    "date_parsing": "date AAAA-MM-JJ attendue",
    "date_type": "date AAAA-MM-JJ attendue",
    "literal_error": "valeurs possibles : {expected}",
    "enum": "valeurs possibles : {expected}",
    "string_type": "chaîne de caractères attendue",
    "string_too_short": "au moins {min_length} caractère(s)",
    "extra_forbidden": "champ inconnu",
    "string_too_long": "au plus {max_length} caractère(s)",
    "string_pattern_mismatch": "format incorrect",
    "too_short": "au moins {min_length} élément(s)",
    "list_type": "liste attendue",
    "dict_type": "objet attendu",
    "model_attributes_type": "objet attendu",
    "json_invalid": "JSON invalide",
}


class Request(BaseModel):
    """Base of every service request: immutable, unknown fields refused. Build it with
    :meth:`of` to get a French :class:`InvalidRequestError` naming the fields at fault."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    @classmethod
    def of(cls, **values: Any) -> Self:
        try:
            return cls(**values)
        except ValidationError as exc:
            raise invalid_request(exc) from None


def invalid_request(exc: ValidationError) -> InvalidRequestError:
    """A pydantic error as Hopia's, in French: one part per field, fields listed."""
    fields, message = french_errors(exc.errors(include_url=False, include_input=False))
    return InvalidRequestError(message, fields=fields)


def french_errors(errors: Iterable[Mapping[str, Any]]) -> tuple[list[str], str]:
    """Pydantic's error list (``ValidationError.errors()``, FastAPI's request errors) as the
    fields at fault and one French message naming each."""
    fields: list[str] = []
    parts: list[str] = []
    for error in errors:
        name = ".".join(str(p) for p in error["loc"]) or "requête"
        fields.append(name)
        template = _PYDANTIC_FR.get(error["type"])
        context = error.get("ctx") or {}
        try:
            text = template.format(**context) if template else error["msg"]
        except (KeyError, IndexError):
            text = error["msg"]
        text = text.replace("' or '", "' ou '")  # pydantic's list of expected values
        parts.append(f"« {name} » : {text}")
    return fields, "requête invalide : " + " ; ".join(parts)

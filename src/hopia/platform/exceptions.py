"""Hopia's one exception hierarchy, as scikit-learn's ``exceptions.py``: every error Hopia raises
on purpose is a :class:`HopiaError` defined here.

An error carries what every front end needs to phrase it its own way:

- ``code``: a stable identifier (``reason_required``), for programs and tests;
- ``message``: French, for the person who acts on it; it never names a command-line flag or an
  HTTP field, because the same error reaches the CLI, the web API, the assistant and the jobs;
- ``fields``: the request fields concerned (``("reason",)``). The CLI turns them into its flags
  (``--reason``), the API returns them as they are;
- ``http_status``: the status a web front end answers with.

>>> err = ReasonRequiredError("motif obligatoire", fields=("reason",))
>>> err.code, str(err), err.fields
('reason_required', 'motif obligatoire', ('reason',))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from hopia.platform.pathnames import printable


class HopiaError(Exception):
    """Base class of every error Hopia raises on purpose."""

    code: ClassVar[str] = "hopia_error"
    http_status: ClassVar[int] = 400

    def __init__(
        self,
        message: str,
        *,
        fields: Sequence[str] = (),
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = tuple(fields)
        self.details = dict(details or {})

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """The error as a front end sends it (no traceback, no data beyond the message)."""
        return {
            "code": self.code,
            "message": self.message,
            "fields": list(self.fields),
            "details": self.details,
        }


# -- the request and its caller ------------------------------------------------------------------


class InvalidRequestError(HopiaError):
    """A value of the request is missing, malformed or out of range."""

    code = "invalid_request"
    http_status = 422


class ReasonRequiredError(InvalidRequestError):
    """An access to identified data, or a data release, was asked without a valid reason."""

    code = "reason_required"


class AccessDeniedError(HopiaError):
    """The access policy refuses the action to this user."""

    code = "access_denied"
    http_status = 403


class AuthenticationError(HopiaError):
    """No valid session, or a login with a wrong user name or password (never says which)."""

    code = "authentication_required"
    http_status = 401


class AccountLockedError(AuthenticationError):
    """Too many failed logins in a row: the account is locked for a while."""

    code = "account_locked"
    http_status = 429


class LoginRateLimitedError(AccountLockedError):
    """Too many failed logins from one client address, whatever the accounts tried."""

    code = "too_many_attempts"


class ExternalLoginError(AuthenticationError):
    """A login through an identity provider (OIDC) failed: the provider refused or could not be
    reached, or its answer does not match the login started here (state, nonce, signature)."""

    code = "external_login_failed"


class ExternalLoginRefusedError(AccessDeniedError):
    """The identity provider vouched for the user, but Hopia refuses them: no Hopia role in
    the claims, a disabled account, a name taken by a local account."""

    code = "external_login_refused"


class PasswordPolicyError(InvalidRequestError):
    """A new password is too short or too common."""

    code = "weak_password"


class NotFoundError(HopiaError):
    """What the request names does not exist (a note, a file, a model)."""

    code = "not_found"
    http_status = 404


class ConflictError(HopiaError):
    """The request would overwrite or contradict what exists (a non-empty output folder, rows
    with the same identifiers); ``fields`` names the inputs that allow it."""

    code = "conflict"
    http_status = 409


# -- platform ------------------------------------------------------------------------------------


class ConfigError(HopiaError):
    """The configuration is invalid or unsafe."""

    code = "config_invalid"
    http_status = 500


class KeysMissingError(ConfigError):
    """The pseudonymisation secret or the vault key is neither configured nor initialised."""

    code = "keys_missing"


class MissingExtraError(ConfigError):
    """An optional part of Hopia is not installed (``pip install 'hopia[nlp]'``)."""

    code = "missing_extra"


class WarehouseError(HopiaError):
    """The warehouse cannot be reached, migrated or written."""

    code = "warehouse_unavailable"
    http_status = 503


class WarehouseBusyError(WarehouseError):
    """Another job holds the warehouse (an ingest writing, or a process holding the DuckDB
    file); the message names it (run, start, process)."""

    code = "warehouse_busy"
    http_status = 409


class WarehouseSchemaError(WarehouseError):
    """A command that only reads found no Hopia schema, or an older one, in the warehouse: it
    never creates nor migrates it; the message names the command that does (``hopia init``)."""

    code = "warehouse_schema_outdated"
    http_status = 409


class AuditError(HopiaError):
    """An audit entry cannot be written."""

    code = "audit_failed"
    http_status = 500


class RegistryError(HopiaError):
    """A component name is unknown, or registered twice."""

    code = "unknown_component"
    http_status = 422


class ModelError(HopiaError):
    """A packaged or trained model cannot be loaded, or its training data cannot be used."""

    code = "model_unavailable"
    http_status = 500


class JobCancelledError(HopiaError):
    """A running job stops because its cancellation was asked (or its row was closed by
    someone else: read as interrupted); raised at its next progress report."""

    code = "cancelled"
    http_status = 409


class JobQueueError(HopiaError):
    """The job queue (the Redis broker of ``jobs.broker_url``) cannot be reached; the job is
    recorded as failed, with this message."""

    code = "job_queue_unavailable"
    http_status = 503


# -- axis 1: clinical data -----------------------------------------------------------------------


class SourceError(HopiaError):
    """An input file (or one record of it) cannot be read: a document to ingest, a patient
    registry, an annotated corpus, a JSONL line. Carries the place (``file`` or ``file#Lnn``)
    and the reason; the ingest records it and goes on."""

    code = "unreadable_source"
    http_status = 422

    def __init__(self, path: str | Path, reason: str) -> None:
        # A file name that is not UTF-8 in the form that can be printed and stored.
        self.path = printable(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}", details={"path": self.path})


class PseudonymisationError(HopiaError):
    """Pseudonymisation failed; the text must not leave the identified space."""

    code = "pseudonymisation_failed"
    http_status = 500


class VaultError(HopiaError):
    """The re-identification vault cannot be read or written: wrong key, unknown note."""

    code = "vault_error"


class OmopLoadError(HopiaError):
    """An OMOP CSV set cannot be loaded; nothing was written."""

    code = "omop_load_failed"
    http_status = 422


class CohortDefinitionError(InvalidRequestError):
    """A cohort definition cannot be read; the message names the file and the field."""

    code = "invalid_cohort"

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path} : {reason}", fields=("definition",))


class CatalogueError(HopiaError):
    """The data quality catalogue is unreadable or inconsistent."""

    code = "invalid_catalogue"
    http_status = 500


class SharingError(HopiaError):
    """A sharing request cannot be carried out as asked."""

    code = "sharing_failed"
    http_status = 422


class ShareRefusedError(SharingError):
    """k-anonymity or l-diversity cannot be reached within the allowed suppression.

    ``report`` holds the figures (an :class:`~hopia.data.sharing.anonymity.AnonymityReport`),
    so that a front end can show why."""

    code = "share_refused"

    def __init__(self, message: str, report: Any, *, fields: Sequence[str] = ()) -> None:
        super().__init__(message, fields=fields)
        self.report = report


class PredictError(HopiaError):
    """A predictive model cannot be trained, saved, loaded or evaluated as asked."""

    code = "predict_failed"
    http_status = 422


class SynthError(HopiaError):
    """The synthetic data generator was asked for something it cannot produce."""

    code = "synth_failed"
    http_status = 422


# -- the generative assistant (axis 3) -----------------------------------------------------------


class LlmBackendError(HopiaError):
    """An LLM backend could not answer (unreachable, too slow, refused, unreadable answer). The
    message names the backend, never the prompt."""

    code = "llm_backend_failed"
    http_status = 502


class LlmUnavailableError(HopiaError):
    """No LLM backend is configured, or none of that name, or none that does what is asked
    (embeddings)."""

    code = "llm_unavailable"
    http_status = 501


class PhiGuardError(HopiaError):
    """The PHI guard could not pseudonymise a prompt meant for a backend outside the hospital:
    nothing was sent."""

    code = "phi_guard_refused"
    http_status = 422


class QuotaExceededError(HopiaError):
    """A user's or a group's daily token quota is spent."""

    code = "quota_exceeded"
    http_status = 429


# -- axis 4: hospital management -----------------------------------------------------------------


class StockDataError(InvalidRequestError):
    """A stock file (items, movements, orders) that breaks the contract: its problems, each with
    the line and the reason (``details``: ``file``, ``problems``, ``count``)."""

    code = "invalid_stock_data"

    def __init__(self, file: str, problems: list[str], total: int | None = None) -> None:
        total = len(problems) if total is None else total
        more = (
            f" ; et {total - len(problems)} autre(s) problème(s)" if total > len(problems) else ""
        )
        super().__init__(
            f"{file} : " + " ; ".join(problems) + more,
            fields=(file,),
            details={"file": file, "problems": problems, "count": total},
        )

"""Warehouse schema as SQLAlchemy Core tables, portable across DuckDB and PostgreSQL.

Three spaces, each a database schema:

- ``omop``: the research space, OMOP CDM 5.4 (all tables, from the OHDSI field specification in
  ``cdm54_fields.csv``) plus Hopia's provenance tables. Pseudonymised text only.
- ``hopia_id``: the identified space: patient identities, source documents with their original
  text, the PHI found in them. Research users are never granted it.
- ``hopia_vault``: the re-identification key vault: originals of the surrogates, encrypted,
  under a keyed hash of the patient key. A schema of its own so that it can be granted (and
  backed up, purged) apart from ``hopia_id``: operators who run ingest need ``hopia_id``; only the
  re-identification role needs the vault, and every read of it is audited.
- ``hopia_meta``: schema migrations, loads, the tamper-evident audit log.

Tables added after the first migration carry ``info={"migration": N}``: migration 1 creates only
the tables it created when it was written, migration N creates its own.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib.resources import files

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeEngine

OMOP = "omop"
IDENTIFIED = "hopia_id"
META = "hopia_meta"
VAULT = "hopia_vault"

metadata = MetaData()
IPP_MAX = 50


def _sql_type(datatype: str, field: str) -> TypeEngine:
    if datatype in {"integer", "bigint"}:
        # Identifiers are 64-bit: a CHU's note_nlp outgrows 2^31 rows.
        return BigInteger() if field.endswith("_id") or datatype == "bigint" else Integer()
    if datatype == "date":
        return Date()
    if datatype == "datetime":
        return DateTime()
    if datatype == "float":
        # Double: SQLAlchemy's Float is a 4-byte REAL on DuckDB (0.1 reads back 0.10000000149).
        return Double()
    if datatype == "varchar(max)":
        return Text()
    if datatype.startswith("varchar("):
        return String(int(datatype[len("varchar(") : -1]))
    raise ValueError(f"unknown CDM datatype {datatype!r} for {field}")


@cache
def _cdm_spec() -> dict[str, list[dict[str, str]]]:
    spec: dict[str, list[dict[str, str]]] = {}
    text = files("hopia.platform.warehouse").joinpath("cdm54_fields.csv").read_text("utf-8")
    for row in csv.DictReader(text.splitlines()):
        spec.setdefault(row["table"], []).append(row)
    return spec


def _build_cdm_tables() -> dict[str, Table]:
    tables = {}
    for name, fields in _cdm_spec().items():
        # The specification lists fields alphabetically; keep the primary key first for readability.
        fields = sorted(fields, key=lambda f: f["primary_key"] != "1")
        columns = [
            Column(
                f["field"],
                _sql_type(f["datatype"], f["field"]),
                primary_key=f["primary_key"] == "1",
                # Required columns are NOT NULL, except in vocabulary tables shipped partially.
                nullable=f["required"] != "1" or f["primary_key"] == "1",
                autoincrement=False,
            )
            for f in fields
        ]
        tables[name] = Table(name, metadata, *columns, schema=OMOP)
    return tables


CDM: dict[str, Table] = _build_cdm_tables()

# The clinical event tables of the CDM: dated facts about a person, each with a type concept
# saying where it came from (EHR, claims, NLP...). The research axes walk "every clinical fact"
# through this one list, so a table added here is extracted, exported and measured everywhere.
CLINICAL_EVENT_TABLES = (
    "condition_occurrence",
    "drug_exposure",
    "measurement",
    "observation",
    "procedure_occurrence",
)
# A person's clinical record in the research space: the person, the stays, the events, the death.
CLINICAL_TABLES = ("person", "visit_occurrence", *CLINICAL_EVENT_TABLES, "death")


def event_domain(table: str) -> str:
    """The column prefix of an event table: ``drug_exposure`` -> ``drug``
    (``drug_concept_id``, ``drug_type_concept_id``).

    >>> [event_domain(t) for t in CLINICAL_EVENT_TABLES[:2]]
    ['condition', 'drug']
    """
    return table.split("_", 1)[0]


# Provenance of every row Hopia derives: which note, which mention, which run and system.
provenance = Table(
    "hopia_provenance",
    metadata,
    Column("table_name", String(50), nullable=False),
    Column("row_id", BigInteger, nullable=False),
    Column("note_id", BigInteger),
    Column("note_nlp_id", BigInteger),
    Column("run_id", BigInteger, nullable=False),
    Column("system", String(250), nullable=False),
    schema=OMOP,
)

run = Table(
    "hopia_run",
    metadata,
    Column("run_id", BigInteger, primary_key=True, autoincrement=False),
    Column("command", String(250), nullable=False),
    Column("system", String(250), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("status", String(20), nullable=False),
    Column("summary", Text),
    schema=OMOP,
)

patient = Table(
    "patient",
    metadata,
    Column("patient_id", BigInteger, primary_key=True, autoincrement=False),
    # Identity values are free text from source systems (Text: PostgreSQL enforces VARCHAR(n),
    # and a long value must not abort a batch). The IPP stays bounded: it is a unique key.
    Column("ipp", String(IPP_MAX), nullable=False, unique=True),
    Column("person_id", BigInteger, nullable=False, unique=True),
    Column("family_name", Text),
    Column("given_name", Text),
    Column("birth_date", Date),
    Column("sex", String(1)),
    Column("nir", Text),
    Column("address", Text),
    Column("zip", Text),
    Column("city", Text),
    Column("phone", Text),
    Column("email", Text),
    Column("updated_at", DateTime, nullable=False),
    schema=IDENTIFIED,
)

document = Table(
    "document",
    metadata,
    Column("document_id", BigInteger, primary_key=True, autoincrement=False),
    Column("content_hash", String(64), nullable=False),
    Column("source_path", Text, nullable=False),
    Column("source_ref", Text, nullable=False),
    Column("format", String(20), nullable=False),
    Column("status", String(10), nullable=False),  # done | error
    Column("error", Text),
    Column("external_id", Text),
    Column("ipp", String(IPP_MAX)),
    Column("doc_date", Date),
    Column("doc_type", String(100)),
    Column("text", Text),
    Column("note_id", BigInteger),
    Column("run_id", BigInteger, nullable=False),
    Column("ingested_at", DateTime, nullable=False),
    UniqueConstraint("content_hash", name="uq_document_content_hash"),
    schema=IDENTIFIED,
)

# A validated dictation's provenance (issue 14): who validated it, from which audio (its
# sha256: the audio itself is not kept), with which recogniser, what the clinician changed; the
# note itself is the ingested document whose external_id is ``dictation_id``.
dictation = Table(
    "dictation",
    metadata,
    Column("dictation_id", String(64), primary_key=True),  # sha256 of the validated note
    Column("validated_at", DateTime, nullable=False),  # UTC
    Column("author", String(100), nullable=False),
    Column("ipp", String(IPP_MAX), nullable=False),
    Column("template", String(40), nullable=False),
    Column("audio_sha256", String(64), nullable=False),
    Column("asr_model", String(100), nullable=False),
    Column("asr_version", String(100), nullable=False),
    Column("edited", Boolean, nullable=False),
    Column("edits", Text, nullable=False),  # JSON: what changed between draft and validation
    Column("run_id", BigInteger),  # the ingest run that wrote the note
    schema=IDENTIFIED,
    info={"migration": 14},
)

# A dictation's draft on the server (issue 14, web): the clinician's until validated or discarded.
# Identified space only: the transcript and the note are the patient's words; the audio file lives
# under ``<home>/dictation/drafts/<draft_id>/`` (removed at validation unless
# ``care.dictation.audio_retention_days`` keeps it). ``edits`` is the JSON list of every change
# the clinician made (section text, facts), carried into the provenance at validation.
dictation_draft = Table(
    "dictation_draft",
    metadata,
    Column("draft_id", String(32), primary_key=True),
    Column("author", String(100), nullable=False),  # the account that dictates
    Column("ipp", String(IPP_MAX), nullable=False),
    Column("person_id", BigInteger, nullable=False),
    Column("visit_occurrence_id", BigInteger),  # the stay, when one is chosen
    Column("template", String(40), nullable=False),
    Column("status", String(12), nullable=False),  # draft | validated | discarded
    Column("transcript", Text),
    Column("note", Text),  # JSON: sections, facts, segments of the latest transcription
    Column("edits", Text, nullable=False),  # JSON list
    Column("audio_path", Text),
    Column("audio_sha256", String(64)),
    Column("audio_kind", String(10)),
    Column("audio_bytes", BigInteger),
    Column("chunks", Integer, nullable=False),  # live chunks received (0 for an upload)
    Column("asr_model", String(100)),
    Column("asr_version", String(100)),
    Column("asr_rtf", Double),
    Column("job_id", String(32)),  # the latest transcription job
    Column("dictation_id", String(64)),  # hopia_id.dictation, once validated
    Column("created_at", DateTime, nullable=False),  # UTC
    Column("updated_at", DateTime, nullable=False),
    Column("validated_at", DateTime),
    Column("audio_deleted_at", DateTime),
    schema=IDENTIFIED,
    info={"migration": 15},
)

phi_span = Table(
    "phi_span",
    metadata,
    Column("document_id", BigInteger, nullable=False),
    Column("start_char", Integer, nullable=False),
    Column("end_char", Integer, nullable=False),
    Column("label", String(20), nullable=False),
    Column("source", String(20), nullable=False),
    Column("surrogate", Text),
    schema=IDENTIFIED,
)

# Scanned documents: each page read by OCR, its mean word confidence (0-100) and whether it fell
# under the installation's threshold (a page to check by eye). Documents with a text layer have
# no row.
document_ocr = Table(
    "document_ocr",
    metadata,
    Column("document_id", BigInteger, nullable=False),
    Column("page", Integer, nullable=False),
    Column("confidence", Double, nullable=False),
    Column("low", Boolean, nullable=False),
    schema=IDENTIFIED,
    info={"migration": 5},
)

omop_load = Table(
    "omop_load",
    metadata,
    Column("table_name", String(50), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("source", Text, nullable=False),
    Column("loaded_at", DateTime, nullable=False),
    UniqueConstraint("table_name", "file_sha256", name="uq_omop_load"),
    schema=META,
)

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", String(250), nullable=False),
    Column("applied_at", DateTime, nullable=False),
    schema=META,
)


# -- migration 2: key vault and audit log -------------------------------------------------------

# Hash-chained: hash = sha256(prev_hash + canonical JSON of the row). Details are stored as the
# exact canonical JSON text that was hashed (a JSON column type would re-serialise it).
audit_log = Table(
    "audit_log",
    metadata,
    Column("audit_id", BigInteger, primary_key=True, autoincrement=False),
    # "at" is a keyword in DuckDB: always quoted.
    Column("at", DateTime, nullable=False, quote=True),  # UTC
    Column("actor", String(100), nullable=False),
    Column("action", String(50), nullable=False),
    Column("target", String(255), nullable=False),
    Column("reason", Text),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("prev_hash", name="uq_audit_log_prev_hash"),  # no fork in the chain
    schema=META,
    info={"migration": 2},
)

# The vault key in use, by fingerprint only: a wrong key is refused before anything is written.
vault_key = Table(
    "vault_key",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("created_at", DateTime, nullable=False),
    Column("retired_at", DateTime),
    schema=VAULT,
    info={"migration": 2},
)

# patient_ref = HMAC(vault key, patient key): the IPP never appears in clear, and IPPs (a few
# digits) cannot be found back by hashing candidates without the key.
vault_patient = Table(
    "vault_patient",
    metadata,
    Column("patient_ref", String(64), primary_key=True),
    Column("key_id", String(16), nullable=False),
    Column("patient_key_enc", Text, nullable=False),  # to re-derive patient_ref on rotation
    Column("date_offset_enc", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    schema=VAULT,
    info={"migration": 2},
)

vault_entry = Table(
    "vault_entry",
    metadata,
    Column("patient_ref", String(64), nullable=False),
    Column("label", String(20), nullable=False),
    Column("surrogate", Text, nullable=False),  # already public: it is in omop.note
    Column("original_enc", Text, nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("patient_ref", "label", "surrogate", name="uq_vault_entry"),
    schema=VAULT,
    info={"migration": 2},
)


# -- migration 4: data quality run history ------------------------------------------------------

# One row per `hopia quality run`; results keep the Kahn classification they were run with, so
# that trends stay readable after the catalogue changes. Counts only: never a row's values.
quality_run = Table(
    "quality_run",
    metadata,
    Column("run_id", BigInteger, primary_key=True, autoincrement=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=False),
    Column("catalogue_version", String(64), nullable=False),
    Column("checks", Integer, nullable=False),
    Column("passed", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("not_applicable", Integer, nullable=False),
    Column("errors", Integer, nullable=False),
    schema=META,
    info={"migration": 4},
)

quality_result = Table(
    "quality_result",
    metadata,
    Column("run_id", BigInteger, nullable=False),
    Column("check_id", String(300), nullable=False),
    Column("check_type", String(50), nullable=False),
    Column("level", String(10), nullable=False),
    Column("table_name", String(50), nullable=False),
    Column("field_name", String(50)),
    Column("kahn_context", String(20), nullable=False),
    Column("kahn_category", String(20), nullable=False),
    Column("kahn_subcategory", String(20)),
    Column("status", String(20), nullable=False),
    Column("num_violated", BigInteger, nullable=False),
    Column("num_denominator", BigInteger, nullable=False),
    Column("pct_violated", Double, nullable=False),
    Column("threshold", Double, nullable=False),
    Column("detail", Text),
    UniqueConstraint("run_id", "check_id", name="uq_quality_result"),
    schema=META,
    info={"migration": 4},
)


# -- migration 6: background jobs ---------------------------------------------------------------

# One row per job (an upload's ingest, a quality run, an export): the source of truth for its
# status whatever runs it (a thread of the serving process, `hopia jobs worker`, a Redis queue
# that only carries the id). Parameters, result and error hold no identifying data: counts, ids,
# settings, French messages. JSON columns are text (canonical JSON), as the audit log's.
job = Table(
    "job",
    metadata,
    Column("job_id", String(32), primary_key=True),
    Column("kind", String(30), nullable=False),
    Column("owner", String(100), nullable=False),  # the authenticated user
    Column("actor", String(100), nullable=False),  # who the audit log names (on behalf of)
    Column("roles", Text, nullable=False),  # JSON list: the owner's roles at submission
    Column("parameters", Text, nullable=False),
    Column("status", String(12), nullable=False),  # queued running succeeded failed cancelled
    Column("progress_done", BigInteger, nullable=False),
    Column("progress_total", BigInteger),
    Column("progress_label", String(200)),
    Column("result", Text),
    Column("error_code", String(50)),
    Column("error_message", Text),
    Column("cancel_requested", Boolean, nullable=False),
    Column("created_at", DateTime, nullable=False),  # UTC, as every job time
    Column("started_at", DateTime),
    Column("finished_at", DateTime),
    Column("heartbeat_at", DateTime),
    Column("worker_host", String(255)),
    Column("worker_pid", Integer),
    Index("ix_job_status", "status"),
    Index("ix_job_owner", "owner", "created_at"),
    schema=META,
    info={"migration": 6},
)


# -- migration 7: web platform accounts and sessions -------------------------------------------

# Local accounts. ``roles`` and ``care_sites`` are canonical JSON lists (few values, read whole).
# Failed logins are counted here, not in a process's memory: several web workers share them.
account = Table(
    "account",
    metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("username", String(100), nullable=False, unique=True),
    Column("display_name", Text),
    Column("password_hash", Text),  # argon2id; NULL: no local password (cannot log in)
    Column("roles", Text, nullable=False),
    Column("care_sites", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until", DateTime),  # UTC
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("password_changed_at", DateTime),
    schema=META,
    info={"migration": 7},
)

# Server-side sessions: the cookie holds a random token, the table its SHA-256 only (a copy of
# the table does not give sessions away).
web_session = Table(
    "web_session",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", BigInteger, nullable=False),
    Column("created_at", DateTime, nullable=False),  # UTC
    Column("last_seen_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    schema=META,
    info={"migration": 7},
)

# Failed logins per client address (its keyed hash, never the address), for the rate limit that
# an account lockout cannot give: one address trying many accounts.
login_failure = Table(
    "login_failure",
    metadata,
    Column("address_hash", String(64), nullable=False),
    Column("at", DateTime, nullable=False, quote=True),  # UTC; "at": a DuckDB keyword
    schema=META,
    info={"migration": 7},
)

# Accounts of an identity provider (OIDC): one row links the provider's subject (issuer, sub) to
# the local account it logs into. Such an account has no password: it is "external".
external_identity = Table(
    "external_identity",
    metadata,
    Column("issuer", String(300), primary_key=True),
    Column("subject", String(255), primary_key=True),
    Column("account_id", BigInteger, nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),  # UTC
    Column("last_login_at", DateTime),
    schema=META,
    info={"migration": 8},
)


# -- migration 11: what an identity provider's session needs at logout -------------------------

# The ID token of a session opened through OIDC, kept server-side (never in a cookie) for the
# provider's logout (RP-initiated logout: ``id_token_hint``). One row per such session, keyed
# like the session (the SHA-256 of its token), deleted with it.
web_session_oidc = Table(
    "web_session_oidc",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("id_token", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),  # UTC
    schema=META,
    info={"migration": 11},
)


# -- migration 9: the LLM gateway's usage and per-user API keys ---------------------------------

# One row per gateway call: who (user, group), what (backend, model, task, purpose, collection),
# the tokens and the footprint estimate (hopia.assistant.footprint). No prompt, no answer.
llm_usage = Table(
    "llm_usage",
    metadata,
    Column("usage_id", BigInteger, primary_key=True, autoincrement=False),
    Column("at", DateTime, nullable=False, quote=True),  # UTC; "at": a DuckDB keyword
    Column("username", String(100), nullable=False),
    Column("user_group", String(100), nullable=False),  # the user's first role
    Column("backend", String(40), nullable=False),
    Column("model", String(200), nullable=False),
    Column("task", String(100), nullable=False),
    Column("purpose", String(200)),
    Column("collection", String(200)),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("energy_wh", Double, nullable=False),
    Column("co2e_g", Double, nullable=False),
    Column("cost_eur", Double, nullable=False),
    Column("seconds", Double, nullable=False),
    Column("guarded", Boolean, nullable=False),  # went through the PHI guard (backend not local)
    # False: a stream cut short (client gone, backend failed), its tokens counted from what was
    # produced; NULL for the calls recorded before migration 16
    Column("ended", Boolean),
    schema=META,
    info={"migration": 9},
)

# Per-user API keys for the /v1 endpoints: the key is shown once; the table keeps its SHA-256
# (a key is 256 random bits: a fast hash is enough, and lets a request find its row).
api_key = Table(
    "api_key",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("account_id", BigInteger, nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("label", String(100), nullable=False),
    Column("created_at", DateTime, nullable=False),  # UTC
    Column("last_used_at", DateTime),
    Column("revoked_at", DateTime),
    schema=META,
    info={"migration": 9},
)


# -- migration 10: knowledge collections (axis 3) ----------------------------------------------

# A collection of reference documents (protocols, procedures, course material) owned by a user
# or a group (a role); its passages and vectors live under <home>/knowledge/<collection_id>/.
collection = Table(
    "collection",
    metadata,
    Column("collection_id", String(40), primary_key=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("owner_kind", String(10), nullable=False),  # "user" | "group"
    Column("owner", String(100), nullable=False),  # a username, or a role for a group
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime, nullable=False),  # UTC
    schema=META,
    info={"migration": 10},
)

# Who else may read a collection: a user or a group (role).
collection_share = Table(
    "collection_share",
    metadata,
    Column("collection_id", String(40), primary_key=True),
    Column("grantee_kind", String(10), primary_key=True),  # "user" | "group"
    Column("grantee", String(100), primary_key=True),
    Column("granted_by", String(100), nullable=False),
    Column("granted_at", DateTime, nullable=False),  # UTC
    schema=META,
    info={"migration": 10},
)

# The documents of a collection (the index's manifest holds the same, for the files).
collection_document = Table(
    "collection_document",
    metadata,
    Column("collection_id", String(40), primary_key=True),
    Column("document_id", String(40), primary_key=True),
    Column("name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("format", String(20), nullable=False),
    Column("chars", BigInteger, nullable=False),
    Column("passages", Integer, nullable=False),
    Column("added_by", String(100), nullable=False),
    Column("added_at", DateTime, nullable=False),  # UTC
    schema=META,
    info={"migration": 10},
)


# -- migration 13: the assistant's history per user (axis 3) -----------------------------------

# One row per question asked over collections or task run, kept for its user only: what was
# asked (the inputs: a question, a patient or stay id, a cohort name; never a pasted text unless
# ``assistant.audit_prompts`` asks, as the gateway's audit), the answer shown, its citations and
# grounding flags and what the task computed beside the text (canonical JSON, as the audit
# log's). ``person_id``: the entry cites that patient's documents, so reading it again is a
# patient-level read (authorised and audited).
assistant_history = Table(
    "assistant_history",
    metadata,
    Column("entry_id", String(32), primary_key=True),
    Column("username", String(100), nullable=False),
    Column("at", DateTime, nullable=False, quote=True),  # UTC; "at": a DuckDB keyword
    Column("kind", String(10), nullable=False),  # "question" | "task"
    Column("name", String(60), nullable=False),  # "ask", or the task's name
    Column("inputs", Text, nullable=False),  # JSON
    Column("answer", Text, nullable=False),
    Column("citations", Text, nullable=False),  # JSON list
    Column("flags", Text, nullable=False),  # JSON list
    Column("structured", Text, nullable=False),  # JSON: NLP facts, a definition, tables...
    Column("generated", Boolean, nullable=False),
    Column("model", String(200)),
    Column("prompt_version", String(60)),
    Column("person_id", BigInteger),
    Column("prompt", Text),  # the inputs' full text, only when assistant.audit_prompts
    Column("audit_id", BigInteger, nullable=False),  # the run's own audit entry
    Index("ix_assistant_history_user", "username", "at"),
    schema=META,
    info={"migration": 13},
)

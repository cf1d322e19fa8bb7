"""Settings: explicit arguments over environment (``HOPIA_*``) over an optional YAML file
(``HOPIA_CONFIG`` or ./hopia.yml) over defaults. Nested sections merge key by key, so
``HOPIA_DATA__NLP__BATCH_SIZE`` overrides one key of the YAML ``data: nlp:`` block, not the
whole block.

The platform's own keys (``home``, ``warehouse_url``, ``secret_key``, ``vault_key``,
``cache_dir``) sit at the top; each product axis has one section (``data`` for axis 1, then
``care``, ``assistant``, ``management`` as they come), with one sub-section per capability.

Reading the settings has no side effect: key files are created by ``hopia init`` or the first
ingest (:mod:`hopia.platform.keys`), never by reading the configuration. Settings are read once,
by the front end (the composition root), and passed down: no stage calls :func:`get_settings`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from hopia.platform.exceptions import ConfigError

# Sections that moved under ``data`` in 0.2.0: refused with the new name rather than ignored.
_MOVED_SECTIONS = {"nlp": "data.nlp", "pseudo": "data.pseudo"}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NlpSettings(_Section):
    batch_size: int = Field(
        32, ge=1, description="Documents per NLP batch and per ingest write transaction."
    )
    cache_pipeline: bool = Field(
        True, description="Cache the built EDS-NLP pipeline on disk (eds.cim10 takes ~30-60 s)."
    )
    ner_worker: bool = Field(
        True,
        description="During ingest, run the statistical clinical NER in the worker process, on "
        "the original text, one batch ahead (uses the second core).",
    )
    clinical_ner_model: Path | None = Field(
        None,
        description="Folder of the statistical clinical NER model (one written by `hopia nlp "
        "train`). Default: the weights shipped in the package.",
    )


class PseudoSettings(_Section):
    use_model: bool = Field(
        True, description="Add the statistical PHI model to rules, gazetteers and identities."
    )
    birth_dates: Literal["shift", "month", "year"] = Field(
        "shift",
        description="Birth dates in the research space: shifted like the patient's other dates, "
        "or generalised to the month or the year.",
    )
    model_worker: bool = Field(
        True,
        description="During ingest, run the PHI model in a second process, one batch ahead of "
        "the NLP (uses the second core).",
    )
    model_focus: bool = Field(
        True,
        description="Run the PHI model only on the lines that hold a word that is neither a "
        "known common word nor read by a rule (about half its CPU, same recall).",
    )
    model_path: Path | None = Field(
        None,
        description="Folder of the statistical PHI model (as written by `hopia pseudo train`), "
        "used by the ingest and `hopia pseudo run`. Default: the weights shipped in the package.",
    )


class SharingSettings(_Section):
    k: int = Field(5, ge=1, description="Default k of k-anonymity for exports.")
    l: int = Field(2, ge=1, description="Default l of l-diversity for exports.")  # noqa: E741
    max_suppression: float = Field(
        0.05, ge=0.0, lt=1.0, description="Default largest share of patients an export drops."
    )


class PredictSettings(_Section):
    threads: int = Field(
        2, ge=1, le=2, description="Threads of LightGBM: set explicitly on shared servers."
    )


class IngestSettings(_Section):
    """Limits that keep one pathological input from holding up a run (each is one error
    naming the file and the limit; the rest of the batch goes on)."""

    max_document_chars: int = Field(
        100_000,
        ge=1,
        description="Longest document text ingested, in characters (a long hospital report is "
        "~30,000; NLP time and memory grow faster than the text: 1.2 MB took 342 s and 1.7 GB).",
    )
    max_file_bytes: int = Field(
        50 * 1024 * 1024,
        ge=1,
        description="Largest file read whole (text, PDF, DOCX, HL7, FHIR). JSON Lines files are "
        "streamed: each line is bounded by max_document_chars instead.",
    )


class OcrSettings(_Section):
    command: str = Field(
        "tesseract",
        description="Tesseract program reading scans (Debian packages tesseract-ocr and "
        "tesseract-ocr-fra); a path or a name on PATH.",
    )
    languages: str = Field("fra", description="Tesseract language data, e.g. fra or fra+eng.")
    low_confidence: float = Field(
        60.0,
        ge=0.0,
        le=100.0,
        description="Mean word confidence (0-100) under which a scanned page is flagged for a "
        "check by eye (an ingest warning).",
    )
    timeout_s: float = Field(120.0, gt=0, description="Longest OCR of one page, in seconds.")
    max_pages: int = Field(
        50,
        ge=1,
        description="Most pages of one file read by OCR; a longer scan is one error naming the "
        "file (at up to timeout_s a page, it would hold the run up for hours).",
    )


class JobsSettings(_Section):
    """Background jobs (long work started from a front end: an upload's ingest, a quality run,
    an export). Without a broker they run in the process that serves (a thread pool) and in
    ``hopia jobs worker``; with one, in ``hopia jobs worker`` processes fed by Redis (RQ)."""

    broker_url: str | None = Field(
        None,
        description="Redis URL of the job queue (redis://127.0.0.1:6379/0), executed by `hopia "
        "jobs worker` processes; needs a PostgreSQL warehouse (DuckDB admits one process). "
        "Default: none, jobs run embedded in the serving process.",
        examples=["redis://127.0.0.1:6379/0"],
    )
    queue: str = Field(
        "hopia",
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Name of the Redis queue (one per installation sharing a Redis server).",
    )
    threads: int = Field(
        2, ge=1, le=16, description="Jobs run at once by the embedded runner of one process."
    )
    heartbeat_s: float = Field(
        5.0, gt=0, description="Seconds between two heartbeats of a running job."
    )
    stale_after_s: float = Field(
        60.0,
        gt=0,
        description="A running job whose heartbeat is older than this is read as failed "
        "(interrupted): its worker died or lost the warehouse. Keep it well above heartbeat_s.",
    )
    poll_s: float = Field(
        1.0, gt=0, description="Seconds between two looks at the queue of an idle embedded worker."
    )
    max_upload_bytes: int = Field(
        200 * 1024 * 1024,
        ge=1,
        description="Largest file stored for an ingest job (the web server also bounds requests).",
    )

    @model_validator(mode="after")
    def _heartbeat_below_stale(self) -> JobsSettings:
        if self.stale_after_s <= 2 * self.heartbeat_s:
            raise ConfigError(
                "jobs.stale_after_s doit dépasser le double de jobs.heartbeat_s : sinon une "
                "tâche vivante serait lue comme interrompue"
            )
        return self


class DataSettings(_Section):
    """Axis 1, clinical data: ingest, pseudonymisation, NLP, research on the warehouse."""

    nlp: NlpSettings = Field(default_factory=NlpSettings)
    pseudo: PseudoSettings = Field(default_factory=PseudoSettings)
    sharing: SharingSettings = Field(default_factory=SharingSettings)
    predict: PredictSettings = Field(default_factory=PredictSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)


class OidcSettings(_Section):
    """Login through an OpenID Connect provider (Keycloak, Pro Santé Connect): authorization
    code flow with PKCE, state and nonce. Off while ``discovery_url`` is empty."""

    discovery_url: str | None = Field(
        None,
        description="The provider's discovery document (…/.well-known/openid-configuration). "
        "Keycloak: https://<host>/realms/<realm>/.well-known/openid-configuration; Pro Santé "
        "Connect: https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet/.well-known/"
        "openid-configuration. Empty: no OIDC login.",
    )
    provider_name: str = Field(
        "fournisseur d'identité",
        description="Shown on the login page: « Se connecter avec <provider_name> ».",
    )
    client_id: str = Field("hopia", description="Hopia's client id at the provider.")
    client_secret: SecretStr | None = Field(
        None,
        description="Hopia's client secret (environment HOPIA_WEB__OIDC__CLIENT_SECRET). Never "
        "logged. Prefer client_secret_file; neither: a public client (PKCE only).",
    )
    client_secret_file: Path | None = Field(
        None, description="A file holding the client secret (mode 0600), read at each login."
    )
    scopes: list[str] = Field(
        default_factory=lambda: ["openid", "profile", "email"],
        description="Scopes asked for; openid is always added.",
    )
    username_claim: str = Field(
        "preferred_username",
        description="Claim giving the Hopia user name (lower-cased). Keycloak: "
        "preferred_username; Pro Santé Connect: SubjectNameID (the RPPS number).",
    )
    name_claim: str | None = Field("name", description="Claim giving the display name.")
    roles_claim: str = Field(
        "roles",
        description="Claim carrying the roles, a dotted path through objects and lists. "
        "Keycloak: realm_access.roles (or resource_access.<client>.roles); Pro Santé Connect: "
        "SubjectRefPro.exercices.codeProfession.",
    )
    role_mapping: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Claim value -> Hopia roles (clinician, researcher, data_steward, manager, "
        "admin). A value not listed grants nothing; no role at all: the login is refused. The "
        "roles are set again at every login (the provider is the reference).",
    )
    perimeter_claim: str | None = Field(
        None,
        description="Claim carrying a clinician's perimeter (care_site ids), dotted path. "
        "Empty: the perimeter is the one an administrator set on the account (`hopia account "
        "create <name> --role clinician --care-site N`, without password, before the first "
        "login).",
    )
    userinfo: bool = Field(
        True,
        description="Also read the userinfo endpoint (Pro Santé Connect gives its claims "
        "there, not in the ID token).",
    )
    redirect_url: str | None = Field(
        None,
        description="The callback URL registered at the provider "
        "(https://<hopia>/login/oidc/callback). Empty: built from the request.",
    )
    timeout_seconds: float = Field(10.0, gt=0, description="Timeout of calls to the provider.")

    @property
    def enabled(self) -> bool:
        return bool(self.discovery_url)


class WebSettings(_Section):
    """The web platform (``hopia serve``): sessions, lockout, roles allowed to break the glass."""

    session_hours: float = Field(
        8.0, gt=0, le=24 * 7, description="Longest life of a login session, in hours."
    )
    idle_minutes: float = Field(
        30.0, gt=0, description="A session unused for this long is closed (minutes)."
    )
    session_cache_seconds: float = Field(
        2.0,
        ge=0,
        le=60,
        description="A live session read by a web process is not read again for this long "
        "(seconds; 0: read at every request). A logout or an account change made by the same "
        "process takes effect at once; one made by another process (another worker on "
        "PostgreSQL, the hopia account command) within this delay.",
    )
    cookie_secure: Literal["auto", "always", "never"] = Field(
        "auto",
        description="Secure flag of the session cookie: auto = set unless the request came by "
        "plain http to localhost (development); always behind a TLS proxy that rewrites http.",
    )
    max_failed_logins: int = Field(
        5, ge=1, description="Failed logins in a row before an account is locked."
    )
    lockout_minutes: float = Field(15.0, gt=0, description="How long a lockout lasts (minutes).")
    max_failed_logins_per_address: int = Field(
        20,
        ge=1,
        description="Failed logins from one client address, whatever the accounts, within "
        "lockout_minutes, before that address is refused for the rest of the window.",
    )
    break_glass_roles: list[str] = Field(
        default_factory=lambda: ["clinician"],
        description="Roles that may read identified data outside their perimeter, with a "
        "reason, flagged in the audit log (« bris de glace »). Empty: nobody.",
    )
    small_cell: int = Field(
        10, ge=1, description="Counts below this are shown as « <N » to researchers."
    )
    page_size: int = Field(50, ge=1, le=500, description="Default page size of the API lists.")
    max_body_bytes: int = Field(
        1_048_576,
        ge=1024,
        description="Largest request body (bytes); a larger one is refused with 413 before it "
        "is read whole (uploads will have their own limit).",
    )
    oidc: OidcSettings = Field(default_factory=OidcSettings)


class LlmBackendSettings(_Section):
    """One LLM backend (``assistant.backends``): an OpenAI-compatible server or the embedded
    llama.cpp runtime over a GGUF file."""

    name: str = Field(..., min_length=1, max_length=40, description="Name users and settings use.")
    type: Literal["openai", "embedded"] = Field(
        ...,
        description="openai: any OpenAI-compatible server (vLLM, Ollama, llama.cpp server, "
        "TGI) at base_url; embedded: llama.cpp in process over model_path (or the packaged model).",
    )
    base_url: str | None = Field(None, description="openai: the server's /v1 URL.")
    api_key: str | None = Field(None, description="openai: bearer key, if the server asks one.")
    model: str | None = Field(
        None,
        description="The model name to ask for (openai); embedded without model_path: the "
        "packaged model (qwen2.5-coder-1.5b by default, qwen2.5-coder-0.5b, smollm2-135m).",
    )
    model_path: Path | None = Field(
        None, description="embedded: a GGUF file; default: the packaged model (make llm)."
    )
    local: bool = Field(
        True,
        description="Runs on the hospital's machines. A backend marked false only receives "
        "prompts pseudonymised by the PHI guard.",
    )
    parameters_b: float | None = Field(
        None, gt=0, description="Model size in billions of parameters (energy estimate)."
    )
    n_threads: int = Field(
        2,
        ge=1,
        le=256,
        description="embedded: CPU threads of llama.cpp (generation and prompt), set explicitly: "
        "its default takes every core of a shared machine.",
    )
    n_ctx: int = Field(4096, ge=256, le=131072, description="embedded: context window, in tokens.")
    seed: int = Field(
        42,
        ge=0,
        le=2**32 - 2,
        description="embedded: sampling seed (with temperature 0 the answer is the same anyway).",
    )


class LlmQuotaSettings(_Section):
    """Tokens (prompt + completion) per UTC day through the gateway (``assistant.quotas``);
    None: no limit. A user's group is each of their roles (the platform has no other groups)."""

    user_tokens_per_day: int | None = Field(None, ge=0, description="Per user, every user.")
    group_tokens_per_day: int | None = Field(
        None, ge=0, description="Per group (role), summed over its members."
    )
    groups: dict[str, int] = Field(
        default_factory=dict, description="Per-group overrides: {role: tokens per day}."
    )


class FootprintSettings(_Section):
    """The per-call energy, CO2e and cost estimate (``assistant.footprint``); the method and
    the sources of every default are in docs/assistant/footprint.md."""

    alpha_wh_per_token_per_b: float = Field(
        8.91e-5, ge=0, description="Energy per output token per billion parameters (Wh)."
    )
    beta_wh_per_token: float = Field(1.43e-3, ge=0, description="Energy per output token (Wh).")
    prompt_token_weight: float = Field(
        0.0, ge=0, description="Share of an output token's energy counted per prompt token."
    )
    default_parameters_b: float = Field(
        7.0, gt=0, description="Model size assumed when a backend does not give its own."
    )
    pue: float = Field(1.2, ge=1, description="Power usage effectiveness of the machine room.")
    carbon_kg_per_kwh: float = Field(
        0.052, ge=0, description="kgCO2e per kWh: the French mix (ADEME Base Empreinte)."
    )
    price_eur_per_kwh: float = Field(0.20, ge=0, description="Electricity price (EUR per kWh).")
    hardware_cost_eur: float = Field(
        25_000.0, ge=0, description="Purchase cost of the inference server (EUR)."
    )
    hardware_embodied_kgco2e: float = Field(
        2_500.0, ge=0, description="Embodied emissions of that server (kgCO2e, manufacture)."
    )
    hardware_lifetime_hours: float = Field(
        43_800.0, gt=0, description="Hours over which the server is amortised (5 years)."
    )


class KnowledgeSettings(_Section):
    """Knowledge collections and retrieval (``assistant.knowledge``)."""

    embedder: Literal["e5", "use"] = Field(
        "e5",
        description="Dense embeddings: e5 (multilingual-e5-small 4-bit: the better recall, "
        "measured) or use (Universal Sentence Encoder multilingual: faster to index, weaker "
        "recall); see docs/assistant/knowledge.md.",
    )
    mode: Literal["hybrid", "bm25", "dense"] = Field(
        "hybrid", description="Retrieval: BM25 and dense fused by reciprocal rank, or one alone."
    )
    chunk_size: int = Field(900, ge=200, le=4000, description="Passage length (characters).")
    chunk_overlap: int = Field(150, ge=0, le=1000, description="Overlap between passages.")
    top_k: int = Field(5, ge=1, le=50, description="Passages given to an answer.")
    min_similarity: float | None = Field(
        None,
        ge=-1,
        le=1,
        description="Cosine below which a passage is not relevant. Default: the embedder's "
        "threshold calibrated on the evaluation questions (docs/assistant/knowledge.md).",
    )
    threads: int = Field(2, ge=1, le=64, description="Threads of the embedding model.")
    max_document_bytes: int = Field(
        20_000_000, ge=1024, description="Largest document added to a collection (bytes)."
    )


class AssistantSettings(_Section):
    """Axis 3, the generative assistant (``assistant``)."""

    backends: list[LlmBackendSettings] = Field(
        default_factory=list,
        description="LLM backends; none configured: retrieval, citations and task forms still "
        "work and generative parts say that no model is configured.",
    )
    default_backend: str | None = Field(
        None, description="Name of the backend used when a call names none (default: the first)."
    )
    audit_prompts: bool = Field(
        False,
        description="Write the prompt text into each gateway call's audit record (off: the "
        "record holds who, purpose, collection, backend and counts only).",
    )
    record_in_background: bool = Field(
        False,
        description="Write each call's audit record and usage row on a background thread, in "
        "batches, without waiting (the record may follow the answer; a killed process loses "
        "what is queued). Off: the audit record is committed before or with the answer (the "
        "web's gateway writes it while the model works), the usage row right after.",
    )
    quotas: LlmQuotaSettings = Field(default_factory=lambda: LlmQuotaSettings())
    footprint: FootprintSettings = Field(default_factory=lambda: FootprintSettings())
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)


class DictationSettings(_Section):
    """Voice dictation (``care.dictation``): the speech recognition model and its threads."""

    asr_model: Path | None = Field(
        None,
        description="Folder of a CTranslate2 Whisper model (small, medium, large-v3-turbo…) the "
        "hospital provides. Default: the packaged Whisper base, assembled by `make asr`.",
    )
    threads: int = Field(
        2, ge=1, le=64, description="CPU threads of the speech recognition (CTranslate2)."
    )
    beam_size: int = Field(5, ge=1, le=10, description="Beam width of the decoding.")
    vocabulary_hint: bool = Field(
        True,
        description="Give the recogniser a short French medical vocabulary (section titles, "
        "frequent drugs and conditions from Hopia's lexicons) as its prompt.",
    )
    audio_retention_days: int = Field(
        0,
        ge=0,
        le=3650,
        description="Days a validated or discarded dictation's audio is kept on the server "
        "(<home>/dictation/drafts). 0: deleted at validation or discard.",
    )
    max_audio_bytes: int = Field(
        200 * 1024 * 1024,
        ge=1024,
        description="Largest dictation audio accepted from the web (an uploaded file, or the "
        "live chunks together).",
    )


class CareSettings(_Section):
    """Axis 2, tools for daily care (``care``)."""

    dictation: DictationSettings = Field(default_factory=DictationSettings)


class Settings(BaseSettings):
    """Hopia settings. Every field can be set as ``HOPIA_<FIELD>``
    (``HOPIA_DATA__NLP__BATCH_SIZE``)."""

    model_config = SettingsConfigDict(env_prefix="HOPIA_", env_nested_delimiter="__")

    home: Path = Field(Path(".hopia"), description="Folder for the embedded warehouse and caches.")
    warehouse_url: str | None = Field(
        None,
        description="SQLAlchemy URL. Default: embedded DuckDB file <home>/warehouse.duckdb. "
        "PostgreSQL: postgresql+psycopg2://user@host/db",
        examples=["postgresql+psycopg2://hopia@127.0.0.1:5432/hopia"],
    )
    secret_key: str | None = Field(
        None,
        description="Secret for surrogates and date offsets. Default: <home>/secret.key, created "
        "by `hopia init` (mode 0600). Never commit it.",
    )
    vault_key: str | None = Field(
        None,
        description="Key of the re-identification vault (AES-256-GCM): 32 bytes in base64. "
        "Default: <home>/vault.key, created by `hopia init` (mode 0600). Distinct from "
        "secret_key; losing it makes the vault unreadable. Never commit it.",
    )
    audit_key: str | None = Field(
        None,
        description="Key of the audit log's HMAC chain (16 characters or more). Default: "
        "<home>/audit.key, created by `hopia init` (mode 0600), beside the log's head "
        "checkpoints (<home>/audit/). Distinct from the other keys. Never commit it.",
    )
    cache_dir: Path = Field(
        None,  # filled from ``home`` below
        validate_default=False,
        description="Rebuildable artefacts (compiled NLP pipeline). Default <home>/cache.",
    )
    jobs: JobsSettings = Field(default_factory=JobsSettings)
    data: DataSettings = Field(default_factory=DataSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    assistant: AssistantSettings = Field(default_factory=AssistantSettings)
    care: CareSettings = Field(default_factory=CareSettings)

    @model_validator(mode="before")
    @classmethod
    def _refuse_moved_sections(cls, values: Any) -> Any:
        if isinstance(values, dict):
            for old, new in _MOVED_SECTIONS.items():
                if old in values:
                    raise ConfigError(
                        f"la section « {old} » de la configuration s'appelle désormais « {new} »"
                    )
        return values

    @model_validator(mode="after")
    def _default_cache_dir(self) -> Settings:
        if self.cache_dir is None:
            self.cache_dir = self.home / "cache"
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        _refuse_moved_variables()
        return init_settings, env_settings, _YamlSource(settings_cls)

    def resolved_warehouse_url(self) -> str:
        if self.warehouse_url:
            return self.warehouse_url
        return f"duckdb:///{(self.home / 'warehouse.duckdb').resolve()}"


def _refuse_moved_variables() -> None:
    for old, new in _MOVED_SECTIONS.items():
        prefix = f"HOPIA_{old.upper()}__"
        for name in os.environ:
            if name.upper().startswith(prefix):
                renamed = f"HOPIA_{new.upper().replace('.', '__')}__{name[len(prefix) :]}"
                raise ConfigError(f"la variable {name} s'appelle désormais {renamed}")


class _YamlSource(PydanticBaseSettingsSource):
    """The YAML file, below the environment. Errors name the file (French, for operators)."""

    def __call__(self) -> dict[str, Any]:
        return _yaml_values()

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ returns every value at once


def _yaml_values() -> dict[str, Any]:
    path = os.environ.get("HOPIA_CONFIG") or ("hopia.yml" if Path("hopia.yml").exists() else None)
    if not path:
        return {}
    try:
        values = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: configuration illisible ({exc})") from exc
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: la configuration doit être un dictionnaire YAML")
    return values


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once. Only front ends (the composition roots) call it."""
    try:
        return Settings()
    except ConfigError:
        raise
    except ValueError as exc:  # pydantic's ValidationError: a value of the file or environment
        raise ConfigError(f"configuration invalide : {exc}") from exc

"""Ingest service: documents (and a patient registry) into the warehouse, for every front end.

The rules: the access policy is asked first (``ingest.run``, ``ingest.patients``), before any
file is read; the keys come from ``hopia init`` (an ingest never creates one: new keys under
existing data would give new patients ids that match nobody's); each run writes one audit
entry — counts and the run id only, never a name or a text — in the transaction that closes
the run, failed runs included: an ingest writes patient data.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field
from sqlalchemy import Connection

from hopia.platform import audit
from hopia.platform.config import Settings
from hopia.platform.warehouse import Warehouse
from hopia.platform.warehouse.runs import RunInfo, list_runs
from hopia.services.context import Context, Request
from hopia.services.warehouse import existing_warehouse

if TYPE_CHECKING:
    from hopia.data.ingest.pipeline import IngestPipeline, IngestReport

_PROBE = "M. Jean Dupont, né le 01/02/1950."


class IngestRequest(Request):
    paths: tuple[Path, ...] = Field(min_length=1)
    """Files or folders (walked recursively) to ingest."""
    patients: Path | None = None
    """A patient registry (JSONL or CSV) loaded first, in the same run."""


class LoadPatientsRequest(Request):
    path: Path


class RunsRequest(Request):
    limit: int = Field(default=20, ge=1, le=10_000)
    """How many runs, newest first."""


def ingest(
    ctx: Context,
    request: IngestRequest,
    on_progress: Callable[[int], None] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> IngestReport:
    """Ingest ``request.paths`` into the context's warehouse; the run's report.

    ``on_progress(n)``: ``n`` more documents read (a bar); ``on_ready()``: the models are loaded
    and reading starts (the front end swaps its "loading" message for the bar)."""
    from hopia.data.ingest.runs import IngestReport

    ctx.authorize("ingest.run", "warehouse")
    # The keys first, before any model loads or warehouse opens: never created here.
    ctx.secret(), ctx.vault_key(), ctx.audit_key()
    report = IngestReport()

    def audited(conn: Connection, report: IngestReport, status: str) -> None:
        audit.record(
            conn, ctx.actor, "ingest.run", f"run:{report.run_id}", None, _counts(report, status)
        )

    def patients_audited(conn: Connection, n: int) -> None:
        details = {"patients": n}
        audit.record(conn, ctx.actor, "ingest.patients", "hopia_id.patient", None, details)

    with build_pipeline(ctx.settings, ctx.warehouse()) as pipeline:
        if on_ready is not None:
            on_ready()
        # The registry is loaded under the run's lease, with its audit entry: a run refused
        # because another one writes leaves no identity behind.
        return pipeline.run(
            list(request.paths),
            on_progress,
            report=report,
            on_finish=audited,
            patients=request.patients,
            on_patients=patients_audited,
        )


def runs(ctx: Context, request: RunsRequest) -> list[RunInfo]:
    """The last ingest runs, newest first, as they stand: a run whose process died (killed,
    machine lost) is failed ("interrompue"), marked so in the table when this reader may write.
    What ``hopia warehouse runs`` prints and a web jobs page shows. Not audited: run rows hold
    counts and process names, no patient data (as the warehouse figures)."""
    ctx.authorize("ingest.runs", "warehouse")
    return list_runs(existing_warehouse(ctx), request.limit)


def load_patients(ctx: Context, request: LoadPatientsRequest) -> int:
    """Load a patient registry into the identified space (and their OMOP persons); the number
    of identities. No model is loaded: only the registry is written."""
    from hopia.data.ingest.identities import Identities
    from hopia.data.omop.research_ids import ResearchIds
    from hopia.data.omop.writer import OmopWriter
    from hopia.data.pseudo import Pseudonymiser
    from hopia.data.records.patients import read_patients

    ctx.authorize("ingest.patients", "warehouse")
    secret = ctx.secret()  # never created here: hopia init (KeysMissingError)
    shift = Pseudonymiser(secret, use_model=False).shift_date
    wh = ctx.warehouse()
    identities = Identities(wh, OmopWriter(wh, "registre"), ResearchIds(secret, shift))
    records = list(read_patients(request.path))  # a bad record stops the load before any write
    with wh.begin() as conn:  # the identities and their audit entry, together
        identities.upsert(conn, records)
        details = {"patients": len(records)}
        audit.record(conn, ctx.actor, "ingest.patients", "hopia_id.patient", None, details)
    return len(records)


def expected_documents(ctx: Context, request: IngestRequest) -> int | None:
    """Documents the request should yield, for a progress bar: one per file, one per line of
    JSONL (an estimate: nothing is parsed)."""
    from hopia.data.ingest.readers import iter_paths

    ctx.authorize("ingest.run", "warehouse")  # it opens the inputs
    total = 0
    for f in iter_paths(request.paths):
        if f.suffix.lower() in {".jsonl", ".ndjson"}:
            try:
                with f.open("rb") as fh:
                    total += sum(1 for line in fh if line.strip())
            except OSError:
                total += 1  # the reader will report it as an error
        else:
            total += 1
    return total or None


def build_pipeline(settings: Settings, warehouse: Warehouse) -> IngestPipeline:
    """The configured pipeline, its start-up work done (not in the middle of the first batch):
    the NLP pipeline built or loaded from the cache, the terminologies naming local concepts,
    the pseudonymisation model loaded — in a worker process when ``pseudo.model_worker``, with
    the clinical NER when ``nlp.ner_worker``. Creates no key: ``hopia init`` does."""
    from hopia.data.ingest import ocr
    from hopia.data.ingest.pipeline import IngestPipeline
    from hopia.data.ingest.worker import ModelWorker
    from hopia.data.nlp import extract_with_errors, get_nlp
    from hopia.data.nlp.pipeline import pipeline_system
    from hopia.data.omop.concepts import warm_terminologies
    from hopia.data.pseudo import Pseudonymiser
    from hopia.data.pseudo.vault import Vault
    from hopia.platform.keys import load_secret, load_vault_key, staged_vault_key_file

    ocr.configure(ocr.OcrOptions(**settings.data.ocr.model_dump()))
    warm_terminologies()
    secret = load_secret(settings)
    pseudo, nlp_settings = settings.data.pseudo, settings.data.nlp
    pseudonymiser = Pseudonymiser(
        secret,
        use_model=pseudo.use_model,
        birth_dates=pseudo.birth_dates,
        model_path=pseudo.model_path,
        model_focus=pseudo.model_focus,
    )
    nlp = get_nlp(
        cache_dir=settings.cache_dir,
        cache=nlp_settings.cache_pipeline,
        clinical_ner_weights=nlp_settings.clinical_ner_model,
    )
    ner_pipe = nlp.get_pipe("clinical_ner") if "clinical_ner" in nlp.pipe_names else None
    phi_in_worker = pseudo.use_model and pseudo.model_worker
    ner_in_worker = ner_pipe is not None and nlp_settings.ner_worker
    worker = None
    if phi_in_worker or ner_in_worker:
        worker = ModelWorker(
            pseudo.model_path,
            phi_model=phi_in_worker,
            clinical_ner=ner_in_worker,
            clinical_ner_weights=getattr(ner_pipe, "weights", None),
            focus=pseudo.model_focus,
        )
    try:
        # Load every model now (not in the middle of the first batch) and fail early.
        probe = worker.submit([_PROBE]).result() if worker is not None else None
        model_spans = probe.phi[0] if probe is not None and probe.phi is not None else None
        rule_spans = probe.rules[0] if probe is not None and probe.rules is not None else None
        # in-process model (and rules) where the worker gave none
        pseudonymiser.pseudonymise(_PROBE, model_spans=model_spans, rule_spans=rule_spans)
        vault = Vault(
            warehouse, load_vault_key(settings), staged_key_file=staged_vault_key_file(settings)
        )
    except BaseException:
        if worker is not None:
            worker.close(wait=False)
        raise
    batch_size = nlp_settings.batch_size
    clinical_ner = None
    if ner_pipe is not None:
        from hopia.data.nlp.pipes.clinical_ner.clinical_ner import predict_char_spans

        weights = getattr(ner_pipe, "weights", None)
        clinical_ner = partial(predict_char_spans, weights=weights)  # as the worker calls it
    return IngestPipeline(
        warehouse=warehouse,
        vault=vault,
        pseudonymiser=pseudonymiser,
        model_worker=worker,
        clinical_ner=clinical_ner,
        extract=lambda texts, ner=None: extract_with_errors(
            texts, nlp=nlp, batch_size=batch_size, clinical_ner_spans=ner
        ),
        system=pipeline_system(nlp_settings.clinical_ner_model),
        secret=secret,
        batch_size=batch_size,
        max_document_chars=settings.data.ingest.max_document_chars,
        max_file_bytes=settings.data.ingest.max_file_bytes,
    )


def _counts(report: IngestReport, status: str) -> dict[str, object]:
    return {
        "run_id": report.run_id,
        "status": status,
        "added": report.added,
        "duplicates": report.duplicates,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "pipe_errors": sum(report.pipe_errors.values()),
        "patients": report.patients,
    }

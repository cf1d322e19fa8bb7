"""Assemble the ingest pipeline from the settings: the one place the CLI, demo and bench use."""

from __future__ import annotations

from hopia.data.ingest.pipeline import IngestPipeline
from hopia.data.omop.concepts import warm_terminologies
from hopia.platform.config import Settings, get_settings
from hopia.platform.keys import init_keys, load_secret, load_vault_key
from hopia.platform.warehouse import Warehouse, open_warehouse

_PROBE = "M. Jean Dupont, né le 01/02/1950."


def build_pipeline(
    settings: Settings | None = None, warehouse: Warehouse | None = None
) -> IngestPipeline:
    """The configured pipeline, its start-up work done (not in the middle of the first batch):
    the NLP pipeline built or loaded from the cache, the terminologies naming local concepts,
    the pseudonymisation model loaded — in a worker process when ``pseudo.model_worker``, with
    the clinical NER when ``nlp.ner_worker``."""
    from hopia.data.ingest.worker import ModelWorker
    from hopia.data.nlp import PIPELINE_SYSTEM, extract, get_nlp
    from hopia.data.pseudo import Pseudonymiser
    from hopia.data.pseudo.vault import Vault

    settings = settings or get_settings()
    warm_terminologies()
    init_keys(settings)  # the first ingest creates the keys it needs to write anything
    secret = load_secret(settings)
    pseudonymiser = Pseudonymiser(
        secret,
        use_model=settings.data.pseudo.use_model,
        birth_dates=settings.data.pseudo.birth_dates,
    )
    nlp = get_nlp()
    ner_pipe = nlp.get_pipe("clinical_ner") if "clinical_ner" in nlp.pipe_names else None
    phi_in_worker = settings.data.pseudo.use_model and settings.data.pseudo.model_worker
    ner_in_worker = ner_pipe is not None and settings.data.nlp.ner_worker
    worker = None
    if phi_in_worker or ner_in_worker:
        worker = ModelWorker(
            phi_model=phi_in_worker,
            clinical_ner=ner_in_worker,
            clinical_ner_weights=getattr(ner_pipe, "weights", None),
        )
    # Load every model now (not in the middle of the first batch) and fail early.
    probe = worker.submit([_PROBE]).result() if worker is not None else None
    model_spans = probe.phi[0] if probe is not None and probe.phi is not None else None
    pseudonymiser.pseudonymise(_PROBE, model_spans=model_spans)  # in-process model when None
    wh = warehouse or open_warehouse(settings)
    return IngestPipeline(
        warehouse=wh,
        vault=Vault(wh, load_vault_key(settings)),
        pseudonymiser=pseudonymiser,
        model_worker=worker,
        extract=lambda texts, ner=None: extract(
            texts, batch_size=settings.data.nlp.batch_size, clinical_ner_spans=ner
        ),
        system=PIPELINE_SYSTEM,
        secret=secret,
        batch_size=settings.data.nlp.batch_size,
    )

"""Assemble the ingest pipeline from the settings: the one place the CLI, demo and bench use."""

from __future__ import annotations

from hopia.data.ingest.pipeline import IngestPipeline
from hopia.data.omop.concepts import warm_terminologies
from hopia.platform.config import Settings, get_settings
from hopia.platform.warehouse import Warehouse, open_warehouse


def build_pipeline(
    settings: Settings | None = None, warehouse: Warehouse | None = None
) -> IngestPipeline:
    from hopia.data.nlp import PIPELINE_SYSTEM, extract, get_nlp
    from hopia.data.pseudo import Pseudonymiser
    from hopia.data.pseudo.vault import Vault

    settings = settings or get_settings()
    # Start-up work done now, not in the middle of the first batch: the NLP pipeline (built or
    # loaded from the cache) and the terminologies that name local concepts.
    get_nlp()
    warm_terminologies()
    secret = settings.resolved_secret()
    pseudonymiser = Pseudonymiser(secret)
    pseudonymiser.pseudonymise("M. Jean Dupont, né le 01/02/1950.")  # loads its models, fails early
    wh = warehouse or open_warehouse(settings)
    return IngestPipeline(
        warehouse=wh,
        vault=Vault(wh, settings.resolved_vault_key()),
        pseudonymiser=pseudonymiser,
        extract=lambda texts: extract(texts, batch_size=settings.nlp.batch_size),
        system=PIPELINE_SYSTEM,
        secret=secret,
        batch_size=settings.nlp.batch_size,
    )

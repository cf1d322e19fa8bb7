"""The ingest's computing components, built once per Python worker of a Spark executor.

A Spark task ships its function to an executor's Python worker; building Hopia's NLP pipeline and
pseudonymiser there costs seconds, so :func:`components` keeps them in a module-level cache keyed
by the job's :class:`JobConfig`: every partition a worker runs reuses them (Spark reuses its
Python workers, ``spark.python.worker.reuse``, on by default). The components are the local
ingest's, built from the same settings as :func:`hopia.services.ingest.build_pipeline` builds
them (the models run in the worker's own process: there is no models worker here).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from hopia.data.ingest.analysis import Analyser
from hopia.data.omop.research_ids import ResearchIds


@dataclass(frozen=True)
class JobConfig:
    """What an executor needs to build the components: plain values, pickled with the task.

    ``secret`` is the pseudonymisation secret (surrogates, date offsets, research ids): the
    executors need it as the local ingest does; ship the job only to executors of the
    hospital's own cluster. ``today`` stands in for the date of an undated document (the local
    ingest uses the day it runs)."""

    secret: bytes
    use_model: bool
    birth_dates: str
    model_path: str | None
    model_focus: bool
    cache_dir: str
    cache_pipeline: bool
    clinical_ner_model: str | None
    batch_size: int
    max_document_chars: int | None
    today: date

    @classmethod
    def from_settings(cls, settings: Any, secret: bytes, today: date) -> JobConfig:
        """The job's configuration from Hopia's settings (as the local ingest reads them)."""
        pseudo, nlp = settings.data.pseudo, settings.data.nlp
        return cls(
            secret=secret,
            use_model=pseudo.use_model,
            birth_dates=pseudo.birth_dates,
            model_path=None if pseudo.model_path is None else str(pseudo.model_path),
            model_focus=pseudo.model_focus,
            cache_dir=str(settings.cache_dir),
            cache_pipeline=nlp.cache_pipeline,
            clinical_ner_model=(
                None if nlp.clinical_ner_model is None else str(nlp.clinical_ner_model)
            ),
            batch_size=nlp.batch_size,
            max_document_chars=settings.data.ingest.max_document_chars,
            today=today,
        )


@dataclass
class Components:
    """The pseudonymiser, the analyser (pseudonymisation then NLP), the research ids and the
    NLP system's name, as the local ingest holds them."""

    pseudonymiser: Any
    analyser: Analyser
    research: ResearchIds
    system: str


_CACHE: dict[JobConfig, Components] = {}
_LOCK = threading.Lock()
#: How many times this process built the components (a test checks it is once per worker).
builds = 0


def components(config: JobConfig) -> Components:
    """The components of ``config``, built at the first call in this process."""
    global builds
    with _LOCK:
        found = _CACHE.get(config)
        if found is None:
            found = _CACHE[config] = _build(config)
            builds += 1
        return found


def _build(config: JobConfig) -> Components:
    from hopia.data.nlp import extract_with_errors, get_nlp
    from hopia.data.nlp.pipeline import pipeline_system
    from hopia.data.omop.concepts import warm_terminologies
    from hopia.data.pseudo import Pseudonymiser

    warm_terminologies()
    pseudonymiser = Pseudonymiser(
        config.secret,
        use_model=config.use_model,
        birth_dates=config.birth_dates,
        model_path=None if config.model_path is None else Path(config.model_path),
        model_focus=config.model_focus,
    )
    ner_model = None if config.clinical_ner_model is None else Path(config.clinical_ner_model)
    nlp = get_nlp(
        cache_dir=Path(config.cache_dir),
        cache=config.cache_pipeline,
        clinical_ner_weights=ner_model,
    )
    ner_pipe = nlp.get_pipe("clinical_ner") if "clinical_ner" in nlp.pipe_names else None
    clinical_ner = None
    if ner_pipe is not None:
        from hopia.data.nlp.pipes.clinical_ner.clinical_ner import predict_char_spans

        clinical_ner = partial(predict_char_spans, weights=getattr(ner_pipe, "weights", None))
    batch_size = config.batch_size

    def extract(texts: Any, ner: Any = None) -> Any:
        return extract_with_errors(texts, nlp=nlp, batch_size=batch_size, clinical_ner_spans=ner)

    return Components(
        pseudonymiser=pseudonymiser,
        analyser=Analyser(pseudonymiser, extract, clinical_ner),
        research=ResearchIds(config.secret, pseudonymiser.shift_date),
        system=pipeline_system(ner_model),
    )

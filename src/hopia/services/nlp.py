"""Clinical NLP service: entities of texts (EDS-NLP rule pipeline with Hopia's pipes), the
evaluation against gold mentions, and the training of the statistical clinical NER.

The settings are read here, from the context, and handed down: the pipeline's cache folder
(``settings.cache_dir``) and whether to use it (``settings.data.nlp.cache_pipeline``), the batch
size (``settings.data.nlp.batch_size``, unless the request gives one).

No audit entry: the texts come from the caller and go back to the caller, nothing is read from
the warehouse or released from it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from hopia.platform.exceptions import InvalidRequestError, NotFoundError
from hopia.platform.files import atomic_file
from hopia.services.context import Context, Request
from hopia.services.texts import (
    FileRunResult,
    LineErrorCallback,
    ProgressCallback,
    TextItem,
    require_file,
    run_jsonl,
)

if TYPE_CHECKING:
    import edsnlp

    from hopia.data.nlp import Entity
    from hopia.data.nlp.evaluate import EvalResult  # noqa: F401 - the CLI's type
    from hopia.data.nlp.evaluate.e3c import E3cEval
    from hopia.data.nlp.evaluate.qualifiers import QualifierEval
    from hopia.data.nlp.isolation import PipeError

#: Semantic groups counted in the micro total when the request names none, per gold kind.
DEFAULT_LABELS: dict[str, tuple[str, ...]] = {
    "brat": ("DISO", "CHEM", "PROC"),
    "jsonl": ("DISO", "CHEM", "LAB"),
}


def pipeline(ctx: Context) -> edsnlp.Pipeline:
    """The process-wide NLP pipeline, loaded from (or built into) the installation's cache.
    Front ends may call it ahead of a run to show the loading."""
    from hopia.data.nlp import get_nlp

    nlp = ctx.settings.data.nlp
    if nlp.clinical_ner_model is not None:
        from hopia.data.nlp.pipes.clinical_ner.model import load_model

        # a wrong setting stops here, before any output, not on every text (ModelError)
        load_model(nlp.clinical_ner_model)
    return get_nlp(
        cache_dir=ctx.settings.cache_dir,
        cache=nlp.cache_pipeline,
        clinical_ner_weights=nlp.clinical_ner_model,
    )


# -- extraction ----------------------------------------------------------------------------------


class ExtractTextsRequest(Request):
    items: list[TextItem]
    batch_size: int | None = Field(None, ge=1)


class ExtractFileRequest(Request):
    input: Path
    output: Path
    batch_size: int | None = Field(None, ge=1)
    engine: Literal["rules", "llm"] = "rules"
    model: str | None = Field(None, min_length=1, max_length=60)  # engine llm: packaged model
    threads: int = Field(2, ge=1, le=64)  # engine llm: llama.cpp threads


@dataclass(frozen=True)
class ExtractedText:
    id: str
    entities: tuple[Entity, ...]
    #: the pipes that failed on this text (their output is missing, the others' is there)
    errors: tuple[PipeError, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The ``nlp extract`` output line: ``{"id", "entities", "errors"}``; ``errors`` lists
        ``{"pipe", "error", "message"}`` (no text of the document), empty when all went well."""
        from hopia.data.nlp import entity_to_json

        return {
            "id": self.id,
            "entities": [entity_to_json(e) for e in self.entities],
            "errors": [e.to_json() for e in self.errors],
        }


@dataclass(frozen=True)
class ExtractFileResult(FileRunResult):
    """:class:`FileRunResult` plus ``pipe_errors``: output lines whose ``errors`` is not empty
    (written with what the other pipes found); with the LLM engine, ``dropped``: spans the
    model quoted that are not in the text (left out, never given invented offsets)."""

    pipe_errors: int = 0
    dropped: int = 0


def _extracted(
    ctx: Context, items: Iterator[TextItem], batch_size: int | None
) -> Iterator[ExtractedText]:
    """Entities of each item, streamed in order (items are consumed lazily, in batches)."""
    from hopia.data.nlp import extract_with_errors

    nlp = pipeline(ctx)
    ids: deque[str] = deque()

    def texts() -> Iterator[str]:
        for item in items:
            ids.append(item.id)
            yield item.text

    size = batch_size or ctx.settings.data.nlp.batch_size
    for found in extract_with_errors(texts(), nlp=nlp, batch_size=size):
        yield ExtractedText(ids.popleft(), tuple(found.entities), found.errors)


def extract_texts(ctx: Context, request: ExtractTextsRequest) -> list[ExtractedText]:
    """The entities of each item, in order, with their qualifiers and codes."""
    ctx.authorize("nlp.extract", "texts")
    return list(_extracted(ctx, iter(request.items), request.batch_size))


def extract_file(
    ctx: Context,
    request: ExtractFileRequest,
    *,
    on_line_error: LineErrorCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> ExtractFileResult:
    """One ``{"id", "entities", "errors"}`` line per valid input line of ``input``, written to
    ``output`` all at once; a broken line goes to ``on_line_error`` and is skipped; a text on
    which a pipe failed is written with the other pipes' entities and that failure."""
    require_file(request.input, "input")
    ctx.authorize("nlp.extract", str(request.input))
    if request.engine == "llm":
        return _extract_file_llm(ctx, request, on_line_error, on_progress)
    pipeline(ctx)  # load before the output is opened: a failure leaves nothing behind

    pipe_errors = 0

    def process(items: Iterator[TextItem]) -> Iterator[dict[str, Any]]:
        nonlocal pipe_errors
        for extracted in _extracted(ctx, items, request.batch_size):
            pipe_errors += bool(extracted.errors)
            yield extracted.to_json()

    result = run_jsonl(
        request.input,
        request.output,
        process,
        on_line_error=on_line_error,
        on_progress=on_progress,
    )
    return ExtractFileResult(result.output, result.done, result.errors, pipe_errors)


def _extract_file_llm(
    ctx: Context,
    request: ExtractFileRequest,
    on_line_error: LineErrorCallback | None,
    on_progress: ProgressCallback | None,
) -> ExtractFileResult:
    """The same lines from the embedded LLM (:mod:`hopia.assistant.extraction`), one text at a
    time; the model is loaded before the output is opened."""
    from hopia.assistant.llm.packaged import DEFAULT_MODEL
    from hopia.services.llm_eval import llm_extractor

    extractor = llm_extractor(ctx, request.model or DEFAULT_MODEL, request.threads)
    dropped = 0

    def process(items: Iterator[TextItem]) -> Iterator[dict[str, Any]]:
        nonlocal dropped
        for item in items:
            entities, lost = extractor.extract(item.text)
            dropped += lost
            yield ExtractedText(item.id, tuple(entities)).to_json()

    result = run_jsonl(
        request.input,
        request.output,
        process,
        on_line_error=on_line_error,
        on_progress=on_progress,
    )
    return ExtractFileResult(result.output, result.done, result.errors, 0, dropped)


# -- evaluation ----------------------------------------------------------------------------------


class EvaluateRequest(Request):
    brat: Path | None = None  # a BRAT folder (QUAERO)
    gold: Path | None = None  # or a hopia synth gold.jsonl (or its folder)
    labels: list[str] | None = None  # groups of the micro total; default DEFAULT_LABELS
    json_out: Path | None = None
    eds: bool = True  # also run raw EDS-NLP
    groups: list[str] | None = None  # only count these span groups of Hopia's pipeline
    limit: int | None = Field(None, ge=1)


#: ``on_progress(system_title, done, total)``: documents predicted by one system.
EvalProgress = Callable[[str, int, int], None]


def evaluate(
    ctx: Context, request: EvaluateRequest, *, on_progress: EvalProgress | None = None
) -> EvalResult:
    """Hopia's pipeline (and raw EDS-NLP unless ``eds`` is false) against gold mentions:
    per-group scores, exact and overlap, qualifier accuracy and speed. The figures also go to
    ``json_out`` when given."""
    if (request.brat is None) == (request.gold is None):
        raise InvalidRequestError(
            "indiquer soit un dossier BRAT, soit un fichier d'or hopia synth",
            fields=("brat", "gold"),
        )
    if request.labels is not None and not [x for x in request.labels if x.strip()]:
        raise InvalidRequestError("aucun groupe à compter", fields=("labels",))
    from hopia.data.nlp import evaluate as ev

    ctx.authorize("nlp.eval", str(request.brat or request.gold))
    if request.brat is not None:
        gold = ev.read_brat(request.brat)
    else:
        gold = ev.read_synth_gold(request.gold)  # type: ignore[arg-type]
    if request.limit is not None:
        gold.docs = gold.docs[: request.limit]
    wanted = [x.strip() for x in request.labels or DEFAULT_LABELS[gold.kind] if x.strip()]
    cache_dir = ctx.settings.cache_dir
    cache = ctx.settings.data.nlp.cache_pipeline
    weights = ctx.settings.data.nlp.clinical_ner_model
    systems = [
        ev.hopia_system(
            cache_dir, request.groups or None, cache=cache, clinical_ner_weights=weights
        )
    ]
    if request.eds:
        systems.append(ev.eds_system(cache_dir))
    titles = {s.key: s.title for s in systems}
    done = dict.fromkeys(titles, 0)

    def on_doc(key: str) -> None:
        done[key] += 1
        if on_progress is not None:
            on_progress(titles[key], done[key], len(gold.docs))

    result = ev.evaluate(gold, systems, wanted, on_doc=on_doc)
    if request.json_out is not None:
        import json

        with atomic_file(request.json_out) as out:
            out.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
    return result


class EvaluateQualifiersRequest(Request):
    file: Path | None = None  # a qualifier JSONL; default: the shipped French set
    split: str | None = None  # only the sentences of this split ("dev", "test")
    eds: bool = True  # also run raw EDS-NLP
    json_out: Path | None = None


def evaluate_qualifiers(
    ctx: Context,
    request: EvaluateQualifiersRequest,
    *,
    on_progress: EvalProgress | None = None,
) -> QualifierEval:
    """Per-qualifier precision, recall and F1 on target mentions (negation, hypothesis, family,
    history, test result), for Hopia and raw EDS-NLP, per split of the set."""
    from hopia.data.nlp.evaluate import qualifiers as q

    path = request.file or q.default_set()
    if request.file is not None:
        require_file(request.file, "file")
    ctx.authorize("nlp.eval", str(path))
    cases = q.read_cases(path)
    if request.split is not None:
        cases = [c for c in cases if c.split == request.split]
        if not cases:
            raise InvalidRequestError(
                f"aucune phrase dans la partie « {request.split} »", fields=("split",)
            )
    cache_dir = ctx.settings.cache_dir
    systems = [q.hopia_qualifier_system(cache_dir, cache=ctx.settings.data.nlp.cache_pipeline)]
    if request.eds:
        systems.append(q.eds_qualifier_system(cache_dir))
    titles = {s.key: s.title for s in systems}
    done = dict.fromkeys(titles, 0)

    def on_case(key: str) -> None:
        done[key] += 1
        if on_progress is not None:
            on_progress(titles[key], done[key], len(cases))

    result = q.evaluate_qualifiers(cases, systems, str(path), on_case=on_case)
    if request.json_out is not None:
        import json

        with atomic_file(request.json_out) as out:
            out.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
    return result


class EvaluateE3cRequest(Request):
    corpus: Path  # the folder of E3C's French layer-1 XMI files
    split: str | None = None  # "dev" or "test" (documents split by a hash of their id)
    eds: bool = True  # also run raw EDS-NLP
    errors_out: Path | None = None  # the dev split's negation errors (JSONL), dev only
    json_out: Path | None = None


def evaluate_e3c(
    ctx: Context, request: EvaluateE3cRequest, *, on_progress: EvalProgress | None = None
) -> E3cEval:
    """Negation and hedging of the mentions Hopia finds in E3C's French clinical cases, against
    the corpus's event polarity and modality (:mod:`hopia.data.nlp.evaluate.e3c`)."""
    from hopia.data.nlp.evaluate import e3c
    from hopia.data.nlp.evaluate.systems import eds_system, hopia_system

    if request.split is not None and request.split not in e3c.SPLITS:
        raise InvalidRequestError(
            f"partie inconnue : « {request.split} » (dev ou test)", fields=("split",)
        )
    if request.errors_out is not None and request.split != "dev":
        raise InvalidRequestError(
            "les erreurs ne se lisent que sur la partie dev : la partie test "
            "reste un chiffre sur lequel personne n'a réglé les règles",
            fields=("errors_out",),
        )
    if not request.corpus.is_dir():
        raise InvalidRequestError(f"{request.corpus} : dossier introuvable", fields=("corpus",))
    ctx.authorize("nlp.eval", str(request.corpus))
    documents = e3c.read_corpus(request.corpus)
    if request.split is not None:
        documents = [d for d in documents if d.split == request.split]
    cache_dir = ctx.settings.cache_dir
    settings = ctx.settings.data.nlp
    systems = [
        hopia_system(
            cache_dir,
            cache=settings.cache_pipeline,
            clinical_ner_weights=settings.clinical_ner_model,
        )
    ]
    if request.eds:
        systems.append(eds_system(cache_dir))
    titles = {s.key: s.title for s in systems}
    done = dict.fromkeys(titles, 0)

    def on_doc(key: str) -> None:
        done[key] += 1
        if on_progress is not None:
            on_progress(titles[key], done[key], len(documents))

    result = e3c.evaluate(documents, systems, str(request.corpus), on_doc=on_doc)
    import json

    if request.json_out is not None:
        with atomic_file(request.json_out) as out:
            out.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
    if request.errors_out is not None:
        with atomic_file(request.errors_out) as out:
            for line in result.errors("hopia", documents):
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return result


# -- training ------------------------------------------------------------------------------------


class TrainRequest(Request):
    brat: Path
    out: Path | None = None  # default: <home>/models/clinical_ner (see default_model_folder)
    seed: int = 13
    max_minutes: float = Field(40.0, ge=0.1)
    max_epochs: int = Field(12, ge=1)
    resume: bool = False  # start from the checkpoint an interrupted run left


@dataclass(frozen=True)
class TrainResult:
    out: Path
    meta: dict[str, Any]  # the model's ``hopia`` metadata (meta.json)


def default_model_folder(ctx: Context) -> Path:
    """Where ``hopia nlp train`` writes when no folder is given: under the data directory
    (``home``), never in the installed package. Select it afterwards with the setting
    ``data.nlp.clinical_ner_model``."""
    return ctx.settings.home / "models" / "clinical_ner"


def refuse_package_folder(out: Path, field: str = "out") -> None:
    """A model folder inside the installed ``hopia`` package is refused: an upgrade would
    replace it, a read-only installation cannot take it, and the shipped weights must stay
    what was released."""
    import hopia

    package = Path(hopia.__file__).resolve().parent
    target = Path(out).resolve()
    if target == package or package in target.parents:
        raise InvalidRequestError(
            f"le modèle ne peut pas être écrit dans le paquet hopia installé ({package}) : "
            "choisir un dossier de données",
            fields=(field,),
        )


def train(
    ctx: Context, request: TrainRequest, *, log: Callable[[str], None] | None = None
) -> TrainResult:
    """Train the statistical clinical NER (``hopia.clinical_ner``) on a BRAT folder; write the
    model folder ``out`` (default :func:`default_model_folder`) atomically, each epoch
    checkpointed beside it (``<out>.checkpoint``)."""
    from hopia.data.nlp.pipes.clinical_ner.train import NerTrainConfig, train_model

    out = request.out if request.out is not None else default_model_folder(ctx)
    refuse_package_folder(out)
    if not request.brat.is_dir():
        raise NotFoundError(f"dossier BRAT introuvable : {request.brat}", fields=("brat",))
    ctx.authorize("nlp.train", str(out))
    config = NerTrainConfig(
        brat=request.brat,
        seed=request.seed,
        max_minutes=request.max_minutes,
        max_epochs=request.max_epochs,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    return TrainResult(out, train_model(out, config, log=log, resume=request.resume))

"""Pseudonymisation service: texts in, pseudonymised texts out; the detector's evaluation and
training.

Rules, for every front end:

- the pseudonymisation secret comes from the installation (``ctx.secret()``): a run never
  creates it, a fresh installation is told to run ``hopia init`` (:class:`KeysMissingError`);
- the detector follows ``settings.data.pseudo`` (statistical model on or off, birth dates);
- a JSONL run reports each broken line and goes on; its output appears all at once;
- the trainer receives its synthetic notes from here (:func:`synth_notes`): the same command
  rebuilds the shipped weights (``hopia pseudo train``, see :mod:`hopia.cli.pseudo_train`);
  it writes under the installation's home by default and never into the installed package;
- the model used (ingest, ``pseudo run``, ``pseudo eval``) is ``data.pseudo.model_path`` when
  set, else the shipped weights.

No audit entry: the texts come from the caller and go back to the caller, nothing is read
from the warehouse or released from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from hopia.platform.exceptions import HopiaError, InvalidRequestError, NotFoundError
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
    from hopia.data.pseudo import Pseudonymiser
    from hopia.data.pseudo.evaluate import EvalReport  # noqa: F401 - the CLI's type
    from hopia.data.pseudo.train import Note

Policy = Literal["surrogate", "tag", "mask"]
Split = Literal["heldout", "all"]

# Detection does not depend on the secret: the evaluation needs none from the installation.
_EVAL_SECRET = b"hopia-pseudo-eval"


# -- pseudonymising texts ------------------------------------------------------------------------


class PseudonymiseTextsRequest(Request):
    items: list[TextItem]
    policy: Policy = "surrogate"


class PseudonymiseFileRequest(Request):
    input: Path
    output: Path
    policy: Policy = "surrogate"


@dataclass(frozen=True)
class PhiEntity:
    """A replaced span, offsets into the input text."""

    start: int
    end: int
    label: str


@dataclass(frozen=True)
class PseudonymisedText:
    id: str
    pseudo_text: str
    entities: tuple[PhiEntity, ...]

    def to_json(self) -> dict[str, Any]:
        """The ``pseudo run`` output line: ``{"id", "pseudo_text", "entities"}``."""
        return {
            "id": self.id,
            "pseudo_text": self.pseudo_text,
            "entities": [{"start": e.start, "end": e.end, "label": e.label} for e in self.entities],
        }


def _pseudonymiser(ctx: Context, policy: Policy) -> Pseudonymiser:
    from hopia.data.pseudo import Pseudonymiser

    pseudo = ctx.settings.data.pseudo
    return Pseudonymiser(
        ctx.secret(),
        policy,
        use_model=pseudo.use_model,
        birth_dates=pseudo.birth_dates,
        model_path=pseudo.model_path,
        model_focus=pseudo.model_focus,
    )


def _pseudonymise(pseudonymiser: Pseudonymiser, item: TextItem) -> PseudonymisedText:
    result = pseudonymiser.pseudonymise(item.text, patient_key=item.patient_id)
    entities = tuple(PhiEntity(s.start, s.end, s.label) for s in result.spans)
    return PseudonymisedText(item.id, result.pseudo_text, entities)


def pseudonymise_texts(ctx: Context, request: PseudonymiseTextsRequest) -> list[PseudonymisedText]:
    """Each item pseudonymised, in order. The same ``patient_id`` gets the same surrogates."""
    ctx.authorize("pseudo.run", "texts")
    pseudonymiser = _pseudonymiser(ctx, request.policy)
    return [_pseudonymise(pseudonymiser, item) for item in request.items]


@dataclass(frozen=True)
class PseudoFileRunResult(FileRunResult):
    """A file run, plus ``failed``: documents whose line carries ``errors`` (no text)."""

    failed: int = 0


def failed_line(item_id: str, exc: BaseException) -> dict[str, Any]:
    """The output line of a document the pseudonymiser could not handle: no ``pseudo_text``
    (a half-pseudonymised text could leak what the failed part would have hidden), and an
    ``errors`` entry naming the stage and the error class. The exception's own message is kept
    only for Hopia's errors (French, written to be shown); another exception's message may quote
    the document."""
    message = exc.message if isinstance(exc, HopiaError) else "erreur interne"
    return {
        "id": item_id,
        "pseudo_text": None,
        "entities": [],
        "errors": [{"pipe": "pseudonymisation", "error": type(exc).__name__, "message": message}],
    }


def pseudonymise_file(
    ctx: Context,
    request: PseudonymiseFileRequest,
    *,
    on_line_error: LineErrorCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> PseudoFileRunResult:
    """One ``{"id", "pseudo_text", "entities"}`` line per valid input line of ``input``,
    written to ``output`` all at once; a broken line goes to ``on_line_error`` and is skipped.
    A document the pseudonymiser fails on still gets its line, with ``errors`` and no text
    (:func:`failed_line`), and the run goes on: one bad document never loses the batch.
    """
    require_file(request.input, "input")
    ctx.authorize("pseudo.run", str(request.input))
    pseudonymiser = _pseudonymiser(ctx, request.policy)  # no secret: fails before any write
    failed = 0

    def process(items: Iterator[TextItem]) -> Iterator[dict[str, Any]]:
        nonlocal failed
        for item in items:
            try:
                row = _pseudonymise(pseudonymiser, item).to_json()
            except Exception as exc:  # one document, whatever broke: recorded, the run goes on
                failed += 1
                row = failed_line(item.id, exc)
            yield row

    result = run_jsonl(
        request.input,
        request.output,
        process,
        on_line_error=on_line_error,
        on_progress=on_progress,
    )
    return PseudoFileRunResult(result.output, result.done, result.errors, failed)


# -- evaluation ----------------------------------------------------------------------------------


class EvaluateRequest(Request):
    gold: list[Path] = Field(min_length=1)
    split: Split = "heldout"
    json_out: Path | None = None


@dataclass(frozen=True)
class EvaluateResult:
    report: EvalReport
    documents_total: int  # gold documents read, before the split
    split: Split
    chars_per_document: int  # mean length of the evaluated documents
    json_out: Path | None


def evaluate(
    ctx: Context,
    request: EvaluateRequest,
    *,
    on_progress: ProgressCallback | None = None,
) -> EvaluateResult:
    """Score the detector (rules, gazetteers and model, as shipped) on annotated notes: the
    held-out part (``split="heldout"``, never trained on) or all of them. The full report also
    goes to ``json_out`` when given."""
    from hopia.data.pseudo import Pseudonymiser
    from hopia.data.pseudo import evaluate as ev

    ctx.authorize("pseudo.eval", ",".join(str(p) for p in request.gold))
    docs = [doc for path in request.gold for doc in ev.load_gold(path)]
    selected = ev.held_out(docs)[1] if request.split == "heldout" else docs
    pseudo = ctx.settings.data.pseudo
    predict = ev.pseudonymiser_predict(
        Pseudonymiser(
            _EVAL_SECRET,
            use_model=pseudo.use_model,
            model_path=pseudo.model_path,
            model_focus=pseudo.model_focus,
        )
    )
    done = 0

    def tracked(doc: ev.PhiGoldDoc) -> list[Any]:
        nonlocal done
        spans = predict(doc)
        done += 1
        if on_progress is not None:
            on_progress(done, len(selected))
        return spans

    report = ev.evaluate(tracked, selected)
    if request.json_out is not None:
        extra = {"gold": [str(p) for p in request.gold], "split": request.split}
        with atomic_file(request.json_out) as out:
            out.write(report.to_json(**extra, documents_total=len(docs)) + "\n")
    chars = sum(len(d.text) for d in selected) // max(len(selected), 1)
    return EvaluateResult(report, len(docs), request.split, chars, request.json_out)


# -- training ------------------------------------------------------------------------------------


class TrainRequest(Request):
    shared: Path
    out: Path | None = None  # default: default_model_dir(home)
    resume: bool = False
    synth_patients: int = Field(150, ge=0)
    seed: int = 101
    max_minutes: float = Field(20.0, ge=0.1)
    max_epochs: int = Field(12, ge=1)
    width: int | None = Field(None, ge=16)
    depth: int | None = Field(None, ge=1)
    # share of the shared notes also given an augmented variant (0: learnt as written)
    augment_shared: float = Field(0.0, ge=0.0, le=1.0)


@dataclass(frozen=True)
class TrainResult:
    out: Path
    meta: dict[str, Any]  # the model's ``hopia`` metadata (meta.json)


def synth_notes(n_patients: int, seed: int) -> list[Note]:
    """Every document of a synthetic CHU (the rendered ones too, as their plain text), sorted
    by document id, as training notes ``synth-{seed}-{doc.id}``."""
    from hopia.data.pseudo.train import Note

    if n_patients <= 0:
        return []
    from hopia.data.synth import generate

    corpus = generate(n_patients, seed)
    docs = sorted(corpus.documents + [r.document for r in corpus.renditions], key=lambda d: d.id)
    return [
        Note(
            f"synth-{seed}-{d.id}",
            d.text,
            tuple((p["start"], p["end"], p["label"]) for p in d.phi),
            "synth",
        )
        for d in docs
    ]


def default_model_dir(home: Path) -> Path:
    """Where ``pseudo train`` writes when no folder is given: under the installation's home,
    beside its warehouse (point ``data.pseudo.model_path`` at it to use the model)."""
    return Path(home) / "models" / "pseudo"


def _package_folder() -> Path:
    import hopia

    return Path(hopia.__file__).resolve().parent


def check_model_out(out: Path) -> Path:
    """``out`` resolved, refused when it lies in the installed package: a retrained model there
    would be lost at the next upgrade, shadow the shipped one for every user of the
    installation, and a half-written one would break them all."""
    resolved = Path(out).expanduser().resolve()
    package = _package_folder()
    if resolved == package or package in resolved.parents:
        raise InvalidRequestError(
            f"le modèle ne peut pas être écrit dans le paquet installé ({package}) : choisir un "
            "dossier de données (par défaut <home>/models/pseudo) et y pointer le réglage "
            "data.pseudo.model_path",
            fields=("out",),
        )
    return resolved


def train(
    ctx: Context,
    request: TrainRequest,
    *,
    log: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train the statistical PHI detector on a synthetic CHU of ``synth_patients`` patients
    (``seed``) plus the annotated notes of ``shared`` that are not held out; write the model
    folder ``out`` (default :func:`default_model_dir`, never the installed package) atomically.
    Each epoch is checkpointed; ``resume`` continues an interrupted run."""
    from hopia.data.pseudo.model import DEFAULT_ARCH
    from hopia.data.pseudo.train import PhiTrainConfig, train_model

    out = check_model_out(request.out or default_model_dir(ctx.settings.home))
    if not request.shared.is_dir():
        raise NotFoundError(f"dossier introuvable : {request.shared}", fields=("shared",))
    ctx.authorize("pseudo.train", str(out))
    arch = dict(DEFAULT_ARCH)
    for key, value in (("width", request.width), ("depth", request.depth)):
        if value is not None:
            arch[key] = value
    config = PhiTrainConfig(
        shared=request.shared,
        synth_patients=request.synth_patients,
        seed=request.seed,
        max_minutes=request.max_minutes,
        max_epochs=request.max_epochs,
        arch=arch,
        augment_shared=request.augment_shared,
    )
    synth = synth_notes(config.synth_patients, config.seed)
    meta = train_model(out, config, synth=synth, log=log, resume=request.resume)
    return TrainResult(out, meta)

"""Predictive-model service: train on the warehouse or on UCI, re-evaluate a saved model.

The rules, for every front end:

- the options are checked before anything is read: the target, the model (a name of the
  :data:`~hopia.data.predict.models.MODELS` registry, plug-ins included) and the output folder
  (not empty without ``force``: checked before minutes of training, not after);
- the access policy is asked next (``predict.train``, ``predict.uci``, ``predict.evaluate``);
- training and re-evaluating on the warehouse are audited (``predict.train``,
  ``predict.evaluate``: hashes and counts only); the UCI data set is public and is not;
- LightGBM's threads default to the site's ``data.predict.threads``.

Scikit-learn and LightGBM are imported inside the functions: importing this module costs
nothing to a front end that does not train.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from hopia.platform import audit
from hopia.platform.exceptions import InvalidRequestError
from hopia.services.context import Context, Request
from hopia.services.warehouse import existing_warehouse

if TYPE_CHECKING:
    from hopia.data.predict import PredictConfig, SavedModel, TrainResult
    from hopia.data.predict.evaluate import Evaluation


class _TrainRequest(Request):
    out: Path
    """The model folder (model.joblib, card.md, card.json, calibration.png)."""
    model: str = "gbm"
    """A name of the predictive-model registry (gbm, logistic, plug-ins)."""
    test_fraction: float = Field(0.25, ge=0.05, le=0.5)
    seed: int = 42
    bootstrap: int = Field(500, ge=0)
    """Resamples of the AUROC's confidence interval."""
    threads: int | None = Field(None, ge=1, le=2)
    """LightGBM threads; default ``data.predict.threads``."""
    force: bool = False
    """Replace a non-empty model folder."""


class TrainRequest(_TrainRequest):
    target: str = "readmission_30d"
    horizon: int = Field(30, ge=1)
    """Readmission window, in days."""
    long_stay_days: int = Field(7, ge=1)
    stay_gap: int = Field(1, ge=0)
    """Hospital visits less than this many days apart form one stay."""
    min_count: int = Field(10, ge=1)
    """Training rows a code must be present in to be kept."""


class UciTrainRequest(_TrainRequest):
    data: Path
    """The UCI diabetes 130-US hospitals archive (zip) or its CSV."""
    sample: int | None = Field(None, ge=10)
    """Use only this many patients, drawn at random (trials)."""


class EvaluateRequest(Request):
    model: Path
    """A trained model's folder."""
    data: Path | None = None
    """The UCI data (UCI models only)."""


@dataclass(frozen=True)
class Trained:
    result: TrainResult
    out: Path
    audit_id: int | None = None
    """The ``predict.train`` entry (warehouse trainings only)."""


@dataclass(frozen=True)
class Evaluated:
    saved: SavedModel
    evaluation: Evaluation
    audit_id: int | None = None
    """The ``predict.evaluate`` entry (warehouse models only)."""


def _config(ctx: Context, request: _TrainRequest, target: dict[str, Any], **values: Any) -> Any:
    """The training configuration; a bad target or model is the request's error."""
    from hopia.data.predict import PredictConfig, TargetSpec
    from hopia.data.predict.models import model_factory
    from hopia.data.predict.store import check_model_folder

    try:
        spec = TargetSpec(**target)
    except ValueError as exc:  # the data layer's check, phrased on the request's fields
        raise InvalidRequestError(str(exc), fields=("target",)) from None
    model_factory(request.model)  # RegistryError on the field "model", listing the models
    check_model_folder(request.out, request.force)
    threads = request.threads if request.threads is not None else ctx.settings.data.predict.threads
    return PredictConfig(
        target=spec,
        model=request.model,
        test_fraction=request.test_fraction,
        seed=request.seed,
        n_bootstrap=request.bootstrap,
        n_threads=threads,
        **values,
    )


def _save(result: TrainResult, request: _TrainRequest) -> None:
    from hopia.data.predict import save_model

    save_model(
        request.out,
        result.pipeline,
        result.feature_columns,
        result.card,
        result.test.calibration,
        force=request.force,
    )


def train(ctx: Context, request: TrainRequest) -> Trained:
    """Train on the warehouse (temporal split), save the model and its card, audit."""
    from hopia.data.predict import train_warehouse

    config: PredictConfig = _config(
        ctx,
        request,
        {
            "name": request.target,
            "horizon_days": request.horizon,
            "min_los_days": request.long_stay_days,
        },
        stay_gap_days=request.stay_gap,
        min_count=request.min_count,
    )
    target = f"model:{config.target.label}:{config.model}"
    ctx.authorize("predict.train", target)
    wh = existing_warehouse(ctx)
    result = train_warehouse(wh, config)
    _save(result, request)
    prov = result.card["provenance"]
    with wh.begin() as conn:  # who trained what, on how many stays: counts and hashes only
        entry = audit.record(
            conn,
            ctx.actor,
            "predict.train",
            target,
            details={
                "config_sha256": prov["config_sha256"],
                "model_sha256": prov["model_sha256"],
                "stays": result.card["data"]["stays_labelled"],
            },
        )
    return Trained(result, request.out, entry.audit_id)


def train_uci(ctx: Context, request: UciTrainRequest) -> Trained:
    """Train and evaluate on UCI diabetes 130-US hospitals (readmission within 30 days)."""
    from hopia.data.predict import train_uci as fit_uci

    config = _config(ctx, request, {"name": "readmission_30d"})
    ctx.authorize("predict.uci", f"model:uci:{config.model}")
    result = fit_uci(request.data, config, sample_patients=request.sample)
    _save(result, request)
    return Trained(result, request.out)


def evaluate(ctx: Context, request: EvaluateRequest) -> Evaluated:
    """Re-evaluate a saved model (its sha256 checked first) on its test data of today."""
    from hopia.data.predict import PredictConfig, load_model
    from hopia.data.predict.train import evaluate_saved_on_uci, evaluate_saved_on_warehouse

    # Asked before the model is loaded: loading a model file runs code (a pickle).
    ctx.authorize("predict.evaluate", f"model-folder:{request.model.name}")
    saved = load_model(request.model)
    if saved.card.get("data_kind") == "uci":
        if request.data is None:
            raise InvalidRequestError(
                f"{request.model} : modèle entraîné sur UCI, ses données UCI sont nécessaires",
                fields=("data",),
            )
        return Evaluated(saved, evaluate_saved_on_uci(saved, request.data))
    prov = saved.card["provenance"]
    config = PredictConfig.from_dict(prov["config"])
    wh = existing_warehouse(ctx)
    evaluation = evaluate_saved_on_warehouse(saved, wh)
    with wh.begin() as conn:
        entry = audit.record(
            conn,
            ctx.actor,
            "predict.evaluate",
            f"model:{config.target.label}:{config.model}",  # as its training entry
            details={
                "model_sha256": prov["model_sha256"],
                "stays": evaluation.n_stays,
                "patients": evaluation.n_patients,
            },
        )
    return Evaluated(saved, evaluation, entry.audit_id)

"""Train, evaluate and describe a model: on the warehouse, or on the UCI diabetes data set."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from hopia.data.predict.card import build_card
from hopia.data.predict.evaluate import Evaluation, evaluate, temporal_split
from hopia.data.predict.features import (
    WarehouseEvents,
    build_features,
    build_stays,
    feature_columns,
    read_events,
)
from hopia.data.predict.models import describe_model, feature_importance, make_model
from hopia.data.predict.store import SavedModel
from hopia.data.predict.targets import TargetSpec
from hopia.data.predict.uci import load_uci, patient_order_split
from hopia.platform.exceptions import PredictError
from hopia.platform.scores import fmt_percent
from hopia.platform.warehouse import Warehouse

# The moment of prediction, as the card says it.
CUTOFF_FR = {"discharge": "la sortie", "admission": "l'admission"}

MIN_POSITIVES = 5  # per set: fewer, and neither training nor AUROC means anything


@dataclass(frozen=True)
class PredictConfig:
    """Everything that decides a model; its hash goes in the card."""

    target: TargetSpec = field(default_factory=TargetSpec)
    model: str = "gbm"
    test_fraction: float = 0.25
    stay_gap_days: int = 1
    lookback_days: int = 365
    min_count: int = 10
    seed: int = 42
    n_bootstrap: int = 500
    n_threads: int = 2  # LightGBM threads, capped at models.MAX_THREADS

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PredictConfig:
        return cls(**{**values, "target": TargetSpec(**values["target"])})


@dataclass
class TrainResult:
    pipeline: Pipeline
    feature_columns: list[str]
    card: dict[str, Any]
    test: Evaluation
    train: Evaluation


def warehouse_dataset(
    events: WarehouseEvents, config: PredictConfig
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Features and labels of every labelled stay, with the counts of excluded stays."""
    stays = build_stays(events.visits, gap_days=config.stay_gap_days)
    labels = config.target.labels(
        stays, observation_end=events.observation_end, deaths=events.deaths
    )
    kept = stays[stays["stay_id"].isin(labels.frame["stay_id"])].reset_index(drop=True)
    frame = build_features(
        events, kept, cutoff=config.target.cutoff, lookback_days=config.lookback_days
    )
    frame = frame.merge(labels.frame, on="stay_id", validate="one_to_one")
    return frame, labels.excluded


def train_warehouse(wh: Warehouse, config: PredictConfig) -> TrainResult:
    """Read the warehouse, split by index date, fit, evaluate, and write the card."""
    events = read_events(wh)
    frame, excluded = warehouse_dataset(events, config)
    if frame.empty:
        raise PredictError(f"{wh.dialect} : aucun séjour hospitalier étiquetable dans l'entrepôt")
    split = temporal_split(
        frame["index_date"], frame["label_known_date"], test_fraction=config.test_fraction
    )
    columns = feature_columns(frame.drop(columns=["label_known_date"]))
    result = _fit_and_evaluate(frame, columns, split.train, split.test, config)
    train_dates = frame["index_date"].iloc[split.train]
    data = {
        "source": f"entrepôt ({wh.dialect}), schéma omop",
        "stays_labelled": len(frame),
        "patients": int(frame["person_id"].nunique()),
        "index_dates": f"du {_day(frame['index_date'].min())} au {_day(frame['index_date'].max())}",
        "training_window": f"du {_day(train_dates.min())} au {_day(train_dates.max())}",
        "split": f"temporel : test = date d'index ≥ {_day(split.cut_date)} "
        f"({fmt_percent(config.test_fraction)} des séjours)",
        "train_stays": len(split.train),
        "test_stays": len(split.test),
        "train_dropped_label_after_cut": split.dropped_label_after_cut,
        "cut_date": _day(split.cut_date),
        "exclusions": excluded,
    }
    result.card = _card(result, config, data, "l'entrepôt Hopia", columns)
    return result


def _day(value: Any) -> str:
    return pd.Timestamp(value).date().isoformat()


def train_uci(
    path: Path, config: PredictConfig, *, sample_patients: int | None = None
) -> TrainResult:
    """Train and evaluate on the UCI diabetes zip (target ``readmitted == "<30"``)."""
    uci = load_uci(path, sample_patients=sample_patients, random_state=config.seed)
    frame = uci.frame
    train, test = patient_order_split(
        frame["stay_id"], frame["person_id"], test_fraction=config.test_fraction
    )
    result = _fit_and_evaluate(frame, uci.feature_columns, train, test, config)
    data = {
        "source": f"UCI Diabetes 130-US hospitals 1999-2008 ({Path(path).name})",
        "encounters_raw": uci.n_raw,
        "stays_labelled": len(frame),
        "patients": int(frame["person_id"].nunique()),
        "sampled_patients": sample_patients if sample_patients is not None else "tous",
        "split": "pas de dates dans ce jeu : patients ordonnés par premier identifiant de "
        f"séjour, les derniers {fmt_percent(config.test_fraction)} dans le jeu de test ; aucun "
        "patient dans les deux jeux",
        "train_stays": len(train),
        "test_stays": len(test),
        "exclusions": uci.excluded,
    }
    target = {
        "name": "readmission_30d",
        "definition": 'étiquette UCI readmitted == "<30" (réhospitalisation dans les 30 jours).',
    }
    result.card = _card(
        result,
        config,
        data,
        "le jeu UCI diabète",
        uci.feature_columns,
        target=target,
        limitations=[
            "UCI has no dates: the split follows encounter ids, a proxy for time.",
            "US hospitals 1999-2008, diabetic patients only: not transposable to a French CHU.",
        ],
    )
    result.card["data_kind"] = "uci"
    return result


def _fit_and_evaluate(
    frame: pd.DataFrame,
    columns: list[str],
    train: np.ndarray,
    test: np.ndarray,
    config: PredictConfig,
) -> TrainResult:
    y = frame["label"].to_numpy()
    for name, rows in (("apprentissage", train), ("test", test)):
        positives = int(y[rows].sum())
        if positives < MIN_POSITIVES or len(rows) - positives < MIN_POSITIVES:
            raise PredictError(
                f"jeu {name} : {len(rows)} séjours dont {positives} positifs ; il faut au moins "
                f"{MIN_POSITIVES} positifs et {MIN_POSITIVES} négatifs (données insuffisantes)"
            )
    X = frame[columns]  # noqa: N806
    pipeline = make_model(
        config.model,
        min_count=config.min_count,
        random_state=config.seed,
        n_threads=config.n_threads,
    )
    try:
        pipeline.fit(X.iloc[train], y[train])
    except ValueError as exc:
        raise PredictError(f"apprentissage impossible : {exc}") from exc
    return TrainResult(
        pipeline=pipeline,
        feature_columns=columns,
        card={},
        test=evaluate_frame(pipeline, frame.iloc[test], columns, config),
        train=evaluate_frame(pipeline, frame.iloc[train], columns, config, n_bootstrap=0),
    )


def evaluate_frame(
    pipeline: Pipeline,
    frame: pd.DataFrame,
    columns: list[str],
    config: PredictConfig,
    *,
    n_bootstrap: int | None = None,
) -> Evaluation:
    # Columns absent from new data are left out: the selector fills them (flags 0, labs NaN).
    X = frame[[c for c in columns if c in frame.columns]]  # noqa: N806
    p = pipeline.predict_proba(X)[:, 1]
    return evaluate(
        frame["label"].to_numpy(),
        p,
        patients=frame["person_id"].to_numpy(),
        sex=frame["sex"].to_numpy(),
        age=frame["age"].to_numpy(),
        n_bootstrap=config.n_bootstrap if n_bootstrap is None else n_bootstrap,
        random_state=config.seed,
    )


def _card(
    result: TrainResult,
    config: PredictConfig,
    data: dict[str, Any],
    source: str,
    columns: list[str],
    *,
    target: dict[str, Any] | None = None,
    limitations: list[str] | None = None,
) -> dict[str, Any]:
    kept = list(result.pipeline.named_steps["select"].columns_)
    families = pd.Series([c.split("_", 1)[0] for c in kept]).value_counts()
    features = {
        "candidates": len(columns),
        "kept": len(kept),
        "min_count": config.min_count,
        "by_prefix": ", ".join(f"{k} {v}" for k, v in families.items()),
        "text_derived_kept": sum(c.startswith("nlp_") for c in kept),
        "cutoff": f"rien de daté après {CUTOFF_FR.get(config.target.cutoff, config.target.cutoff)}"
        " du séjour index",
    }
    return build_card(
        title=f"{config.target.label} ({config.model}) sur {source}",
        target=target or {"name": config.target.label, "definition": config.target.describe()},
        data=data,
        features=features,
        model=describe_model(result.pipeline),
        evaluation={"test": result.test.summary(), "train": result.train.summary()},
        importance=feature_importance(result.pipeline),
        config=config.as_dict(),
        limitations=limitations,
    )


def evaluate_saved_on_warehouse(saved: SavedModel, wh: Warehouse) -> Evaluation:
    """Re-evaluate a warehouse model on the stays indexed on or after its cut date: new stays
    added since training give a prospective check."""
    config = PredictConfig.from_dict(saved.card["provenance"]["config"])
    frame, _ = warehouse_dataset(read_events(wh), config)
    cut = pd.Timestamp(saved.card["data"]["cut_date"])
    frame = frame[frame["index_date"] >= cut]
    return _evaluate_saved(saved, frame, config)


def evaluate_saved_on_uci(saved: SavedModel, path: Path) -> Evaluation:
    config = PredictConfig.from_dict(saved.card["provenance"]["config"])
    sample = saved.card["data"].get("sampled_patients")
    uci = load_uci(path, sample_patients=sample if isinstance(sample, int) else None,
                   random_state=config.seed)  # fmt: skip
    _, test = patient_order_split(
        uci.frame["stay_id"], uci.frame["person_id"], test_fraction=config.test_fraction
    )
    return _evaluate_saved(saved, uci.frame.iloc[test], config)


def _evaluate_saved(saved: SavedModel, frame: pd.DataFrame, config: PredictConfig) -> Evaluation:
    y = frame["label"].to_numpy()
    if len(np.unique(y)) < 2:
        raise PredictError(
            f"{saved.path} : {len(frame)} séjour(s) à évaluer, une seule classe ; "
            "évaluation impossible"
        )
    return evaluate_frame(saved.pipeline, frame, saved.feature_columns, config)

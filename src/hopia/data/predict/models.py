"""Baseline models: scikit-learn pipelines with a frequency filter in front.

- ``logistic``: median imputation with missing-value indicators, standard scaling, L2 logistic
  regression.
- ``gbm``: LightGBM (``num_threads`` set explicitly: LightGBM otherwise takes every core), or
  scikit-learn's ``HistGradientBoostingClassifier`` where LightGBM is not installed. Both handle
  missing values natively.

Both start with :class:`FrequentFeatures`, fitted on the training set only, which drops the
codes seen in too few training rows (rare codes are noise, and a code seen once may identify).

Models are found by name in :data:`MODELS`, a registry: a site adds its own as a plug-in
package (entry-point group ``hopia.predict_models``) or with ``MODELS.register``. A model is a
function ``(*, random_state, n_threads) -> steps``: the scikit-learn steps that follow the
frequency filter, the classifier last and named ``"clf"`` (the model card reads it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from hopia.platform.exceptions import RegistryError
from hopia.platform.registry import Registry

Steps = list[tuple[str, Any]]
ModelFactory = Callable[..., Steps]
MAX_THREADS = 2  # the hospital server is shared: never let a library take every core


class FrequentFeatures(TransformerMixin, BaseEstimator):
    """Keep the columns that are present (non-zero, non-missing) in ``min_count`` rows or more.

    Parameters
    ----------
    min_count : int, default=10
        Minimum number of training rows where a column is present.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        Columns seen during ``fit``.
    columns_ : list of str
        Columns kept, in their input order.
    """

    def __init__(self, *, min_count: int = 10) -> None:
        self.min_count = min_count

    def fit(self, X: pd.DataFrame, y: object = None) -> FrequentFeatures:  # noqa: N803
        if not isinstance(X, pd.DataFrame):
            raise TypeError("FrequentFeatures expects a pandas DataFrame")
        present = (X.notna() & X.ne(0)).sum()
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.columns_ = [str(c) for c in X.columns[present.to_numpy() >= self.min_count]]
        if not self.columns_:
            raise ValueError(
                f"no feature is present in {self.min_count} training rows or more: "
                "too few stays to train a model"
            )
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803
        check_is_fitted(self, "columns_")
        # A column unseen in new data means "never recorded": flags 0, labs missing.
        missing = [c for c in self.columns_ if c not in X.columns]
        if missing:
            fill = {c: np.nan if c.startswith(("lab_", "days_since")) else 0.0 for c in missing}
            X = X.assign(**fill)
        return X[self.columns_].astype(np.float32)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self, "columns_")
        return np.asarray(self.columns_, dtype=object)


def gbm_backend() -> str:
    """``"lightgbm"`` when its wheel is installed, else ``"sklearn"``."""
    try:
        import lightgbm  # noqa: F401
    except ImportError:  # pragma: no cover - LightGBM is a pinned dependency
        return "sklearn"
    return "lightgbm"


def logistic(*, random_state: int = 0, n_threads: int = 1) -> Steps:
    """Median imputation with missing-value indicators, standard scaling, L2 logistic regression."""
    return [
        ("impute", SimpleImputer(strategy="median", add_indicator=True)),
        ("scale", StandardScaler()),
        ("clf", LogisticRegression(C=0.1, max_iter=2000, random_state=random_state)),
    ]


def gbm(*, random_state: int = 0, n_threads: int = MAX_THREADS) -> Steps:
    """Gradient boosting: LightGBM with its threads set, else scikit-learn's."""
    if gbm_backend() == "lightgbm":
        from lightgbm import LGBMClassifier

        clf = LGBMClassifier(
            n_estimators=300,
            learning_rate=0.03,
            num_leaves=15,
            min_child_samples=20,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            reg_lambda=1.0,
            random_state=random_state,
            num_threads=n_threads,
            verbose=-1,
        )
    else:  # pragma: no cover - fallback when the LightGBM wheel is unavailable
        clf = HistGradientBoostingClassifier(
            max_iter=300, learning_rate=0.03, max_leaf_nodes=15, random_state=random_state
        )
    return [("clf", clf)]


MODELS: Registry[ModelFactory] = Registry(
    "modèle prédictif",
    "hopia.predict_models",
    {"gbm": "hopia.data.predict.models:gbm", "logistic": "hopia.data.predict.models:logistic"},
)


def model_factory(name: str) -> ModelFactory:
    """The model ``name`` of :data:`MODELS`; an unknown name is a :class:`RegistryError` on the
    request field ``model``, listing the available ones."""
    try:
        return MODELS.get(name)
    except RegistryError as exc:
        raise RegistryError(exc.message, fields=("model",), details=exc.details) from None


def make_model(
    kind: str = "gbm",
    *,
    min_count: int = 10,
    random_state: int = 0,
    n_threads: int = MAX_THREADS,
) -> Pipeline:
    """An unfitted pipeline: the frequency filter, then the model ``kind`` of :data:`MODELS`
    (threads capped at :data:`MAX_THREADS`)."""
    n_threads = max(1, min(n_threads, MAX_THREADS))
    steps = model_factory(kind)(random_state=random_state, n_threads=n_threads)
    if not steps or steps[-1][0] != "clf":
        raise RegistryError(
            f"modèle prédictif « {kind} » : la dernière étape doit être le classifieur « clf »",
            fields=("model",),
        )
    return Pipeline([("select", FrequentFeatures(min_count=min_count)), *steps])


def describe_model(pipeline: Pipeline) -> dict[str, object]:
    """Estimator class and its non-default hyperparameters, for the model card."""
    clf = pipeline.named_steps["clf"]
    params = {k: v for k, v in clf.get_params().items() if _jsonable(v)}
    return {"estimator": f"{type(clf).__module__}.{type(clf).__name__}", "params": params}


def _jsonable(value: object) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def feature_importance(pipeline: Pipeline, top: int = 15) -> pd.DataFrame:
    """The ``top`` features by importance: |coefficient| (logistic) or split gain (GBM)."""
    clf = pipeline.named_steps["clf"]
    names = list(pipeline[:-1].get_feature_names_out())
    if hasattr(clf, "coef_"):
        values = clf.coef_.ravel()
        kind = "coefficient (standardised)"
    elif hasattr(clf, "booster_"):
        values = clf.booster_.feature_importance(importance_type="gain")
        kind = "gain"
    else:  # HistGradientBoosting has no built-in importance
        return pd.DataFrame(columns=["feature", "importance", "kind"])
    frame = pd.DataFrame({"feature": names, "importance": values, "kind": kind})
    order = frame["importance"].abs().sort_values(ascending=False).index
    return frame.loc[order].head(top).reset_index(drop=True)

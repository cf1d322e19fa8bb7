from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer

from hopia.data.predict.models import (
    MODELS,
    FrequentFeatures,
    describe_model,
    feature_importance,
    gbm_backend,
    make_model,
)
from hopia.platform.exceptions import RegistryError


def _frame(n: int = 200, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(  # noqa: N806
        {
            "age": rng.integers(20, 90, n).astype(float),
            "cim_I50": (rng.random(n) < 0.4).astype(float),
            "cim_RARE": np.r_[np.ones(3), np.zeros(n - 3)],
            "lab_LOINC_2160_0": np.where(rng.random(n) < 0.3, np.nan, rng.normal(100, 40, n)),
        }
    )
    y = ((X["cim_I50"] == 1) & (X["lab_LOINC_2160_0"] > 110)).astype(int).to_numpy()
    return X, y


def test_frequent_features_follows_the_estimator_contract() -> None:
    X, y = _frame()  # noqa: N806
    selector = FrequentFeatures(min_count=5)
    assert selector.fit(X, y) is selector
    assert selector.columns_ == ["age", "cim_I50", "lab_LOINC_2160_0"]
    assert list(selector.get_feature_names_out()) == selector.columns_
    assert clone(selector).get_params() == {"min_count": 5}
    assert not hasattr(clone(selector), "columns_")
    # New data without a column: a flag absent is 0, a lab absent is missing.
    out = selector.transform(X.drop(columns=["cim_I50", "lab_LOINC_2160_0"]))
    assert list(out.columns) == selector.columns_
    assert (out["cim_I50"] == 0).all() and out["lab_LOINC_2160_0"].isna().all()


def test_frequent_features_refuses_when_nothing_is_frequent() -> None:
    X, y = _frame(20)  # noqa: N806
    with pytest.raises(ValueError, match="too few stays"):
        FrequentFeatures(min_count=1000).fit(X, y)
    with pytest.raises(TypeError, match="DataFrame"):
        FrequentFeatures().fit(X.to_numpy(), y)


@pytest.mark.parametrize("kind", ["gbm", "logistic"])
def test_models_learn_an_interaction_with_missing_values(kind: str) -> None:
    X, y = _frame(600)  # noqa: N806
    model = make_model(kind, min_count=5, random_state=0)
    assert model.fit(X, y) is model
    p = model.predict_proba(X)[:, 1]
    assert p[y == 1].mean() > p[y == 0].mean() + 0.3
    top = feature_importance(model, top=3)
    assert len(top) == 3 and "cim_RARE" not in set(top["feature"])
    described = describe_model(model)
    assert described["params"]["random_state"] == 0


def test_gbm_is_lightgbm_with_bounded_threads() -> None:
    assert gbm_backend() == "lightgbm"
    clf = make_model("gbm", n_threads=16).named_steps["clf"]
    assert type(clf).__name__ == "LGBMClassifier" and clf.get_params()["num_threads"] == 2


def test_unknown_model_lists_the_registered_ones() -> None:
    with pytest.raises(
        RegistryError, match=r"inconnu : « forest » \(disponibles : gbm, logistic\)"
    ) as e:
        make_model("forest")
    assert e.value.fields == ("model",)


def test_a_model_registered_at_run_time_is_built_after_the_filter() -> None:
    X, y = _frame(400)  # noqa: N806

    def forest(*, random_state: int, n_threads: int) -> list:
        return [
            ("impute", SimpleImputer()),
            ("clf", RandomForestClassifier(n_estimators=20, random_state=random_state, n_jobs=1)),
        ]

    MODELS.register("test_forest", forest)
    try:
        model = make_model("test_forest", min_count=5)
        assert [name for name, _ in model.steps] == ["select", "impute", "clf"]
        assert model.fit(X, y).predict_proba(X).shape == (len(X), 2)
        assert "test_forest" in MODELS.names()
        MODELS.register("test_bad", lambda **_: [("model", RandomForestClassifier())])
        with pytest.raises(RegistryError, match="« clf »"):
            make_model("test_bad")
    finally:
        MODELS.unregister("test_forest")
        MODELS.unregister("test_bad")

"""Predict service: options checked before anything is read (the model registry included), the
policy before the warehouse, the threads from the settings, training and re-evaluation on the
warehouse audited with hashes and counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sqlalchemy import select

from hopia.data.predict.models import MODELS
from hopia.platform.config import Settings
from hopia.platform.exceptions import (
    AccessDeniedError,
    ConflictError,
    InvalidRequestError,
    RegistryError,
)
from hopia.platform.warehouse import Warehouse, schema
from hopia.services import predict
from hopia.services.context import Context
from tests.data.predict.planted import planted_warehouse
from tests.data.predict.uci_sample import write_uci_zip
from tests.services.contexts import researcher

FAST = {"model": "logistic", "bootstrap": 20}


@pytest.fixture(scope="module")
def planted_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    wh = planted_warehouse(tmp_path_factory.mktemp("planted") / "wh.duckdb", n_persons=250)
    wh.close()
    return wh.url


@pytest.fixture
def settings(planted_url: str, tmp_path: Path) -> Settings:
    # One installation for the shared planted warehouse: its audit log's head checkpoint lives
    # in that home, as on a server (a new home would have to anchor the log: hopia init).
    home = Path(planted_url.removeprefix("duckdb:///")).parent / "home"
    return Settings(home=home, warehouse_url=planted_url, data={"predict": {"threads": 1}})


def audit_rows(url: str, since: int = 0) -> list[dict[str, Any]]:
    wh = Warehouse(url)
    t = schema.audit_log
    with wh.engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.audit_id > since).order_by(t.c.audit_id))
        out = [{**r._mapping, "details": json.loads(r.details)} for r in rows]
    wh.close()
    return out


def last_id(url: str) -> int:
    rows = audit_rows(url)
    return rows[-1]["audit_id"] if rows else 0


def test_train_then_evaluate_are_audited(settings: Settings, tmp_path: Path) -> None:
    url = settings.warehouse_url or ""
    before = last_id(url)
    out = tmp_path / "readmission"
    with Context.local(settings, actor="dr.x") as ctx:
        trained = predict.train(ctx, predict.TrainRequest.of(out=out, **FAST))
        evaluated = predict.evaluate(ctx, predict.EvaluateRequest.of(model=out))
    card = trained.result.card
    assert card["provenance"]["config"]["n_threads"] == 1  # data.predict.threads
    assert json.loads((out / "card.json").read_text("utf-8"))["title"] == card["title"]
    train_entry, eval_entry = audit_rows(url, before)
    assert (train_entry["action"], train_entry["target"], train_entry["actor"]) == (
        "predict.train",
        "model:readmission_30d:logistic",
        "dr.x",
    )
    assert train_entry["audit_id"] == trained.audit_id
    assert train_entry["details"] == {
        "config_sha256": card["provenance"]["config_sha256"],
        "model_sha256": card["provenance"]["model_sha256"],
        "stays": card["data"]["stays_labelled"],
    }
    assert eval_entry["action"] == "predict.evaluate"
    assert eval_entry["target"] == train_entry["target"]
    assert eval_entry["details"]["stays"] == evaluated.evaluation.n_stays > 0
    assert eval_entry["details"]["model_sha256"] == card["provenance"]["model_sha256"]


@pytest.mark.parametrize(
    ("values", "error", "fields"),
    [
        ({"model": "forest"}, RegistryError, ("model",)),
        ({"target": "death"}, InvalidRequestError, ("target",)),
        ({"test_fraction": 0.9}, InvalidRequestError, ("test_fraction",)),
        ({"threads": 8}, InvalidRequestError, ("threads",)),
    ],
)
def test_bad_options_before_any_read(
    settings: Settings, tmp_path: Path, values: dict, error: type, fields: tuple
) -> None:
    url = settings.warehouse_url or ""
    before = last_id(url)
    out = tmp_path / "m"
    with Context.local(settings) as ctx:
        with pytest.raises(error) as e:
            predict.train(ctx, predict.TrainRequest.of(out=out, **values))
        assert e.value.fields == fields and ctx._warehouse is None
    assert not out.exists() and audit_rows(url, before) == []
    if error is RegistryError:
        assert "(disponibles : gbm, logistic)" in str(e.value)


def test_a_full_folder_is_refused_before_training(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "m"
    out.mkdir()
    (out / "card.json").write_text("{}")
    with Context.local(settings) as ctx:
        with pytest.raises(ConflictError) as e:
            predict.train(ctx, predict.TrainRequest.of(out=out, **FAST))
        assert e.value.fields == ("out", "force") and ctx._warehouse is None


def test_the_policy_refuses_before_anything_is_read(settings: Settings, tmp_path: Path) -> None:
    ctx = researcher(settings)
    with pytest.raises(AccessDeniedError, match="predict.train"):
        predict.train(ctx, predict.TrainRequest.of(out=tmp_path / "m", **FAST))
    # Before the model file is even loaded (a pickle runs code): no "card.json absent" here.
    with pytest.raises(AccessDeniedError, match="predict.evaluate"):
        predict.evaluate(ctx, predict.EvaluateRequest.of(model=tmp_path / "nowhere"))
    assert ctx._warehouse is None


def test_a_model_registered_at_run_time_trains_through_the_service(
    settings: Settings, tmp_path: Path
) -> None:
    def forest(*, random_state: int, n_threads: int) -> list:
        clf = RandomForestClassifier(n_estimators=30, random_state=random_state, n_jobs=n_threads)
        return [("impute", SimpleImputer()), ("clf", clf)]

    MODELS.register("test_forest", forest)
    try:
        with Context.local(settings) as ctx:
            trained = predict.train(
                ctx,
                predict.TrainRequest.of(out=tmp_path / "f", model="test_forest", bootstrap=0),
            )
        card = trained.result.card
        assert card["model"]["estimator"].endswith("RandomForestClassifier")
        assert card["provenance"]["config"]["model"] == "test_forest"
        assert audit_rows(settings.warehouse_url or "")[-1]["target"] == (
            "model:readmission_30d:test_forest"
        )
    finally:
        MODELS.unregister("test_forest")


def test_uci_is_not_audited_and_its_evaluation_needs_the_data(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "h")
    data = write_uci_zip(tmp_path / "uci.zip")
    out = tmp_path / "uci"
    with Context.local(settings) as ctx:
        trained = predict.train_uci(ctx, predict.UciTrainRequest.of(data=data, out=out, **FAST))
        assert trained.audit_id is None and trained.result.card["data_kind"] == "uci"
        with pytest.raises(InvalidRequestError, match="données UCI") as e:
            predict.evaluate(ctx, predict.EvaluateRequest.of(model=out))
        assert e.value.fields == ("data",)
        evaluated = predict.evaluate(ctx, predict.EvaluateRequest.of(model=out, data=data))
        assert evaluated.audit_id is None and evaluated.evaluation.n_stays > 0
        assert ctx._warehouse is None  # UCI is public data: the warehouse is not touched

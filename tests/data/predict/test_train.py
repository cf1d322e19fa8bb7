"""End to end on the planted warehouse: the signal is learnt, the card and model are saved,
a tampered model file is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hopia.data.predict import PredictConfig, TargetSpec, load_model, save_model
from hopia.data.predict.store import CALIBRATION_PNG, CARD_JSON, CARD_MD, MODEL_FILE
from hopia.data.predict.train import evaluate_saved_on_warehouse, train_warehouse
from hopia.platform.exceptions import ConflictError, PredictError
from hopia.platform.files import sha256_file
from tests.data.predict.planted import planted_warehouse


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    return planted_warehouse(tmp_path_factory.mktemp("planted") / "wh.duckdb", n_persons=300)


@pytest.fixture(scope="module")
def trained(warehouse):  # noqa: ANN001, ANN201
    return train_warehouse(warehouse, PredictConfig(model="logistic", n_bootstrap=100))


def test_logistic_learns_the_planted_signal(trained) -> None:  # noqa: ANN001
    test = trained.test
    assert test.auroc > 0.75 and test.auroc_ci[0] > 0.55
    assert test.n_positive >= 10
    coefficients = {r["feature"]: r["importance"] for r in trained.card["top_features"]}
    assert coefficients["cim_I50"] > 0 and coefficients["lab_LOINC_2160_0"] > 0
    data = trained.card["data"]
    assert (
        data["train_stays"] + data["test_stays"] + data["train_dropped_label_after_cut"]
        == (data["stays_labelled"])
    )


def test_gbm_learns_the_planted_signal(warehouse) -> None:  # noqa: ANN001
    result = train_warehouse(warehouse, PredictConfig(model="gbm", n_bootstrap=0, n_threads=1))
    assert result.test.auroc > 0.7
    assert result.card["model"]["estimator"] == "lightgbm.sklearn.LGBMClassifier"


def test_long_stay_target_runs_at_admission(warehouse) -> None:  # noqa: ANN001
    config = PredictConfig(target=TargetSpec("long_stay", min_los_days=6), model="logistic",
                         n_bootstrap=0)  # fmt: skip
    result = train_warehouse(warehouse, config)
    assert "los_days" not in result.feature_columns
    assert result.card["features"]["cutoff"] == "rien de daté après l'admission du séjour index"
    assert result.test.auroc == result.test.auroc  # defined: both classes in the test set


def test_card_and_model_are_saved_and_checked(trained, warehouse, tmp_path: Path) -> None:  # noqa: ANN001
    out = save_model(
        tmp_path / "model",
        trained.pipeline,
        trained.feature_columns,
        trained.card,
        trained.test.calibration,
    )
    assert {p.name for p in out.iterdir()} == {MODEL_FILE, CARD_JSON, CARD_MD, CALIBRATION_PNG}
    # learnt from patient-level data: owner-only, whatever the umask
    assert out.stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in out.iterdir()} == {0o600}
    card = json.loads((out / CARD_JSON).read_text("utf-8"))
    assert card["provenance"]["model_sha256"] == sha256_file(out / MODEL_FILE)
    assert card["provenance"]["versions"]["scikit-learn"] == "1.9.1"
    assert card["data"]["cut_date"] and card["evaluation"]["test"]["calibration"]
    assert {r["variable"] for r in card["evaluation"]["test"]["subgroups"]} == {"sex", "age"}
    text = (out / CARD_MD).read_text("utf-8")
    for heading in ("## Usage prévu", "## Limites", "## Provenance", "### Sous-groupes"):
        assert heading in text
    assert (out / CALIBRATION_PNG).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    saved = load_model(out)
    again = evaluate_saved_on_warehouse(saved, warehouse)
    assert again.auroc == pytest.approx(trained.test.auroc)

    with pytest.raises(ConflictError, match="non vide"):
        save_model(out, trained.pipeline, trained.feature_columns, card, trained.test.calibration)

    with (out / MODEL_FILE).open("ab") as fh:  # one byte appended
        fh.write(b"\0")
    with pytest.raises(PredictError, match="sha256"):
        load_model(out)


def test_loading_a_folder_without_card(tmp_path: Path) -> None:
    with pytest.raises(PredictError, match="card.json"):
        load_model(tmp_path)
    (tmp_path / CARD_JSON).write_text("{not json", "utf-8")
    with pytest.raises(PredictError, match="illisible"):
        load_model(tmp_path)


def test_too_little_data_is_refused(tmp_path: Path) -> None:
    wh = planted_warehouse(tmp_path / "tiny.duckdb", n_persons=8)
    with pytest.raises(PredictError, match="insuffisantes"):
        train_warehouse(wh, PredictConfig(model="logistic", n_bootstrap=0))

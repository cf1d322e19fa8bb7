from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from hopia.data.predict import PredictConfig
from hopia.data.predict.train import train_uci
from hopia.data.predict.uci import icd9_group, load_uci, patient_order_split, read_uci
from hopia.platform.exceptions import PredictError
from tests.conftest import shared_path
from tests.data.predict.uci_sample import uci_rows, write_uci_zip


@pytest.fixture(scope="module")
def uci_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_uci_zip(tmp_path_factory.mktemp("uci") / "uci.zip")


def test_loader_excludes_death_and_hospice_and_labels_under_30(uci_zip: Path) -> None:
    rows = pd.DataFrame(uci_rows())
    data = load_uci(uci_zip)
    dead = rows["discharge_disposition_id"].isin([11, 13])
    assert data.n_raw == len(rows)
    assert data.excluded == {"death_or_hospice": int(dead.sum())}
    assert len(data.frame) == len(rows) - dead.sum()
    assert data.frame["label"].sum() == (rows.loc[~dead, "readmitted"] == "<30").sum()
    assert data.frame["stay_id"].is_monotonic_increasing  # encounter order, the only one
    f = data.frame.set_index("stay_id")
    first = rows.iloc[0]
    decade = int(first["age"][1:3])
    assert f.loc[first["encounter_id"], "age"] == decade + 5  # middle of "[70-80)"
    expected = {"dx1_circulatory", "icd9_428", "icd9_V57", "med_insulin_up", "race_missing",
                "A1Cresult_8", "A1Cresult_None", "prior_inpatient_1y"}  # fmt: skip
    assert expected <= set(data.feature_columns)
    assert set(data.frame["sex"]) == {"F", "M"}


def test_split_keeps_patients_on_one_side_and_follows_encounter_order(uci_zip: Path) -> None:
    frame = load_uci(uci_zip).frame
    train, test = patient_order_split(frame["stay_id"], frame["person_id"], test_fraction=0.25)
    train_p, test_p = set(frame["person_id"].iloc[train]), set(frame["person_id"].iloc[test])
    assert not train_p & test_p and len(train) + len(test) == len(frame)
    assert round(len(test_p) / (len(train_p) + len(test_p)), 2) == 0.25
    first = frame.groupby("person_id")["stay_id"].min()
    assert first[list(train_p)].max() < first[list(test_p)].min()


@pytest.mark.parametrize(
    ("code", "group"),
    [("428", "circulatory"), ("785", "circulatory"), ("250.83", "diabetes"),
     ("486", "respiratory"), ("996", "injury"), ("V57", "other"), ("E888", "other"),
     ("174", "neoplasms"), (None, "missing")],
)  # fmt: skip
def test_icd9_groups(code: str | None, group: str) -> None:
    assert icd9_group(code) == group


def test_trains_on_the_planted_signal(uci_zip: Path) -> None:
    result = train_uci(uci_zip, PredictConfig(model="logistic", min_count=5, n_bootstrap=50))
    assert result.test.auroc > 0.7
    assert result.card["data_kind"] == "uci"
    assert "aucun patient dans les deux jeux" in result.card["data"]["split"]


def test_bad_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(PredictError, match="introuvable"):
        read_uci(tmp_path / "absent.zip")
    empty = tmp_path / "other.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "nothing")
    with pytest.raises(PredictError, match=r"other\.zip : diabetic_data\.csv absent"):
        read_uci(empty)
    csv = tmp_path / "diabetic_data.csv"
    csv.write_text("encounter_id,patient_nbr\n1,2\n", "utf-8")
    with pytest.raises(PredictError, match="colonnes absentes : gender"):
        read_uci(csv)


@pytest.mark.shared
def test_real_uci_sample() -> None:
    path = shared_path("predictive", "uci_diabetes_130_us_hospitals.zip")
    config = PredictConfig(model="gbm", n_bootstrap=0, n_threads=1)
    result = train_uci(path, config, sample_patients=5000)
    assert result.card["data"]["encounters_raw"] == 101_766
    assert 0.008 < result.test.prevalence < 0.2
    assert result.test.auroc > 0.57  # published full-data AUROC: about 0.64-0.70

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from hopia.data.predict.evaluate import (
    SUPPRESSED,
    age_band,
    bootstrap_auroc_ci,
    calibration_table,
    evaluate,
    subgroup_table,
    temporal_split,
)


def _scores(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(int)
    p = np.clip(0.15 + 0.25 * y + rng.normal(0, 0.15, n), 0.001, 0.999)
    return y, p


def test_temporal_split_puts_the_last_stays_in_test_and_drops_unknown_labels() -> None:
    dates = pd.Series(pd.date_range("2023-01-01", periods=100, freq="D"))
    known = dates + pd.Timedelta(days=30)
    split = temporal_split(dates, known, test_fraction=0.25)
    assert split.cut_date == pd.Timestamp("2023-03-17")  # the 76th day
    assert len(split.test) == 25
    assert dates[split.train].max() < split.cut_date <= dates[split.test].min()
    assert (known[split.train] < split.cut_date).all()
    # Stays of the 30 days before the cut have their label after it: neither train nor test.
    assert split.dropped_label_after_cut == 30 and len(split.train) == 45
    with pytest.raises(ValueError, match="test_fraction"):
        temporal_split(dates, known, test_fraction=1.5)


def test_temporal_split_keeps_rows_in_their_positions() -> None:
    dates = pd.Series(pd.to_datetime(["2024-05-01", "2023-01-01", "2024-06-01", "2023-02-01"]))
    split = temporal_split(dates, dates, test_fraction=0.5)
    assert sorted(split.test) == [0, 2] and sorted(split.train) == [1, 3]


def test_metrics_match_scikit_learn() -> None:
    y, p = _scores()
    patients = np.arange(len(y)) // 2
    ev = evaluate(y, p, patients=patients, n_bootstrap=100)
    assert ev.auroc == pytest.approx(roc_auc_score(y, p))
    assert ev.auprc == pytest.approx(average_precision_score(y, p))
    assert ev.brier == pytest.approx(brier_score_loss(y, p))
    assert ev.n_stays == 600 and ev.n_patients == 300 and ev.n_positive == y.sum()
    lo, hi = ev.auroc_ci
    assert lo < ev.auroc < hi and hi - lo < 0.2


def test_calibration_matches_scikit_learn_quantile_bins() -> None:
    y, p = _scores()
    table = calibration_table(y, p, n_bins=10)
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
    np.testing.assert_allclose(table["observed_rate"], observed)
    np.testing.assert_allclose(table["mean_predicted"], predicted)
    assert table["n"].sum() == len(y) and len(table) == 10


def test_bootstrap_is_reproducible_and_resamples_patients() -> None:
    y, p = _scores(200)
    patients = np.arange(200)
    assert bootstrap_auroc_ci(y, p, patients, random_state=1) == bootstrap_auroc_ci(
        y, p, patients, random_state=1
    )
    # One patient holding every stay: each resample is the whole set, the interval collapses.
    lo, hi = bootstrap_auroc_ci(y, p, np.zeros(200), n_resamples=50)
    assert lo == pytest.approx(roc_auc_score(y, p)) and hi == pytest.approx(lo)


def test_small_subgroups_are_suppressed() -> None:
    y, p = _scores(100)
    patients = np.arange(100)
    sex = np.array(["F"] * 60 + ["M"] * 35 + ["?"] * 5)
    table = subgroup_table(y, p, patients, [("sex", sex)]).set_index("group")
    assert table.loc["?", "patients"] == SUPPRESSED == "<10"
    assert table.loc["?", "stays"] == SUPPRESSED and pd.isna(table.loc["?", "auroc"])
    # 100 test patients published: F (60) and M (35) shown would give "?" back as 5, so the
    # smaller of them is hidden too; its metrics stay.
    assert table.loc["M", "patients"] == table.loc["M", "stays"] == "*"
    assert table.loc["M", "auroc"] == pytest.approx(roc_auc_score(y[60:95], p[60:95]))
    assert table.loc["F", "patients"] == "60"
    assert table.loc["F", "auroc"] == pytest.approx(roc_auc_score(y[:60], p[:60]))
    # Ten stays of a single patient are still one patient: suppressed.
    one = subgroup_table(y[:10], p[:10], np.zeros(10), [("sex", np.array(["F"] * 10))])
    assert one.loc[0, "patients"] == SUPPRESSED


def test_positive_counts_under_ten_are_masked() -> None:
    y = np.array([1, 1, 1] + [0] * 17)
    p = np.linspace(0.9, 0.1, 20)
    table = subgroup_table(y, p, np.arange(20), [("sex", np.array(["F"] * 20))])
    assert table.loc[0, "patients"] == "20" and table.loc[0, "positives"] == SUPPRESSED


def test_age_bands_and_subgroup_order() -> None:
    ages = pd.Series([5, 39.9, 40, 65, 75, 80, 95, np.nan])
    assert age_band(ages).tolist() == [
        "<40", "<40", "40-59", "60-69", "70-79", "80+", "80+", "unknown"
    ]  # fmt: skip
    y, p = _scores(400)
    ev = evaluate(y, p, patients=np.arange(400), age=np.repeat([85, 30, 50, 72], 100),
                  sex=np.repeat(["M", "F"], 200), n_bootstrap=0)  # fmt: skip
    assert ev.subgroups["group"].tolist() == ["F", "M", "<40", "40-59", "70-79", "80+"]
    assert np.isnan(ev.auroc_ci[0])  # no resample asked

"""Temporal split and evaluation: discrimination, calibration, subgroups with suppression.

The split is by index date: the last ``test_fraction`` of stays (in time) are the test set, and
a training stay is kept only if its label was known before the cut (a readmission window that
runs into the test period would use the future). Subgroups with fewer than
:data:`MIN_PATIENTS` patients are suppressed: counts shown as ``"<10"``, no metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from hopia.data.cohorts.suppression import HIDDEN, Table, protect

MIN_PATIENTS = 10
SUPPRESSED = f"<{MIN_PATIENTS}"
AGE_BANDS = ((0, 40, "<40"), (40, 60, "40-59"), (60, 70, "60-69"), (70, 80, "70-79"))
AGE_ORDER = [label for _, _, label in AGE_BANDS] + ["80+", "unknown"]


@dataclass(frozen=True)
class TemporalSplit:
    """Row positions of the train and test sets and the date that separates them."""

    train: np.ndarray
    test: np.ndarray
    cut_date: pd.Timestamp
    dropped_label_after_cut: int


def temporal_split(
    index_date: pd.Series, label_known_date: pd.Series, *, test_fraction: float = 0.25
) -> TemporalSplit:
    """Test = stays indexed on or after the cut date (the ``1 - test_fraction`` quantile).

    Train = stays indexed before the cut whose label was known before it.
    """
    if not 0 < test_fraction < 1:
        raise ValueError("test_fraction must be between 0 and 1")
    dates = pd.to_datetime(index_date).reset_index(drop=True)
    known = pd.to_datetime(label_known_date).reset_index(drop=True)
    if dates.empty:
        raise ValueError("no stay to split")
    ordered = dates.sort_values().reset_index(drop=True)
    cut = ordered.iloc[min(len(ordered) - 1, int(len(ordered) * (1 - test_fraction)))]
    before = dates < cut
    train = before & (known < cut)
    return TemporalSplit(
        train=np.flatnonzero(train.to_numpy()),
        test=np.flatnonzero((~before).to_numpy()),
        cut_date=cut,
        dropped_label_after_cut=int((before & ~train).sum()),
    )


def age_band(age: pd.Series) -> pd.Series:
    """Bands on decade boundaries (so that UCI's decades map to one band each)."""
    out = pd.Series("80+", index=age.index, dtype=object)
    for lo, hi, label in AGE_BANDS:
        out[(age >= lo) & (age < hi)] = label
    out[age.isna()] = "unknown"
    return out


def calibration_table(y: np.ndarray, p: np.ndarray, *, n_bins: int = 10) -> pd.DataFrame:
    """Deciles of predicted risk: mean prediction, observed rate and size of each bin.

    Same bins as ``sklearn.calibration.calibration_curve(strategy="quantile")``; empty bins are
    dropped.
    """
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    edges = np.percentile(p, np.linspace(0, 100, n_bins + 1))
    ids = np.searchsorted(edges[1:-1], p)
    count = np.bincount(ids, minlength=n_bins)
    sum_p = np.bincount(ids, weights=p, minlength=n_bins)
    sum_y = np.bincount(ids, weights=y, minlength=n_bins)
    nz = count > 0
    return pd.DataFrame(
        {
            "bin": np.arange(1, n_bins + 1)[nz],
            "mean_predicted": sum_p[nz] / count[nz],
            "observed_rate": sum_y[nz] / count[nz],
            "n": count[nz],
        }
    )


def bootstrap_auroc_ci(
    y: np.ndarray,
    p: np.ndarray,
    patients: np.ndarray,
    *,
    n_resamples: int = 500,
    level: float = 0.95,
    random_state: int = 0,
) -> tuple[float, float]:
    """Percentile interval of AUROC over patient-level bootstrap resamples.

    Patients (not stays) are resampled, since the stays of one patient are not independent; a
    resample is expressed as a weight per stay (how many times its patient was drawn).
    """
    rng = np.random.default_rng(random_state)
    codes, uniques = pd.factorize(pd.Series(patients))
    values = []
    for _ in range(n_resamples):
        draws = np.bincount(rng.integers(0, len(uniques), len(uniques)), minlength=len(uniques))
        weight = draws[codes]
        drawn = weight > 0
        if len(np.unique(y[drawn])) < 2:
            continue
        values.append(roc_auc_score(y[drawn], p[drawn], sample_weight=weight[drawn]))
    if not values:
        return (float("nan"), float("nan"))
    alpha = (1 - level) / 2
    lo, hi = np.quantile(values, [alpha, 1 - alpha])
    return (float(lo), float(hi))


def _metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    both = len(np.unique(y)) == 2
    return {
        "auroc": float(roc_auc_score(y, p)) if both else float("nan"),
        "auprc": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)),
    }


@dataclass
class Evaluation:
    """Metrics of predicted risks ``p`` against labels ``y`` on one set of stays."""

    n_stays: int
    n_patients: int
    n_positive: int
    prevalence: float
    auroc: float
    auroc_ci: tuple[float, float]
    auprc: float
    brier: float
    calibration: pd.DataFrame
    subgroups: pd.DataFrame = field(default_factory=pd.DataFrame)

    def summary(self) -> dict[str, object]:
        """JSON-ready figures (calibration and subgroups as lists of records)."""
        return {
            "n_stays": self.n_stays,
            "n_patients": self.n_patients,
            "n_positive": self.n_positive,
            "prevalence": self.prevalence,
            "auroc": self.auroc,
            "auroc_ci95": list(self.auroc_ci),
            "auprc": self.auprc,
            "brier": self.brier,
            "calibration": self.calibration.to_dict(orient="records"),
            "subgroups": _records(self.subgroups),
        }


def evaluate(
    y: np.ndarray,
    p: np.ndarray,
    *,
    patients: np.ndarray,
    sex: np.ndarray | None = None,
    age: np.ndarray | None = None,
    n_bootstrap: int = 500,
    random_state: int = 0,
) -> Evaluation:
    y, p, patients = np.asarray(y, dtype=int), np.asarray(p, dtype=float), np.asarray(patients)
    overall = _metrics(y, p)
    groups = []
    if sex is not None:
        sex = pd.Series(sex).where(pd.Series(sex).isin(["F", "M"]), "unknown")
        groups.append(("sex", sex.to_numpy()))
    if age is not None:
        groups.append(("age", age_band(pd.Series(age, dtype=float)).to_numpy()))
    return Evaluation(
        n_stays=len(y),
        n_patients=int(pd.Series(patients).nunique()),
        n_positive=int(y.sum()),
        prevalence=float(y.mean()) if len(y) else float("nan"),
        auroc=overall["auroc"],
        auroc_ci=bootstrap_auroc_ci(
            y, p, patients, n_resamples=n_bootstrap, random_state=random_state
        ),
        auprc=overall["auprc"],
        brier=overall["brier"],
        calibration=calibration_table(y, p),
        subgroups=subgroup_table(y, p, patients, groups),
    )


def subgroup_table(
    y: np.ndarray, p: np.ndarray, patients: np.ndarray, groups: list[tuple[str, np.ndarray]]
) -> pd.DataFrame:
    """One row per subgroup; small subgroups suppressed (counts ``"<10"``, metrics empty).

    Positive counts from 1 to 9 are shown as ``"<10"`` too: with the group size they would
    let a reader count the patients readmitted in a small group. The groups of a variable add
    up to the test set, whose size the card publishes: when that would give a small group back
    by subtraction, the counts of another group are hidden too (``"*"``, complementary
    suppression, :func:`hopia.data.cohorts.suppression.protect`); its metrics stay.
    """
    rows = []
    for variable, values in groups:
        ordered = sorted(pd.unique(values), key=_group_order)
        sizes = {str(v): int(pd.Series(patients[values == v]).nunique()) for v in ordered}
        table = Table(sizes | {"__total__": sum(sizes.values())}, fixed={"__total__"})
        table.add_sum("__total__", list(sizes))
        published = protect(table, MIN_PATIENTS)
        for value in ordered:
            mask = values == value
            n_patients = sizes[str(value)]
            row: dict[str, object] = {"variable": variable, "group": str(value)}
            if published[str(value)] == HIDDEN:
                row |= {"patients": HIDDEN, "stays": HIDDEN, "positives": HIDDEN}
                row |= {k: _none_if_nan(v) for k, v in _metrics(y[mask], p[mask]).items()}
                row |= {"mean_predicted": float(p[mask].mean())}
            elif n_patients < MIN_PATIENTS:
                row |= {"patients": SUPPRESSED, "stays": SUPPRESSED, "positives": SUPPRESSED}
                row |= {"auroc": None, "auprc": None, "brier": None, "mean_predicted": None}
            else:
                pos = int(y[mask].sum())
                row |= {
                    "patients": str(n_patients),
                    "stays": str(int(mask.sum())),
                    "positives": SUPPRESSED if 0 < pos < MIN_PATIENTS else str(pos),
                    **{k: _none_if_nan(v) for k, v in _metrics(y[mask], p[mask]).items()},
                    "mean_predicted": float(p[mask].mean()),
                }
            rows.append(row)
    return pd.DataFrame(rows)


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as dictionaries, missing values as None (JSON has no NaN)."""
    return [
        {k: None if isinstance(v, float) and np.isnan(v) else v for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def _group_order(value: object) -> tuple[int, str]:
    return (AGE_ORDER.index(value) if value in AGE_ORDER else len(AGE_ORDER), str(value))


def _none_if_nan(x: float) -> float | None:
    return None if np.isnan(x) else x

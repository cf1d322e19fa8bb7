"""Prediction targets on index stays: 30-day readmission and long length of stay.

A target knows when its prediction is made (its *cutoff*, which bounds the features) and when
its label becomes known (which bounds the training set of a temporal split). Stays whose
outcome cannot be observed are excluded, with a count per reason for the model card.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

TARGETS = ("readmission_30d", "long_stay")


@dataclass(frozen=True)
class Labels:
    """Labels of the stays kept (``stay_id``, ``label``, ``label_known_date``) and exclusions."""

    frame: pd.DataFrame
    excluded: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TargetSpec:
    """What to predict.

    Parameters
    ----------
    name : {"readmission_30d", "long_stay"}
    horizon_days : int
        Readmission window after discharge (30 for ``readmission_30d``).
    min_los_days : int
        ``long_stay`` is a length of stay (discharge minus admission, in days) of at least this.
    """

    name: str = "readmission_30d"
    horizon_days: int = 30
    min_los_days: int = 7

    def __post_init__(self) -> None:
        if self.name not in TARGETS:
            raise ValueError(f"cible inconnue {self.name!r} (disponibles : {', '.join(TARGETS)})")
        if self.horizon_days < 1 or self.min_los_days < 1:
            raise ValueError("horizon_days et min_los_days doivent être >= 1")

    @property
    def label(self) -> str:
        """Display name: ``readmission_90d`` when the horizon is 90 days."""
        return f"readmission_{self.horizon_days}d" if self.name == "readmission_30d" else self.name

    @property
    def cutoff(self) -> str:
        """Readmission is predicted at discharge; length of stay at admission."""
        return "discharge" if self.name == "readmission_30d" else "admission"

    def describe(self) -> str:
        if self.name == "readmission_30d":
            return (
                f"Un autre séjour hospitalier commençant 1 à {self.horizon_days} jours après la "
                "sortie (toute cause, programmé ou non), prédit à la sortie."
            )
        return f"Durée de séjour ≥ {self.min_los_days} jours, prédite à l'admission."

    def labels(
        self,
        stays: pd.DataFrame,
        *,
        observation_end: pd.Timestamp | None,
        deaths: pd.DataFrame | None = None,
    ) -> Labels:
        if self.name == "readmission_30d":
            return readmission_labels(
                stays,
                horizon_days=self.horizon_days,
                observation_end=observation_end,
                deaths=deaths,
            )
        return long_stay_labels(stays, min_los_days=self.min_los_days)


def readmission_labels(
    stays: pd.DataFrame,
    *,
    horizon_days: int = 30,
    observation_end: pd.Timestamp | None = None,
    deaths: pd.DataFrame | None = None,
) -> Labels:
    """1 when the person's next stay starts within ``horizon_days`` after this one's discharge.

    Stays are those of :func:`~hopia.data.predict.features.build_stays`: visits that touch are
    already merged, so a transfer is not a readmission. Excluded: stays ending with the
    patient's death (no readmission possible) and stays whose window runs past
    ``observation_end`` (the outcome is not yet in the warehouse).
    """
    s = stays.sort_values(["person_id", "admission_date", "stay_id"]).copy()
    next_admission = s.groupby("person_id")["admission_date"].shift(-1)
    horizon = pd.Timedelta(days=horizon_days)
    gap = next_admission - s["discharge_date"]
    s["label"] = (gap.notna() & (gap > pd.Timedelta(0)) & (gap <= horizon)).astype(int)
    s["label_known_date"] = s["discharge_date"] + horizon
    keep = pd.Series(True, index=s.index)
    excluded: dict[str, int] = {}
    if deaths is not None and not deaths.empty:
        died = s["person_id"].map(deaths.groupby("person_id")["death_date"].min())
        in_stay = died.notna() & (died <= s["discharge_date"])
        excluded["death_during_stay"] = int((in_stay & keep).sum())
        keep &= ~in_stay
    if observation_end is not None:
        # All of them, readmitted or not: keeping the early positives would bias prevalence.
        unobserved = s["label_known_date"] > observation_end
        excluded["window_after_data_end"] = int((unobserved & keep).sum())
        keep &= ~unobserved
    frame = s.loc[keep, ["stay_id", "label", "label_known_date"]].reset_index(drop=True)
    return Labels(frame, excluded)


def long_stay_labels(stays: pd.DataFrame, *, min_los_days: int = 7) -> Labels:
    """1 when the stay lasts at least ``min_los_days`` days; known at discharge."""
    frame = stays[["stay_id"]].copy()
    frame["label"] = (stays["los_days"] >= min_los_days).astype(int)
    frame["label_known_date"] = stays["discharge_date"]
    return Labels(frame.reset_index(drop=True), {})

"""Early unplanned readmissions: who comes back within 30 days of an inpatient stay, and why.

The probability is a logistic model of what a clinician would weigh at discharge, fixed from
clinical plausibility (not fitted to anything): age, the burden of chronic disease (heart failure,
COPD, chronic kidney disease, cancer, diabetes and the number of conditions), the severity of the
stay's episode, abnormal labs, the length of stay and the stays of the past year. The intercept
sets the overall rate near 15 % of inpatient stays, as in French medicine wards (it was set once
from the generated rate, 2,000 patients, seed 7; never from a model's result).

The readmission itself is a medical stay, often through the emergency department, for a reason
that follows from the patient's conditions or from the stay before (a decompensation after
heart failure, a febrile neutropenia under chemotherapy, a fall or a confusion in the very old).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import timedelta

from .episodes import EPISODES
from .model import SynthPatient, Visit
from .scenarios import Episode

INPATIENT_KINDS = ("hospitalisation", "chirurgie")
MAX_CHAIN = 3  # readmissions in a row after one planned stay, at most

INTERCEPT = -3.75
# How much each episode raises (or lowers) the risk of an early return, on the logit scale.
# fmt: off
EPISODE_SEVERITY: dict[str, float] = {
    "decomp_ic": 0.9, "sca": 0.3, "fa_rapide": 0.2, "syncope": -0.2,
    "exa_bpco": 0.7, "pneumopathie": 0.3, "covid": 0.4, "ep": 0.3, "epanchement": 0.5,
    "pneumothorax": 0.0,
    "ira": 0.5, "hyperk": 0.3, "pna": 0.0, "nephrotique": 0.3,
    "diab_desequilibre": 0.1, "acidocetose": 0.3, "hypoglycemie": 0.2,
    "neutropenie_febrile": 0.6, "aeg": 0.9,
    "chute": 0.3, "confusion": 0.5, "deshydratation": 0.4, "pneumo_inhal": 0.7,
    "infection_urinaire": 0.2,
    "cholecystite": -0.4, "appendicite": -0.8, "sigmoidite": 0.1, "occlusion": 0.4,
    "hernie": -1.2, "k_colon": 0.4,
}
# fmt: on
CANCER_PREFIXES = ("k_", "meta_")
CANCER_KEYS = frozenset({"chc", "lymphome"})
_BY_KEY: dict[str, Episode] = {e.key: e for e in EPISODES}


@dataclass(frozen=True)
class RiskFactors:
    """What the risk model reads at discharge (kept for tests and for explaining a draw)."""

    age: int
    chronic: int
    heart_failure: bool
    copd: bool
    kidney: bool
    cancer: bool
    diabetes: bool
    severity: float
    creatinine_high: bool
    hemoglobin_low: bool
    ntprobnp_high: bool
    albumin_low: bool
    los_days: int
    prior_stays: int

    def logit(self) -> float:
        return (
            INTERCEPT
            + 0.035 * (self.age - 65)
            + 0.10 * min(self.chronic, 8)
            + 0.55 * self.heart_failure
            + 0.45 * self.copd
            + 0.40 * self.kidney
            + 0.50 * self.cancer
            + 0.25 * self.diabetes
            + self.severity
            + 0.35 * self.creatinine_high
            + 0.35 * self.hemoglobin_low
            + 0.45 * self.ntprobnp_high
            + 0.30 * self.albumin_low
            + 0.05 * (min(self.los_days, 14) - 5)
            + 0.40 * min(self.prior_stays, 3)
        )

    def probability(self) -> float:
        return 1.0 / (1.0 + math.exp(-self.logit()))


def is_cancer(key: str) -> bool:
    return key.startswith(CANCER_PREFIXES) or key in CANCER_KEYS


def risk_factors(p: SynthPatient, stay: Visit, earlier: list[Visit]) -> RiskFactors:
    """The risk factors of ``p`` at the discharge of ``stay``; ``earlier``: their previous
    inpatient stays."""
    c = set(p.conditions)
    labs = stay.labs
    year_before = stay.start - timedelta(days=365)
    return RiskFactors(
        age=p.age_at(stay.end),
        chronic=len(c),
        heart_failure="ic" in c,
        copd="bpco" in c or "irc_resp" in c,
        kidney="irc" in c or "irct" in c,
        cancer=any(is_cancer(k) for k in c),
        diabetes="dt1" in c or "dt2" in c,
        severity=EPISODE_SEVERITY.get(stay.episode.key, 0.0) if stay.episode else 0.0,
        creatinine_high=labs.get("creatinine", 0) > 150,
        hemoglobin_low=labs.get("hemoglobine", 99) < 10,
        ntprobnp_high=labs.get("ntprobnp", 0) > 2000,
        albumin_low=labs.get("albumine", 99) < 30,
        los_days=(stay.end - stay.start).days,
        prior_stays=sum(year_before <= s.start < stay.start for s in earlier),
    )


def readmission_probability(p: SynthPatient, stay: Visit, earlier: list[Visit]) -> float:
    """Probability of an unplanned readmission within 30 days of ``stay`` (0 if not inpatient)."""
    if stay.kind not in INPATIENT_KINDS:
        return 0.0
    return risk_factors(p, stay, earlier).probability()


def readmission_delay(rng: random.Random) -> int:
    """Days from discharge to readmission: 2 to 30, most in the first two weeks."""
    return round(rng.triangular(2, 30, 4))


def readmission_reason(rng: random.Random, p: SynthPatient, stay: Visit) -> Episode:
    """Why the patient comes back: a medical episode their conditions or the stay lead to."""
    c = set(p.conditions)
    weighted: list[tuple[str, float]] = [("pneumopathie", 1.0)]  # the all-comers' reason
    if stay.kind == "hospitalisation" and stay.episode is not None:
        weighted.append((stay.episode.key, 2.0))  # the same illness again
    if stay.kind == "chirurgie":
        weighted += [("ep", 0.7), ("pna", 0.5)]  # after surgery: thrombosis, infection
    if "ic" in c:
        weighted.append(("decomp_ic", 3.0))
    if "fa" in c:
        weighted.append(("fa_rapide", 1.0))
    if "bpco" in c:
        weighted.append(("exa_bpco", 3.0))
    if "irc" in c or "irct" in c:
        weighted += [("ira", 1.5), ("hyperk", 1.0)]
    if "dt2" in c:
        weighted += [("diab_desequilibre", 0.7), ("hypoglycemie", 0.7)]
    if "dt1" in c:
        weighted.append(("acidocetose", 1.0))
    if any(is_cancer(k) for k in c):
        weighted += [("neutropenie_febrile", 2.0), ("aeg", 2.0)]
    if p.age_at(stay.end) >= 75:
        for key in ("chute", "confusion", "deshydratation", "pneumo_inhal", "infection_urinaire"):
            weighted.append((key, 0.8))
    episodes = [
        (_BY_KEY[k], w)
        for k, w in weighted
        if k in _BY_KEY
        and _BY_KEY[k].kind == "hospitalisation"
        and all(r in c for r in _BY_KEY[k].requires)
    ]
    chosen = rng.choices([e for e, _ in episodes], weights=[w for _, w in episodes])[0]
    return chosen

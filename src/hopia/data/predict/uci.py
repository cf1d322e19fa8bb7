"""UCI "Diabetes 130-US hospitals" (Strack et al. 2014): loader, features, split.

101,766 encounters of diabetic inpatients, 1999–2008, with ``readmitted`` in {``<30``, ``>30``,
``NO``}. The usual preprocessing is applied: encounters ending in death or hospice
(``discharge_disposition_id`` 11, 13, 14, 19, 20, 21) are excluded, since no readmission can
follow them. The data set has **no dates**: the only ordering available is the encounter id.
The split therefore orders patients by their first encounter id and puts the last ones in the
test set; every encounter of a patient falls on the same side (no patient in both sets).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hopia.data.predict.features import safe_name
from hopia.platform.exceptions import PredictError

MEMBER = "diabetic_data.csv"
EXCLUDED_DISPOSITIONS = {11, 13, 14, 19, 20, 21}  # expired or hospice
NUMERIC = {
    "time_in_hospital": "los_days",
    "num_lab_procedures": "num_lab_procedures",
    "num_procedures": "num_procedures",
    "num_medications": "num_medications",
    "number_outpatient": "prior_outpatient_1y",
    "number_emergency": "prior_emergency_1y",
    "number_inpatient": "prior_inpatient_1y",
    "number_diagnoses": "number_diagnoses",
}
CATEGORICAL = [
    "race",
    "admission_type_id",
    "discharge_disposition_id",
    "admission_source_id",
    "medical_specialty",
    "payer_code",
    "max_glu_serum",
    "A1Cresult",
]
MEDICATIONS = [
    "metformin", "repaglinide", "nateglinide", "chlorpropamide", "glimepiride", "acetohexamide",
    "glipizide", "glyburide", "tolbutamide", "pioglitazone", "rosiglitazone", "acarbose",
    "miglitol", "troglitazone", "tolazamide", "examide", "citoglipton", "insulin",
    "glyburide-metformin", "glipizide-metformin", "glimepiride-pioglitazone",
    "metformin-rosiglitazone", "metformin-pioglitazone",
]  # fmt: skip
REQUIRED = [
    "encounter_id", "patient_nbr", "gender", "age", "readmitted", "diag_1", "diag_2", "diag_3",
    "change", "diabetesMed", *NUMERIC, *CATEGORICAL, *MEDICATIONS,
]  # fmt: skip
# ICD-9 groups of Strack et al. (table 2), by 3-digit category.
ICD9_GROUPS = [
    ("circulatory", [(390, 459), (785, 785)]),
    ("respiratory", [(460, 519), (786, 786)]),
    ("digestive", [(520, 579), (787, 787)]),
    ("diabetes", [(250, 250)]),
    ("injury", [(800, 999)]),
    ("musculoskeletal", [(710, 739)]),
    ("genitourinary", [(580, 629), (788, 788)]),
    ("neoplasms", [(140, 239)]),
]


@dataclass(frozen=True)
class UciData:
    """Features (with ``stay_id``, ``person_id``, ``sex``, ``age`` and ``label``) and counts."""

    frame: pd.DataFrame
    feature_columns: list[str]
    n_raw: int
    excluded: dict[str, int]


def read_uci(path: Path) -> pd.DataFrame:
    """The raw encounters of the UCI zip (or of ``diabetic_data.csv`` itself)."""
    path = Path(path)
    if not path.is_file():
        raise PredictError(f"{path} : fichier introuvable", fields=("data",))
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if n.endswith(MEMBER)]
                if not names:
                    raise PredictError(f"{path} : {MEMBER} absent de l'archive", fields=("data",))
                raw = zf.read(names[0])
        else:
            raw = path.read_bytes()
        frame = pd.read_csv(
            io.BytesIO(raw), na_values=["?"], keep_default_na=False, low_memory=False
        )
    except (zipfile.BadZipFile, pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise PredictError(f"{path} : lecture impossible ({exc})", fields=("data",)) from exc
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise PredictError(
            f"{path} : colonnes absentes : {', '.join(missing[:8])}", fields=("data",)
        )
    return frame


def load_uci(path: Path, *, sample_patients: int | None = None, random_state: int = 0) -> UciData:
    """Read, exclude death/hospice discharges, build features and the ``<30`` label."""
    raw = read_uci(path)
    n_raw = len(raw)
    if sample_patients is not None:
        patients = raw["patient_nbr"].drop_duplicates()
        chosen = patients.sample(min(sample_patients, len(patients)), random_state=random_state)
        raw = raw[raw["patient_nbr"].isin(chosen)]
    dead = raw["discharge_disposition_id"].isin(EXCLUDED_DISPOSITIONS)
    excluded = {"death_or_hospice": int(dead.sum())}
    df = raw[~dead].sort_values("encounter_id").reset_index(drop=True)
    features = uci_features(df)
    meta = pd.DataFrame(
        {
            "stay_id": df["encounter_id"].to_numpy(),
            "person_id": df["patient_nbr"].to_numpy(),
            "sex": df["gender"].map({"Female": "F", "Male": "M"}).fillna("?").to_numpy(),
            "label": (df["readmitted"] == "<30").astype(int).to_numpy(),
        }
    )
    frame = pd.concat([meta, features], axis=1)
    return UciData(frame, list(features.columns), n_raw, excluded)


def _age_midpoint(bracket: pd.Series) -> pd.Series:
    bounds = bracket.astype(str).str.extract(r"\[(\d+)-(\d+)\)").astype(float)
    return (bounds[0] + bounds[1]) / 2


def icd9_group(code: object) -> str:
    """Strack et al.'s diagnosis group of an ICD-9 code (``other`` outside them)."""
    if not isinstance(code, str) or not re.match(r"^\d", code):
        return "other" if isinstance(code, str) else "missing"
    category = int(float(code))
    for name, ranges in ICD9_GROUPS:
        if any(lo <= category <= hi for lo, hi in ranges):
            return name
    return "other"


def uci_features(df: pd.DataFrame) -> pd.DataFrame:
    cols: dict[str, pd.Series] = {
        "age": _age_midpoint(df["age"]),
        "sex_female": (df["gender"] == "Female").astype(float),
    }
    for column, name in NUMERIC.items():
        cols[name] = pd.to_numeric(df[column], errors="coerce").astype(float)
    diags = df[["diag_1", "diag_2", "diag_3"]].astype("string")
    groups = diags.apply(lambda col: col.map(icd9_group, na_action="ignore"))
    for name, _ in [*ICD9_GROUPS, ("other", None)]:
        cols[f"dx1_{name}"] = (groups["diag_1"] == name).astype(float)
        cols[f"dx_{name}"] = (groups == name).any(axis=1).astype(float)
    for med in MEDICATIONS:
        name = safe_name(med)
        cols[f"med_{name}"] = (df[med] != "No").astype(float)
        cols[f"med_{name}_up"] = (df[med] == "Up").astype(float)
        cols[f"med_{name}_down"] = (df[med] == "Down").astype(float)
    cols["med_change"] = (df["change"] == "Ch").astype(float)
    cols["diabetes_med"] = (df["diabetesMed"] == "Yes").astype(float)
    categorical = df[CATEGORICAL].astype("string").fillna("missing")
    dummies = pd.get_dummies(categorical, prefix=CATEGORICAL, dtype=np.float32)
    # Any of the three diagnoses, by 3-digit category: built in place, float32 (a dense
    # crosstab of 100,000 encounters x 700 categories in int64 would take 0.6 GB per copy).
    categories = diags.apply(lambda col: col.str.split(".").str[0]).to_numpy(dtype=object)
    rows, slots = np.nonzero(pd.notna(categories))
    codes, names = pd.factorize(categories[rows, slots])
    icd = np.zeros((len(df), len(names)), dtype=np.float32)
    icd[rows, codes] = 1.0
    icd_frame = pd.DataFrame(icd, index=df.index, columns=[f"icd9_{safe_name(n)}" for n in names])
    out = pd.concat(
        [pd.DataFrame(cols, index=df.index), dummies.rename(columns=safe_name), icd_frame], axis=1
    )
    out.columns = [str(c) for c in out.columns]
    return out.astype(np.float32)  # half the memory of float64, the same models


def patient_order_split(
    encounter_order: pd.Series, patients: pd.Series, *, test_fraction: float = 0.25
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of train and test encounters: the last ``test_fraction`` of patients, ordered
    by their first encounter, form the test set (no patient on both sides)."""
    if not 0 < test_fraction < 1:
        raise ValueError("test_fraction must be between 0 and 1")
    first = encounter_order.groupby(patients.to_numpy()).min().sort_values()
    n_test = max(1, int(round(len(first) * test_fraction)))
    test_patients = set(first.index[len(first) - n_test :])
    is_test = patients.isin(test_patients).to_numpy()
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)

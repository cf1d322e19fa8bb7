"""Saved models: one folder with the model file, its card and the calibration plot.

``model.joblib`` is a pickle: loading one runs code. The card records its sha256 and
:func:`load_model` refuses a file whose digest differs, so a model swapped or altered after
training is not loaded. The folder is written aside and renamed into place: an interrupted save
leaves no half-written model behind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
from sklearn.pipeline import Pipeline

from hopia.data.predict.card import card_markdown, plot_calibration
from hopia.platform.exceptions import ConflictError, PredictError
from hopia.platform.files import sha256_file, staging_dir

MODEL_FILE = "model.joblib"
CARD_JSON = "card.json"
CARD_MD = "card.md"
CALIBRATION_PNG = "calibration.png"
BUNDLE_FORMAT = 1


@dataclass(frozen=True)
class SavedModel:
    """A loaded model folder."""

    pipeline: Pipeline
    feature_columns: list[str]
    card: dict[str, Any]
    path: Path


def check_model_folder(out: Path, force: bool = False) -> None:
    """Refuse a model folder that cannot be written: a file, or a non-empty folder unless
    ``force``. Checked before training too: minutes of training must not end in this refusal."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise PredictError(f"{out} : existe et n'est pas un dossier", fields=("out",))
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ConflictError(
            f"{out} : dossier non vide ; autorisez son remplacement", fields=("out", "force")
        )


def save_model(
    out: Path,
    pipeline: Pipeline,
    feature_columns: list[str],
    card: dict[str, Any],
    calibration: pd.DataFrame,
    *,
    force: bool = False,
) -> Path:
    """Write the model folder ``out``; refuses a non-empty folder unless ``force``.

    The files are written in a staging folder that replaces ``out`` whole once complete
    (:func:`hopia.platform.files.replace_dir`): no reader sees half a model."""
    out = Path(out)
    check_model_folder(out, force)
    # Learnt from patient-level data (and its card describes that population): owner-only.
    with staging_dir(out, private=True) as folder:
        staging = folder.path
        bundle = {
            "format": BUNDLE_FORMAT,
            "pipeline": pipeline,
            "feature_columns": list(feature_columns),
        }
        joblib.dump(bundle, staging / MODEL_FILE)
        card["provenance"]["model_file"] = MODEL_FILE
        card["provenance"]["model_sha256"] = sha256_file(staging / MODEL_FILE)
        (staging / CARD_JSON).write_text(
            json.dumps(card, indent=1, ensure_ascii=False, default=str) + "\n", "utf-8"
        )
        (staging / CARD_MD).write_text(card_markdown(card), "utf-8")
        plot_calibration(calibration, staging / CALIBRATION_PNG, title=card["title"])
    return out


def read_card(folder: Path) -> dict[str, Any]:
    path = Path(folder) / CARD_JSON
    if not path.is_file():
        raise PredictError(
            f"{path} : carte du modèle absente (ce dossier n'est pas un modèle)", fields=("model",)
        )
    try:
        card = json.loads(path.read_text("utf-8"))
        card["provenance"]["model_sha256"]  # noqa: B018 - must exist
    except (ValueError, KeyError, TypeError) as exc:
        raise PredictError(
            f"{path} : carte du modèle illisible ({exc})", fields=("model",)
        ) from exc
    return card


def load_model(folder: Path) -> SavedModel:
    """Load a model folder after checking the model file against the sha256 in its card."""
    folder = Path(folder)
    card = read_card(folder)
    path = folder / MODEL_FILE
    if not path.is_file():
        raise PredictError(f"{path} : fichier du modèle absent", fields=("model",))
    expected = card["provenance"]["model_sha256"]
    if sha256_file(path) != expected:
        raise PredictError(
            f"{path} : empreinte sha256 différente de celle de la carte ({CARD_JSON}) ; "
            "fichier modifié ou remplacé, chargement refusé"
        )
    try:
        bundle = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file
        raise PredictError(f"{path} : modèle illisible ({type(exc).__name__})") from exc
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise PredictError(f"{path} : format de modèle inconnu")
    return SavedModel(bundle["pipeline"], list(bundle["feature_columns"]), card, folder)

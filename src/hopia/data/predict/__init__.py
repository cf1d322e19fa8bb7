"""Predictive medicine: features from the OMOP warehouse, baseline models, evaluation, cards.

``hopia predict`` is the command-line entry point; the modules are:

- :mod:`.features`: index stays and their features, nothing dated after the prediction time;
- :mod:`.targets`: 30-day readmission, long stay;
- :mod:`.models`: logistic regression and gradient boosting pipelines (scikit-learn contract);
- :mod:`.evaluate`: temporal split, AUROC/AUPRC/Brier, calibration, suppressed subgroups;
- :mod:`.card`, :mod:`.store`: model card and sha256-checked model folders;
- :mod:`.uci`: the UCI diabetes 130-US hospitals data set;
- :mod:`.train`: the whole run, from data to a saved model.
"""

from hopia.data.predict.store import SavedModel, load_model, save_model
from hopia.data.predict.targets import TargetSpec
from hopia.data.predict.train import PredictConfig, TrainResult, train_uci, train_warehouse

__all__ = [
    "SavedModel",
    "TargetSpec",
    "PredictConfig",
    "TrainResult",
    "load_model",
    "save_model",
    "train_uci",
    "train_warehouse",
]

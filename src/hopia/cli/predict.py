"""``hopia predict``: train and evaluate risk models (warehouse or UCI), with a model card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from hopia.cli._common import console, handle_errors

app = typer.Typer(
    help="Médecine prédictive : réadmission, durée de séjour ; cartes de modèle.",
    no_args_is_help=True,
)

_MODEL = typer.Option("gbm", "--model", help="Modèle : gbm (LightGBM) ou logistic.")
_OUT = typer.Option(..., "--out", "-o", help="Dossier du modèle (model.joblib, card.md/json).")
_FORCE = typer.Option(False, "--force", help="Remplacer le dossier s'il n'est pas vide.")
_SEED = typer.Option(42, "--seed", help="Graine (modèle et bootstrap).")
_TEST = typer.Option(0.25, "--test-fraction", min=0.05, max=0.5, help="Part du jeu de test.")
_BOOT = typer.Option(500, "--bootstrap", min=0, help="Rééchantillonnages de l'IC de l'AUROC.")
_THREADS = typer.Option(2, "--threads", min=1, max=2, help="Fils de calcul de LightGBM (1 ou 2).")


def _num(x: Any, digits: int = 3) -> str:
    return "–" if x is None or x != x else f"{x:.{digits}f}"


def _print_evaluation(ev: Any, title: str) -> None:  # ev: Evaluation, imported lazily
    table = Table(title=escape(title), show_header=False)
    table.add_row("Séjours / patients", f"{ev.n_stays} / {ev.n_patients}")
    table.add_row("Prévalence", _num(ev.prevalence))
    lo, hi = ev.auroc_ci
    table.add_row("AUROC (IC 95 %)", f"{_num(ev.auroc)} ({_num(lo)}–{_num(hi)})")
    table.add_row("AUPRC", _num(ev.auprc))
    table.add_row("Score de Brier", _num(ev.brier, 4))
    console.print(table)
    calib = Table(title="Calibration (déciles de risque prédit)")
    for name in ("Décile", "Risque prédit", "Taux observé", "Séjours"):
        calib.add_column(name, justify="right")
    for r in ev.calibration.itertuples():
        calib.add_row(str(r.bin), _num(r.mean_predicted), _num(r.observed_rate), str(r.n))
    console.print(calib)
    groups = Table(title="Sous-groupes (moins de 10 patients : masqués)")
    for name in ("Variable", "Groupe", "Patients", "Séjours", "Positifs", "AUROC", "Brier"):
        groups.add_column(name, justify="left" if name in ("Variable", "Groupe") else "right")
    for r in ev.subgroups.to_dict(orient="records"):
        groups.add_row(
            r["variable"], r["group"], r["patients"], r["stays"], r["positives"],
            _num(r["auroc"]), _num(r["brier"], 4),
        )  # fmt: skip
    console.print(groups)


def _report(result: Any, out: Path) -> None:  # result: TrainResult
    kept = result.card["features"]["kept"]
    console.print(
        f"Apprentissage : {result.train.n_stays} séjours ({result.train.n_positive} positifs), "
        f"{kept} variables retenues ; AUROC apprentissage {_num(result.train.auroc)}"
    )
    _print_evaluation(result.test, f"Test : {result.card['title']}")
    console.print(f"Modèle et carte écrits dans {escape(str(out))} (card.md, card.json)")


@app.command("train")
def train(
    out: Path = _OUT,
    target: str = typer.Option("readmission_30d", "--target", help="readmission_30d | long_stay"),
    model: str = _MODEL,
    horizon: int = typer.Option(30, "--horizon", min=1, help="Fenêtre de réadmission (jours)."),
    long_stay_days: int = typer.Option(7, "--long-stay-days", min=1, help="Seuil long séjour."),
    stay_gap: int = typer.Option(
        1, "--stay-gap", min=0, help="Visites hospitalières à moins de N jours : un même séjour."
    ),
    test_fraction: float = _TEST,
    min_count: int = typer.Option(10, "--min-count", min=1, help="Présence minimale d'un code."),
    seed: int = _SEED,
    bootstrap: int = _BOOT,
    threads: int = _THREADS,
    force: bool = _FORCE,
) -> None:
    """Entraîner un modèle sur l'entrepôt configuré (séparation temporelle)."""
    from hopia.data.predict import train_warehouse
    from hopia.platform import audit
    from hopia.platform.config import get_settings
    from hopia.platform.warehouse import open_warehouse

    with handle_errors():
        config = _config(
            {"name": target, "horizon_days": horizon, "min_los_days": long_stay_days},
            model=model,
            stay_gap_days=stay_gap,
            test_fraction=test_fraction,
            min_count=min_count,
            seed=seed,
            n_bootstrap=bootstrap,
            n_threads=threads,
        )
        wh = open_warehouse(get_settings())
        with console.status("Lecture de l'entrepôt et apprentissage…"):
            result = train_warehouse(wh, config)
            _save(result, out, force)
        prov = result.card["provenance"]
        with wh.begin() as conn:  # who trained what, on how many stays: counts and hashes only
            audit.record(
                conn,
                None,
                "predict.train",
                f"model:{config.target.label}:{config.model}",
                details={
                    "config_sha256": prov["config_sha256"],
                    "model_sha256": prov["model_sha256"],
                    "stays": result.card["data"]["stays_labelled"],
                },
            )
    _report(result, out)


def _save(result: Any, out: Path, force: bool) -> None:
    """Write a training result's model folder (see ``hopia.data.predict.save_model``)."""
    from hopia.data.predict import save_model

    save_model(
        out,
        result.pipeline,
        result.feature_columns,
        result.card,
        result.test.calibration,
        force=force,
    )


def _config(target: dict[str, Any], **values: Any) -> Any:
    """The training configuration; an invalid option is the user's error (exit 2)."""
    from hopia.data.predict import PredictConfig, TargetSpec
    from hopia.data.predict.models import MODELS
    from hopia.platform.exceptions import PredictError

    if values["model"] not in MODELS:
        raise PredictError(f"modèle inconnu {values['model']!r} (disponibles : gbm, logistic)")
    try:
        return PredictConfig(target=TargetSpec(**target), **values)
    except ValueError as exc:
        raise PredictError(str(exc)) from exc


@app.command("uci")
def uci(
    data: Path = typer.Option(..., "--data", help="Archive UCI diabetes (zip) ou son CSV."),
    out: Path = _OUT,
    model: str = _MODEL,
    sample: int | None = typer.Option(
        None, "--sample", min=10, help="N'utiliser que N patients tirés au hasard (essais)."
    ),
    test_fraction: float = _TEST,
    seed: int = _SEED,
    bootstrap: int = _BOOT,
    threads: int = _THREADS,
    force: bool = _FORCE,
) -> None:
    """Entraîner et évaluer sur UCI Diabetes 130-US hospitals (réadmission < 30 jours)."""
    from hopia.data.predict import train_uci

    with handle_errors():
        config = _config(
            {"name": "readmission_30d"},
            model=model,
            test_fraction=test_fraction,
            seed=seed,
            n_bootstrap=bootstrap,
            n_threads=threads,
        )
        with console.status("Lecture des données UCI et apprentissage…"):
            result = train_uci(data, config, sample_patients=sample)
            _save(result, out, force)
    _report(result, out)


@app.command("evaluate")
def evaluate(
    model_dir: Path = typer.Option(..., "--model", help="Dossier d'un modèle entraîné."),
    data: Path | None = typer.Option(None, "--data", help="Données UCI (modèles UCI seulement)."),
) -> None:
    """Réévaluer un modèle enregistré (empreinte vérifiée) sur ses données de test à jour."""
    from hopia.data.predict import load_model
    from hopia.data.predict.train import evaluate_saved_on_uci, evaluate_saved_on_warehouse
    from hopia.platform.config import get_settings
    from hopia.platform.exceptions import PredictError
    from hopia.platform.warehouse import open_warehouse

    with handle_errors():
        saved = load_model(model_dir)
        if saved.card.get("data_kind") == "uci":
            if data is None:
                raise PredictError(f"{model_dir} : modèle UCI, préciser --data")
            ev = evaluate_saved_on_uci(saved, data)
        else:
            ev = evaluate_saved_on_warehouse(saved, open_warehouse(get_settings()))
    console.print(
        f"Empreinte du modèle vérifiée ({saved.card['provenance']['model_sha256'][:12]}…)"
    )
    recorded = saved.card["evaluation"]["test"]["auroc"]
    _print_evaluation(ev, f"Réévaluation : {saved.card['title']}")
    console.print(f"AUROC à l'apprentissage : {_num(recorded)} ; maintenant : {_num(ev.auroc)}")

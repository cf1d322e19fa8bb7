"""``hopia predict``: train and evaluate risk models (warehouse or UCI), with a model card.

A thin adapter over :mod:`hopia.services.predict`, which checks the options, audits and saves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from hopia.cli._common import console, context, handle_errors

app = typer.Typer(
    help="Médecine prédictive : réadmission, durée de séjour ; cartes de modèle.",
    no_args_is_help=True,
)

_MODEL = typer.Option(
    "gbm",
    "--model",
    help="Modèle : gbm (LightGBM), logistic, ou un modèle ajouté par une extension.",
)
_OUT = typer.Option(..., "--out", "-o", help="Dossier du modèle (model.joblib, card.md/json).")
_FORCE = typer.Option(False, "--force", help="Remplacer le dossier s'il n'est pas vide.")
_SEED = typer.Option(42, "--seed", help="Graine (modèle et bootstrap).")
_TEST = typer.Option(0.25, "--test-fraction", min=0.05, max=0.5, help="Part du jeu de test.")
_BOOT = typer.Option(500, "--bootstrap", min=0, help="Rééchantillonnages de l'IC de l'AUROC.")
_THREADS = typer.Option(
    None,
    "--threads",
    min=1,
    max=2,
    help="Fils de calcul de LightGBM (1 ou 2 ; défaut : data.predict.threads).",
)


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
    threads: int | None = _THREADS,
    force: bool = _FORCE,
) -> None:
    """Entraîner un modèle sur l'entrepôt configuré (séparation temporelle)."""
    from hopia.services import predict

    with handle_errors(), context() as ctx:
        request = predict.TrainRequest.of(
            out=out,
            target=target,
            model=model,
            horizon=horizon,
            long_stay_days=long_stay_days,
            stay_gap=stay_gap,
            test_fraction=test_fraction,
            min_count=min_count,
            seed=seed,
            bootstrap=bootstrap,
            threads=threads,
            force=force,
        )
        with console.status("Lecture de l'entrepôt et apprentissage…"):
            trained = predict.train(ctx, request)
    _report(trained.result, trained.out)


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
    threads: int | None = _THREADS,
    force: bool = _FORCE,
) -> None:
    """Entraîner et évaluer sur UCI Diabetes 130-US hospitals (réadmission < 30 jours)."""
    from hopia.services import predict

    with handle_errors(), context() as ctx:
        request = predict.UciTrainRequest.of(
            data=data,
            out=out,
            model=model,
            sample=sample,
            test_fraction=test_fraction,
            seed=seed,
            bootstrap=bootstrap,
            threads=threads,
            force=force,
        )
        with console.status("Lecture des données UCI et apprentissage…"):
            trained = predict.train_uci(ctx, request)
    _report(trained.result, trained.out)


@app.command("evaluate")
def evaluate(
    model_dir: Path = typer.Option(..., "--model", help="Dossier d'un modèle entraîné."),
    data: Path | None = typer.Option(None, "--data", help="Données UCI (modèles UCI seulement)."),
) -> None:
    """Réévaluer un modèle enregistré (empreinte vérifiée) sur ses données de test à jour."""
    from hopia.services import predict

    with handle_errors(), context() as ctx:
        evaluated = predict.evaluate(ctx, predict.EvaluateRequest.of(model=model_dir, data=data))
    saved, ev = evaluated.saved, evaluated.evaluation
    console.print(
        f"Empreinte du modèle vérifiée ({saved.card['provenance']['model_sha256'][:12]}…)"
    )
    recorded = saved.card["evaluation"]["test"]["auroc"]
    _print_evaluation(ev, f"Réévaluation : {saved.card['title']}")
    console.print(f"AUROC à l'apprentissage : {_num(recorded)} ; maintenant : {_num(ev.auroc)}")
